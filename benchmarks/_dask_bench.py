"""compare on Dask (``dask=`` a LocalCluster of 2 worker processes) against local compare.

On one machine this measures the overhead of going through a cluster (tasks, footers read
by the workers, states shipped and summed), not a speed-up: the same 2 cores do the work.
The cluster is started once and warmed (workers import the kernels) before timing; the
CLI's ``--dask local:2``, which starts and closes its own cluster, is timed beside (info).
"""

from __future__ import annotations

import logging
import pickle
import subprocess
import time


def bench_dask(sz, ctx, *, parquet_pair, parquet_oracle, check_report, timed, row, cli_command, Skip):
    try:
        import distributed
    except ImportError as exc:
        raise Skip(f"dask not installed ({exc}): pip install -e '.[dask]'")
    import streamdrift
    from streamdrift.partitions import fill_partition, read_footer, split
    from streamdrift.state import Histogram

    rows_n = sz["pq_rows"]
    ref, cur = parquet_pair(rows_n)
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=":0", silence_logs=logging.CRITICAL)
    client = distributed.Client(cluster, set_as_default=False)
    try:
        fns = dict(local=lambda: streamdrift.compare(str(ref), str(cur)),
                   dask=lambda: streamdrift.compare(str(ref), str(cur), dask=client))
        t = timed(fns, sz["repeats"])
    finally:
        client.close()
        cluster.close()
    local, remote = t["local"]["result"], t["dask"]["result"]
    assert list(remote.json_lines()) == list(local.json_lines()), "compare on Dask is not bit-identical"
    features = [f.feature for f in local]
    check_report(remote, parquet_oracle(ref, cur, features), "compare(dask=)")
    ratio = t["dask"]["best"] / t["local"]["best"]
    size = f"2 x {rows_n / 1e6:g}M rows x {len(features)} cols"
    rows = [row("dask", f"compare(dask=LocalCluster of 2 workers, warm), {size}", t["dask"]["best"], "s",
                "local compare", t["local"]["best"], ratio, f"{ratio:.2f}x of local", "<= 1.3x", ratio <= 1.3,
                samples={k: v["samples"] for k, v in t.items()}, medians={k: v["median"] for k, v in t.items()})]

    # What one partition ships: the task (partition, fresh states) down, the filled states back.
    info = read_footer(str(ref))
    parts = split(info)
    template = {f: Histogram.for_range(0.0, 1.0) for f in features}
    down = len(pickle.dumps((parts[0], template, 65536)))
    back = len(pickle.dumps(fill_partition(parts[0], template, 65536)))
    rows.append(row("dask", f"bytes shipped per partition ({len(features)} features, {len(parts)} partitions per file)",
                    down + back, "B", note=f"{down} B task down, {back} B states back ({back / len(features):.0f} B/feature)"))

    cli = {}
    for name, extra in (("local", []), ("dask", ["--dask", "local:2"])):
        cmd = cli_command("compare", str(ref), str(cur), *extra)
        t0 = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True)
        cli[name] = (time.perf_counter() - t0, p)
    assert cli["dask"][1].stdout == cli["local"][1].stdout and cli["dask"][1].returncode == cli["local"][1].returncode
    r = cli["dask"][0] / cli["local"][0]
    rows.append(row("dask", "  CLI --dask local:2 end to end, cluster start and close included (info)", cli["dask"][0],
                    "s", "CLI compare", cli["local"][0], r, f"{r:.2f}x"))
    return rows
