"""compare on Dask (a LocalCluster of 2 worker processes) against local compare, same files.

On one machine this measures the overhead of going through a cluster (tasks, footers read
by the workers, states shipped and summed), not a speed-up: the same 2 cores do the work.
The cluster is started once and warmed (workers import the kernels) before timing; the
CLI's ``--dask local:2``, which starts and closes its own cluster, is timed beside (info).
"""

from __future__ import annotations

import logging
import pickle
import tempfile
from pathlib import Path

import _data
from _baselines import check_report, parquet_oracle
from _harness import Row, Skip, as_timing, cli_command, ratio_row, run_measured, timed

ORDER = 90
SIZES = {"full": {"rows": 10_000_000, "cli_repeats": 3, "grader_submissions": 40},
         "quick": {"rows": 200_000, "cli_repeats": 1, "grader_submissions": 6}}
BATCH_SIZE = 65_536


def local_cluster(workers: int = 2):
    """A LocalCluster of ``workers`` single-threaded processes on 127.0.0.1 and a client of it."""
    try:
        import distributed
    except ImportError as exc:
        raise Skip(f"dask not installed ({exc}): pip install -e '.[dask]'") from None
    cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=":0", silence_logs=logging.CRITICAL)
    return cluster, distributed.Client(cluster, set_as_default=False)


def run(ctx) -> list[Row]:
    n = ctx.sizes["rows"]
    ref, cur = _data.parquet_file("reference", n), _data.parquet_file("current", n)
    return _compare(ctx, ref, cur) + [_bytes_per_partition(ref)] + _cli(ctx, ref, cur) + [_grade(ctx)]


def _compare(ctx, ref, cur) -> list[Row]:
    import streamdrift

    cols = _data.COLUMNS
    cluster, client = local_cluster()
    try:
        fns = dict(local=lambda: streamdrift.compare(str(ref), str(cur), batch_size=BATCH_SIZE),
                   dask=lambda: streamdrift.compare(str(ref), str(cur), batch_size=BATCH_SIZE, dask=client))
        t = timed(fns, ctx.repeats)
    finally:
        client.close()
        cluster.close()
    local, remote = t["local"].result, t["dask"].result
    assert list(remote.json_lines()) == list(local.json_lines()), "compare on Dask is not bit-identical"
    check_report(remote, parquet_oracle([ref], [cur], cols), "compare(dask=)")
    rows = ctx.sizes["rows"]
    size = f"2 x {rows / 1e6:g}M rows x {len(cols)} cols"
    common = dict(group="dask", t=t, name="dask", baseline="local", baseline_name="local compare()")
    return [
        ratio_row(case=f"compare(dask=LocalCluster of 2 workers, warm), {size}", limit=1.3, target="<= 1.3x", **common),
        ratio_row(case="  same, CPU seconds of this process (info)", key="cpu", **common),
    ]


def _bytes_per_partition(ref) -> Row:
    """What one partition ships: the task (partition, fresh states) down, the filled states back."""
    from streamdrift.partitions import fill_partition, read_footer, split
    from streamdrift.state import Histogram

    features = _data.COLUMNS
    parts = split(read_footer(str(ref)))
    template = {f: Histogram.for_range(0.0, 1.0) for f in features}
    down = len(pickle.dumps((fill_partition, parts[0], template, BATCH_SIZE)))
    back = len(pickle.dumps(fill_partition(parts[0], template, BATCH_SIZE)))
    return Row(group="dask", case=f"bytes shipped per partition ({len(features)} features, {len(parts)} partitions per file)",
               value=down + back, unit="B",
               note=f"{down} B task down, {back} B states back ({back / len(features):.0f} B/feature)")


def _cli(ctx, ref, cur) -> list[Row]:
    """``streamdrift compare --dask local:2`` (starts and closes its cluster) against the local CLI."""
    runs, out = {"local": [], "dask": []}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(ctx.sizes["cli_repeats"]):
            for name, extra in (("local", []), ("dask", ["--dask", "local:2"])):
                path = Path(tmp) / name
                runs[name].append(run_measured(cli_command("compare", ref, cur, "--format", "json", *extra), path))
                out[name] = path.read_bytes()
    assert out["dask"] == out["local"], "compare --dask local:2 printed other JSON than a local compare"
    t = {name: as_timing(r) for name, r in runs.items()}
    return [ratio_row(group="dask", case="  CLI --dask local:2 end to end, cluster start and close included (info)",
                      t=t, name="dask", baseline="local", baseline_name="CLI compare")]


def _grade(ctx) -> Row:
    """``grade_many`` on a warm LocalCluster of 2 workers (each with its own warm fork pool)
    against a local warm pool of 2 fork servers, the same submissions (info: the same 2 cores)."""
    from _grader_bench import corpus
    from grader.grading.batch import grade_many
    from grader.sandbox import ForkPool
    from streamdrift.cluster import DaskExecutor

    subs, limits = corpus(ctx.sizes["grader_submissions"]), dict(timeout_s=20.0, memory_mb=2048)
    cluster, client = local_cluster()
    try:
        with ForkPool(2) as pool:
            pool.warm()
            fns = dict(local=lambda: grade_many(subs, jobs=2, pool=pool, **limits),
                       dask=lambda: grade_many(subs, executor=DaskExecutor(client), **limits))
            t = timed(fns, ctx.repeats)  # the warm-up round starts the workers' pools
    finally:
        client.close()
        cluster.close()
    verdicts = {k: [(g.result.passed, g.result.score, g.result.reasons) for g in v.result] for k, v in t.items()}
    assert verdicts["dask"] == verdicts["local"], "grade on Dask gave other verdicts than a local run"
    n = len(subs)
    row = ratio_row(group="dask", case=f"grade_many on a warm LocalCluster of 2 workers, {n} submissions (info)",
                    t=t, name="dask", baseline="local", baseline_name="local grade_many, 2 warm fork servers")
    row.value, row.baseline, row.unit = n / row.value, n / row.baseline, "subs/s"
    return row
