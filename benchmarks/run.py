#!/usr/bin/env python
"""streamdrift benchmarks: every measurement next to its baseline, in the same run.

    python benchmarks/run.py [--quick] [--only kernel,threads,...] [--out benchmarks/results/latest.json]

Groups (see benchmarks/README.md): kernel, threads, compare, rss, evidently, watch, grader, categorical, dask.
Each group times streamdrift and its baseline in the same process (or, for the command
line, the same kind of subprocess), asserts that both computed the same answer, and
prints the ratio, the target and PASS/MISS. Timings are the best of N interleaved runs
(the machine is shared and noisy); every sample is kept in the JSON output.

Data is generated deterministically under benchmarks/data/ (gitignored) and reused.
This is not part of the test suite: nothing here runs under pytest.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gc
import inspect
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

import numpy as np  # noqa: E402

import _data  # noqa: E402

GROUPS = ["kernel", "threads", "compare", "rss", "evidently", "watch", "grader", "categorical", "dask"]

FULL = dict(
    kernel_n=20_000_000,  # values per side
    features=10,
    feature_n=2_000_000,  # values per side per feature
    pq_rows=10_000_000,  # rows per Parquet file (10 columns)
    rss_small=1_000_000,  # the "1x" of the peak-RSS comparison (10x = pq_rows)
    evidently_rows=1_000_000,
    watch_rows=10_000_000,
    watch_parts=10,
    watch_reference_rows=1_000_000,
    grader_submissions=40,
    categorical_rows=10_000_000,
    repeats=3,
    startup_runs=5,
)
QUICK = dict(
    kernel_n=2_000_000,
    features=10,
    feature_n=200_000,
    pq_rows=200_000,
    rss_small=20_000,
    evidently_rows=100_000,
    watch_rows=200_000,
    watch_parts=4,
    watch_reference_rows=20_000,
    grader_submissions=6,
    categorical_rows=500_000,
    repeats=3,
    startup_runs=3,
)

EPS = 1e-10
KL_TOL = 1e-12


# ----------------------------------------------------------------------------- helpers


class Skip(Exception):
    """A group that cannot run here (a feature not landed, an optional package absent)."""


def timed(fns: dict, repeats: int, warmup: bool = True, clock=time.perf_counter) -> dict:
    """Time each callable ``repeats`` times, interleaved; best, median, samples and last result.

    ``clock`` is wall time by default; single-threaded groups pass ``time.thread_time``
    (CPU time of this thread), which other processes on a shared machine cannot inflate.
    """
    out = {name: {"samples": [], "cpu": [], "result": None} for name in fns}
    if warmup:
        for name, fn in fns.items():
            out[name]["result"] = fn()
    for _ in range(repeats):
        for name, fn in fns.items():
            gc.collect()
            c0 = _process_cpu()
            t0 = clock()
            res = fn()
            dt = clock() - t0
            out[name]["cpu"].append(_process_cpu() - c0)
            out[name]["samples"].append(dt)
            out[name]["result"] = res
    for name in fns:
        s = out[name]["samples"]
        out[name]["best_cpu"] = min(out[name]["cpu"])
        out[name]["best"] = min(s)
        out[name]["median"] = statistics.median(s)
    return out


def _process_cpu() -> float:
    """CPU seconds (user + sys) of this process, all threads."""
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def row(group, case, value, unit, baseline_name=None, baseline=None, ratio=None, ratio_text=None,
        target=None, ok=None, note=None, **extra):
    r = dict(group=group, case=case, value=value, unit=unit, baseline_name=baseline_name,
             baseline=baseline, ratio=ratio, ratio_text=ratio_text, target=target,
             status=("PASS" if ok else "MISS") if ok is not None else ("info" if target is None else "n/a"),
             note=note)
    r.update(extra)
    return r


def fmt_value(v, unit):
    if v is None:
        return "-"
    if unit == "s":
        return f"{v * 1e3:.0f} ms" if v < 1 else f"{v:.2f} s"
    if unit == "ns/value":
        return f"{v:.2f} ns/value"
    if unit == "MiB":
        return f"{v:.0f} MiB"
    if unit == "subs/s":
        return f"{v:.1f} subs/s"
    return f"{v:.4g} {unit}"


def cli_command(*args) -> list[str]:
    """The ``streamdrift`` command line run from this checkout (no install needed)."""
    code = "import sys; sys.argv[0] = 'streamdrift'; from streamdrift.cli import main; sys.exit(main())"
    return [sys.executable, "-c", code, *map(str, args)]


def child_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env.pop("PYTHONSTARTUP", None)
    return env


# A small launcher process runs the command and reports its rusage: Linux starts a forked
# child's ru_maxrss at the parent's RSS, so forking from this (large) process would report
# this process's memory, not the command's.
LAUNCHER = """
import os, sys
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], 'w') as f:
    f.write('%d %d %r' % (os.waitstatus_to_exitcode(status), usage.ru_maxrss, usage.ru_utime + usage.ru_stime))
"""


def run_measured(cmd: list[str], stdout_path=None, timeout=1800, ok_codes=(0, 1)) -> dict:
    """Run ``cmd``; wall time, exit code and the command's own peak RSS (``wait4`` rusage, MiB)."""
    out = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "rusage"
        err = Path(tmp) / "stderr"
        with open(err, "wb") as errf:
            try:
                t0 = time.perf_counter()
                proc = subprocess.run([sys.executable, "-S", "-c", LAUNCHER, str(report), *map(str, cmd)],
                                      stdout=out, stderr=errf, env=child_env(), cwd=str(ROOT), timeout=timeout)
                wall = time.perf_counter() - t0
            finally:
                if stdout_path:
                    out.close()
        stderr = err.read_text(errors="replace")
        if proc.returncode != 0 or not report.exists():
            raise RuntimeError(f"launcher failed ({proc.returncode}): {stderr.strip()[-800:]}")
        code, maxrss, cpu = report.read_text().split()
        code, maxrss, cpu = int(code), int(maxrss), float(cpu)
    if code not in ok_codes:
        raise RuntimeError(f"exit {code} from {' '.join(map(str, cmd[3:]))}: {stderr.strip()[-800:]}")
    # ru_maxrss is in KiB on Linux.
    return dict(wall=wall, code=code, rss_mib=maxrss / 1024, cpu=cpu, stderr=stderr)


def pyarrow_subprocess(batch_size: int, columns: list[str], paths: list, rows: int) -> dict:
    """The pyarrow baseline in its own process (``run_measured``); it must count ``rows`` rows."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "rows"
        m = run_measured([sys.executable, "-c", PYARROW_ITER, str(batch_size), ",".join(columns), *map(str, paths)],
                         out, ok_codes=(0,))
        got = int(out.read_text())
    assert got == rows, f"pyarrow baseline read {got} rows, expected {rows}"
    return m


def cli_available(*sub) -> bool:
    """True when ``streamdrift <sub> --help`` works; False when the command does not exist yet.

    Any other failure (the CLI crashes) raises: it is an error of the group, not a skip.
    """
    r = subprocess.run(cli_command(*sub, "--help"), env=child_env(), cwd=str(ROOT),
                       capture_output=True, timeout=120)
    if r.returncode == 0:
        return True
    if r.returncode == 2 and b"No such command" in r.stderr:
        return False
    raise RuntimeError(f"`streamdrift {' '.join(sub)} --help` failed ({r.returncode}): "
                       f"{r.stderr.decode(errors='replace').strip()[-400:]}")


# The pyarrow baseline opens files with pre_buffer=False: pyarrow's default (True) reads
# every row group's column chunks of the file ahead, so its memory grows with the file
# (~0.8 GiB for one 10M x 10 file here) and on local files it is also slower. The baseline
# is the best plain pyarrow loop; the default is timed beside it for information.
PYARROW_ITER = """
import sys, pyarrow.parquet as pq
from pathlib import Path
bs = int(sys.argv[1]); cols = sys.argv[2].split(','); rows = 0
for arg in sys.argv[3:]:
    p = Path(arg)
    files = sorted(q for q in p.iterdir() if q.suffix == '.parquet') if p.is_dir() else [p]
    for f in files:
        for b in pq.ParquetFile(f, pre_buffer=False).iter_batches(batch_size=bs, columns=cols):
            rows += b.num_rows
print(rows)
"""


def pyarrow_iterate(paths, columns, batch_size, pre_buffer=False) -> int:
    """The baseline: pyarrow alone decoding the same files, columns and batch size."""
    import pyarrow.parquet as pq

    rows = 0
    for p in paths:
        p = Path(p)
        files = sorted(q for q in p.iterdir() if q.suffix == ".parquet") if p.is_dir() else [p]
        for f in files:
            for b in pq.ParquetFile(f, pre_buffer=pre_buffer).iter_batches(batch_size=batch_size, columns=columns):
                rows += b.num_rows
    return rows


# ------------------------------------------------------------------------ numpy oracle


def oracle(x: np.ndarray, y: np.ndarray, bins: int = 20):
    """SPEC section 2 in plain numpy: (kl, ref counts, cur counts, valid x, valid y)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    xs = x[np.isfinite(x)]
    ys = y[np.isfinite(y)]
    if xs.size == 0 or ys.size == 0:
        return None, None, None, xs.size, ys.size
    lo = min(xs.min(), ys.min())
    hi = max(xs.max(), ys.max())
    edges = np.linspace(lo, hi, bins + 1)
    cx, _ = np.histogram(xs, bins=edges)
    cy, _ = np.histogram(ys, bins=edges)
    p = (cx + EPS) / np.sum(cx + EPS)
    q = (cy + EPS) / np.sum(cy + EPS)
    return float(np.sum(p * np.log(p / q))), cx, cy, xs.size, ys.size


def arrow_to_float(col) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    return pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False)


def parquet_oracle(ref_path, cur_path, columns) -> dict:
    """Oracle results for each column of two Parquet files, read one column at a time."""
    import pyarrow.parquet as pq

    out = {}
    for c in columns:
        x = arrow_to_float(pq.read_table(ref_path, columns=[c]).column(0))
        y = arrow_to_float(pq.read_table(cur_path, columns=[c]).column(0))
        kl, cx, cy, nx, ny = oracle(x, y)
        out[c] = dict(kl=kl, ref_counts=cx, cur_counts=cy, reference_count=nx, current_count=ny,
                      missing_reference=x.size - nx, missing_current=y.size - ny)
        del x, y
    return out


def check_report(report, expected: dict, what: str) -> None:
    """Assert a streamdrift Report equals the oracle: exact counts, KL within 1e-12."""
    got = {f.feature: f for f in report}
    assert list(got) == list(expected), f"{what}: features {list(got)} != {list(expected)}"
    for name, e in expected.items():
        f = got[name]
        for key in ("reference_count", "current_count", "missing_reference", "missing_current"):
            assert getattr(f, key) == e[key], f"{what}: {name}.{key} {getattr(f, key)} != {e[key]}"
        if e["kl"] is None:
            assert f.kl is None, f"{what}: {name} kl {f.kl} but the oracle says undefined"
            continue
        if getattr(f, "reference_counts", None) is not None:
            assert list(f.reference_counts) == e["ref_counts"].tolist(), f"{what}: {name} reference counts differ"
            assert list(f.current_counts) == e["cur_counts"].tolist(), f"{what}: {name} current counts differ"
        assert abs(f.kl - e["kl"]) <= KL_TOL, f"{what}: {name} kl {f.kl!r} != oracle {e['kl']!r}"


def compare_fn():
    import streamdrift

    fn = getattr(streamdrift, "compare", None)
    if fn is None:
        raise Skip("streamdrift.compare has not landed")
    return fn


# ------------------------------------------------------------------------------ groups


def group_kernel(sz, ctx):
    from streamdrift import Histogram, Range, divergence
    from streamdrift._kernels import fill_histogram, value_range

    n = sz["kernel_n"]
    x, y = _data.normal_pair(n)
    total = 2 * n

    def streamdrift_pass():
        r = Range().update(x)
        r += Range().update(y)
        hx = Histogram.for_range(r.lo, r.hi).update(x)
        hy = Histogram.for_range(r.lo, r.hi).update(y)
        return divergence(hx.counts, hy.counts).kl, hx.counts, hy.counts

    def numpy_pass():
        kl, cx, cy, _, _ = oracle(x, y)
        return kl, cx, cy

    def floor():
        return float(np.sum(x) + np.sum(y))

    edges = np.linspace(-6.0, 6.5, 21)

    def range_only():
        return value_range(x), value_range(y)

    def fill_only():
        c = np.zeros(20, np.int64)
        fill_histogram(x, edges, c)
        fill_histogram(y, edges, c)
        return c

    t = timed(dict(streamdrift=streamdrift_pass, numpy=numpy_pass, floor=floor,
                   range_only=range_only, fill_only=fill_only), sz["repeats"] + 2,
              clock=time.thread_time)
    kl, cx, cy = t["streamdrift"]["result"]
    okl, ocx, ocy = t["numpy"]["result"]
    assert np.array_equal(cx, ocx) and np.array_equal(cy, ocy), "kernel counts differ from numpy's"
    assert abs(kl - okl) <= KL_TOL, f"kernel KL {kl!r} != numpy {okl!r}"

    ns = {k: v["best"] / total * 1e9 for k, v in t.items()}
    speedup = ns["numpy"] / ns["streamdrift"]
    size = f"{n / 1e6:g}M + {n / 1e6:g}M float64"
    rows = [
        row("kernel", f"one KL pass (range + 2 histograms + KL), {size}, 1 thread, CPU time", ns["streamdrift"], "ns/value",
            "numpy (np.histogram on linspace edges)", ns["numpy"], speedup, f"{speedup:.2f}x faster",
            ">= 4x faster", speedup >= 4.0, samples={k: v["samples"] for k, v in t.items()}, kl=kl),
        row("kernel", "same pass vs memory floor", ns["streamdrift"], "ns/value", "np.sum over both arrays",
            ns["floor"], ns["streamdrift"] / ns["floor"], f"{ns['streamdrift'] / ns['floor']:.1f}x the floor"),
        row("kernel", "  of which value_range (both sides)", ns["range_only"], "ns/value", "np.sum over both arrays",
            ns["floor"], ns["range_only"] / ns["floor"], f"{ns['range_only'] / ns['floor']:.1f}x the floor"),
        row("kernel", "  of which fill_histogram (both sides)", ns["fill_only"], "ns/value", "np.sum over both arrays",
            ns["floor"], ns["fill_only"] / ns["floor"], f"{ns['fill_only'] / ns['floor']:.1f}x the floor"),
    ]
    return rows


def group_threads(sz, ctx):
    from streamdrift import Histogram, Range, divergence

    k, n = sz["features"], sz["feature_n"]
    ref, cur = _data.feature_arrays(k, n)
    names = list(ref)

    def one(name):
        x, y = ref[name], cur[name]
        r = Range().update(x)
        r += Range().update(y)
        hx = Histogram.for_range(r.lo, r.hi).update(x)
        hy = Histogram.for_range(r.lo, r.hi).update(y)
        return divergence(hx.counts, hy.counts).kl, hx.counts.tolist(), hy.counts.tolist()

    pool = ThreadPoolExecutor(2)
    fns = dict(one_thread=lambda: [one(c) for c in names], two_threads=lambda: list(pool.map(one, names)))
    compare = None
    try:
        compare = compare_fn()
        if "threads" not in inspect.signature(compare).parameters:
            compare = None
    except Skip:
        pass
    if compare is not None:
        fns["compare_1"] = lambda: compare(ref, cur, threads=1)
        fns["compare_2"] = lambda: compare(ref, cur, threads=2)
    try:
        # Cheap samples (~0.1 s each): take more, so that a quiet moment of the shared machine is among them.
        t = timed(fns, sz["repeats"] + 4)
    finally:
        pool.shutdown()
    a, b = t["one_thread"]["result"], t["two_threads"]["result"]
    assert a == b, "2 threads gave other results than 1 thread"
    size = f"{k} features x {n / 1e6:g}M + {n / 1e6:g}M float64"
    ns = {key: v["best"] / (2 * k * n) * 1e9 for key, v in t.items()}
    s = ns["one_thread"] / ns["two_threads"]
    rows = [row("threads", f"state API over features, {size}: 2 threads vs 1", ns["two_threads"], "ns/value",
                "same, 1 thread", ns["one_thread"], s, f"{s:.2f}x faster", ">= 1.8x", s >= 1.8,
                samples={key: v["samples"] for key, v in t.items()})]
    if compare is not None:
        for key in ("compare_1", "compare_2"):
            rep = t[key]["result"]
            got = [f.kl for f in rep]
            assert got == [r[0] for r in a], f"{key}: KL differs from the state API's"
        s2 = ns["compare_1"] / ns["compare_2"]
        rows.append(row("threads", f"compare(threads=2) vs threads=1, {size}", ns["compare_2"], "ns/value",
                        "compare(threads=1)", ns["compare_1"], s2, f"{s2:.2f}x faster", ">= 1.8x", s2 >= 1.8))
    else:
        rows.append(row("threads", "compare(threads=k)", None, "", note="skipped: streamdrift.compare(threads=) not available"))
    return rows


def parquet_pair(rows):
    return _data.parquet_file("reference", rows), _data.parquet_file("current", rows)


def group_compare(sz, ctx):
    compare = compare_fn()
    params = inspect.signature(compare).parameters
    batch_size = params["batch_size"].default if "batch_size" in params else 65536
    has_stats = "use_statistics" in params
    rows_n = sz["pq_rows"]
    ref, cur = parquet_pair(rows_n)
    cols = _data.COLUMNS
    expected = parquet_oracle(ref, cur, cols)

    fns = dict(
        pyarrow=lambda: pyarrow_iterate([ref, cur], cols, batch_size),
        pyarrow_prebuffer=lambda: pyarrow_iterate([ref, cur], cols, batch_size, pre_buffer=True),
        compare=lambda: compare(str(ref), str(cur), batch_size=batch_size),
    )
    if has_stats:
        fns["compare_scan"] = lambda: compare(str(ref), str(cur), batch_size=batch_size, use_statistics=False)
    if "threads" in params:
        fns["compare_1"] = lambda: compare(str(ref), str(cur), batch_size=batch_size, threads=1)
    t = timed(fns, sz["repeats"])
    assert t["pyarrow"]["result"] == t["pyarrow_prebuffer"]["result"] == 2 * rows_n
    check_report(t["compare"]["result"], expected, "compare")
    size = f"2 x {rows_n / 1e6:g}M rows x {len(cols)} cols, snappy, batch {batch_size}"
    base = t["pyarrow"]["best"]
    r1 = t["compare"]["best"] / base
    rows = [row("compare", f"compare() end to end, {size}", t["compare"]["best"], "s",
                "pyarrow iter_batches alone", base, r1, f"{r1:.2f}x of pyarrow", "<= 1.25x", r1 <= 1.25,
                samples={k: v["samples"] for k, v in t.items()})]
    cc, pc_ = t["compare"]["best_cpu"], t["pyarrow"]["best_cpu"]
    rows.append(row("compare", "  same, CPU seconds of all threads (pyarrow decodes on its own threads too) (info)",
                    cc, "s", "pyarrow iter_batches alone", pc_, cc / pc_, f"{cc / pc_:.2f}x of pyarrow"))
    if "compare_1" in t:
        check_report(t["compare_1"]["result"], expected, "compare(threads=1)")
        r1t = t["compare_1"]["best"] / base
        rows.append(row("compare", "  same, threads=1 (info)", t["compare_1"]["best"], "s", "pyarrow iter_batches alone",
                        base, r1t, f"{r1t:.2f}x of pyarrow"))
    pb = t["pyarrow_prebuffer"]["best"]
    rows.append(row("compare", "  pyarrow iter_batches with its default pre_buffer=True (info)", pb, "s",
                    "pyarrow iter_batches, pre_buffer=False", base, pb / base, f"{pb / base:.2f}x"))
    if has_stats:
        check_report(t["compare_scan"]["result"], expected, "compare(use_statistics=False)")
        r2 = t["compare_scan"]["best"] / base
        rows.append(row("compare", "same, use_statistics=False (two passes)", t["compare_scan"]["best"], "s",
                        "pyarrow iter_batches alone", base, r2, f"{r2:.2f}x of pyarrow"))
    ctx["batch_size"] = batch_size
    return rows


def group_rss(sz, ctx):
    compare_fn()
    if not cli_available("compare"):
        raise Skip("`streamdrift compare` CLI has not landed")
    small, big = sz["rss_small"], sz["pq_rows"]
    pairs = {small: parquet_pair(small), big: parquet_pair(big)}
    batch_size = ctx.get("batch_size")
    res = {}
    for n, (ref, cur) in pairs.items():
        with tempfile.TemporaryDirectory() as tmp:
            outp = Path(tmp) / "out.jsonl"
            runs = [run_measured(cli_command("compare", ref, cur, "--format", "json"), outp)
                    for _ in range(2 if n >= 1_000_000 else 1)]
            lines = [json.loads(s) for s in outp.read_text().splitlines() if s.strip()]
        assert [d["feature"] for d in lines] == _data.COLUMNS, "compare --format json: unexpected features"
        for d in lines:
            assert d["reference_count"] + d["missing_reference"] == n, f"{d['feature']}: rows counted != {n}"
        base = pyarrow_subprocess(batch_size or 65536, _data.COLUMNS, [ref, cur], 2 * n)
        res[n] = dict(rss=min(r["rss_mib"] for r in runs), wall=min(r["wall"] for r in runs), base=base["rss_mib"],
                      base_wall=base["wall"])
    g = res[big]["rss"] / res[small]["rss"]
    return [
        row("rss", f"`streamdrift compare` CLI peak RSS, {small / 1e6:g}M rows x 10 (1x)", res[small]["rss"], "MiB",
            "pyarrow iterate (subprocess)", res[small]["base"], res[small]["rss"] / res[small]["base"],
            f"{res[small]['rss'] / res[small]['base']:.2f}x of pyarrow"),
        row("rss", f"`streamdrift compare` CLI peak RSS, {big / 1e6:g}M rows x 10 (10x)", res[big]["rss"], "MiB",
            f"same command at 1x", res[small]["rss"], g, f"{g:.2f}x of 1x (pyarrow alone {res[big]['base']:.0f} MiB)",
            "flat: <= 1.25x", g <= 1.25, wall_s=res[big]["wall"]),
        row("rss", f"  same command's wall time at {big / 1e6:g}M rows, start-up included (info)", res[big]["wall"], "s",
            "pyarrow iterate (subprocess)", res[big]["base_wall"], res[big]["wall"] / res[big]["base_wall"],
            f"{res[big]['wall'] / res[big]['base_wall']:.2f}x of pyarrow"),
    ]


def group_evidently(sz, ctx):
    try:
        import evidently  # noqa: F401
    except Exception as exc:
        raise Skip(f"evidently not importable ({type(exc).__name__}); pip install -e '.[evidently]'")
    import pandas as pd  # noqa: F401
    import pyarrow.parquet as pq

    compare = compare_fn()
    n = sz["evidently_rows"]
    ref_path, cur_path = parquet_pair(n)
    ref_df = pq.read_table(ref_path).to_pandas()
    cur_df = pq.read_table(cur_path).to_pandas()
    cols = _data.COLUMNS
    version = getattr(evidently, "__version__", "?")
    try:
        run_evidently = _evidently_runner(ref_df, cur_df, cols)
        got = run_evidently()
    except Exception as exc:  # an Evidently API this script does not know: say so, do not fail the run
        raise Skip(f"evidently {version}: its API failed here ({type(exc).__name__}: {str(exc)[:120]})")
    if set(got) != set(cols):
        raise Skip(f"evidently {version}: could not read kl_div scores from its report (got {sorted(got)})")
    t = timed(dict(evidently=run_evidently, streamdrift=lambda: compare(ref_df, cur_df)), 1 if n >= 1e6 else sz["repeats"])
    ev = t["evidently"]["result"]
    rep = t["streamdrift"]["result"]
    assert [f.feature for f in rep] == cols, "streamdrift scored other features"
    # Evidently's kl_div bins differently (its own bin count and smoothing), so its values
    # are not SPEC values; the check is that both ran over the same features.
    s = t["evidently"]["best"] / t["streamdrift"]["best"]
    agree = sum((ev[c] > 0.1) == rep[c].drifted for c in cols)
    return [row("evidently", f"kl_div drift, {n / 1e6:g}M rows x {len(cols)} (pandas in memory); drift decisions agree "
                f"on {agree} of {len(cols)} features", t["streamdrift"]["best"], "s",
                f"evidently {version} kl_div", t["evidently"]["best"], s, f"{s:.1f}x faster",
                note=(f"evidently bins its own way (values not comparable; features checked); drift decisions at "
                      f"0.1 agree on {sum((ev[c] > 0.1) == rep[c].drifted for c in cols)} of {len(cols)} features"),
                evidently_scores=ev, streamdrift_kl=rep.kl())]


def _evidently_runner(ref_df, cur_df, cols):
    """A callable returning {column: drift score} with evidently's kl_div, for the installed API."""
    try:  # evidently >= 0.7
        from evidently import Dataset, DataDefinition, Report
        from evidently.presets import DataDriftPreset

        definition = DataDefinition(numerical_columns=cols)

        def run():
            r = Report([DataDriftPreset(method="kl_div")]).run(
                Dataset.from_pandas(cur_df, data_definition=definition),
                Dataset.from_pandas(ref_df, data_definition=definition))
            out = {}
            for m in r.dict().get("metrics", []):
                cfg = m.get("config", {}) or {}
                col = cfg.get("column")
                val = m.get("value")
                if col in cols and isinstance(val, (int, float)):
                    out[col] = float(val)
            return out

        return run
    except ImportError:
        pass
    from evidently.metric_preset import DataDriftPreset  # evidently 0.4 - 0.6
    from evidently.report import Report

    def run_old():
        r = Report(metrics=[DataDriftPreset(stattest="kl_div")])
        r.run(reference_data=ref_df, current_data=cur_df)
        out = {}
        for m in r.as_dict()["metrics"]:
            res = m.get("result", {})
            for col, d in (res.get("drift_by_columns") or {}).items():
                out[col] = float(d["drift_score"])
        return out

    return run_old


def group_watch(sz, ctx):
    if not cli_available("watch"):
        raise Skip("`streamdrift watch` has not landed")
    rows = []
    # Startup: `watch --help`, median of k (the JIT cache is warm after the probe above).
    k = sz["startup_runs"]

    def median_wall(cmd, ok=(0,)):
        return statistics.median(run_measured(cmd, ok_codes=ok)["wall"] for _ in range(k))

    base = median_wall([sys.executable, "-c", "pass"])
    st = median_wall(cli_command("watch", "--help"))
    rows.append(row("watch", f"startup: `streamdrift watch --help` (median of {k})", st, "s",
                    "`python -c pass`", base, None, None, "< 1 s", st < 1.0))
    # Where start-up time goes (info): the imports, and numba's first dispatch of a cached kernel.
    imp = median_wall([sys.executable, "-c", "import numpy, pyarrow.parquet, numba"])
    first = median_wall([sys.executable, "-c", "import numpy as np; from streamdrift._kernels import value_range as f; "
                         "f(np.zeros(3))"])
    rows.append(row("watch", "  a watch's start-up, not --help's: import numpy + pyarrow.parquet + numba", imp, "s",
                    "`python -c pass`", base))
    rows.append(row("watch", "  same, and import streamdrift._kernels + first call of one cached kernel", first, "s",
                    "`python -c pass`", base))

    ref_rows, n, parts = sz["watch_reference_rows"], sz["watch_rows"], sz["watch_parts"]
    ref = _data.parquet_file("reference", ref_rows)
    stream = _data.parquet_parts("current", n, parts)
    small_stream = _data.parquet_parts("current", n // 10, 1)
    cols = _data.COLUMNS
    batch_size = ctx.get("batch_size") or 65536
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        reference = [str(ref)]
        profiled = cli_available("profile")
        tw = None
        if profiled:
            prof = tmp / "reference.profile"
            run_measured(cli_command("profile", ref, "-o", prof), ok_codes=(0,))
            reference = [str(prof)]
            # Startup of a watch over a tiny file with a saved profile.
            tiny = _data.parquet_file("current", 1000)
            tw = median_wall(cli_command("watch", "--reference", prof, tiny), ok=(0, 1))
            rows.append(row("watch", f"startup: watch of a 1,000-row file with a saved profile of {ref_rows:,} rows "
                            f"(median of {k})", tw, "s", "`python -c pass`", base, None, None, "< 1 s", tw < 1.0))
        out = tmp / "watch.jsonl"
        w, b, wr = [], [], []
        out_ref = tmp / "watch_reference_edges.jsonl"
        for _ in range(sz["repeats"]):
            w.append(run_measured(cli_command("watch", "--reference", reference[0], stream, "--format", "json"), out))
            b.append(pyarrow_subprocess(batch_size, cols, [stream], n))
            wr.append(run_measured(cli_command("watch", "--reference", reference[0], stream, "--format", "json",
                                               "--edges", "reference"), out_ref))
        recs_ref = [json.loads(s) for s in out_ref.read_text().splitlines() if s.strip()]
        for c in cols:
            seen = sum(r["current_count"] + r["missing_current"] for r in recs_ref if r["feature"] == c)
            assert seen == n, f"watch --edges reference: feature {c} counted {seen} rows of {n}"
        records = [json.loads(s) for s in out.read_text().splitlines() if s.strip()]
        for c in cols:
            seen = sum(r["current_count"] + r["missing_current"] for r in records if r["feature"] == c)
            assert seen == n, f"watch: feature {c} counted {seen} rows of {n}"
        _check_first_window(records, ref, stream, cols)
        smalls = [run_measured(cli_command("watch", "--reference", reference[0], small_stream, "--format", "json"), out)
                  for _ in range(sz["repeats"])]  # as many runs as at 10x, the best of each
    wt, bt = min(x["wall"] for x in w), min(x["wall"] for x in b)
    r = wt / bt
    rows.append(row("watch", f"`watch` over {n / 1e6:g}M rows x {len(cols)} in {parts} part files"
                    + (" (saved profile)" if profiled else " (Parquet reference)"), wt, "s",
                    "pyarrow iterate same parts (subprocess)", bt, r, f"{r:.2f}x of pyarrow", "<= 1.3x", r <= 1.3,
                    samples=dict(watch=[x["wall"] for x in w], pyarrow=[x["wall"] for x in b])))
    wc, bc = min(x["cpu"] for x in w), min(x["cpu"] for x in b)
    rows.append(row("watch", "  same, CPU seconds (user + sys, info)", wc, "s", "pyarrow iterate same parts", bc,
                    wc / bc, f"{wc / bc:.2f}x of pyarrow"))
    if profiled:
        # Split off start-up: the watch of a tiny file vs `python -c "import pyarrow.parquet"`.
        pa_start = median_wall([sys.executable, "-c", "import pyarrow.parquet"])
        wn, bn = wt - tw, bt - pa_start
        if bn > 0.1 and wn > 0:
            rows.append(row("watch", "  same minus start-up (watch of the 1,000-row file; python + pyarrow import) (info)",
                            wn, "s", "pyarrow minus start-up", bn, wn / bn, f"{wn / bn:.2f}x of pyarrow",
                            startup=dict(watch=tw, pyarrow=pa_start)))
    wrt = min(x["wall"] for x in wr)
    rows.append(row("watch", "  same with --edges reference (one incremental pass, info)", wrt, "s",
                    "pyarrow iterate same parts (subprocess)", bt, wrt / bt, f"{wrt / bt:.2f}x of pyarrow"))
    big_rss = min(x["rss_mib"] for x in w)
    small_rss = min(x["rss_mib"] for x in smalls)
    g = big_rss / small_rss
    rows.append(row("watch", f"`watch` peak RSS, {n / 1e6:g}M rows (10x) vs {n / 10e6:g}M rows (1x)", big_rss, "MiB",
                    "same command at 1x", small_rss, g, f"{g:.2f}x of 1x", "flat: <= 1.25x", g <= 1.25))
    return rows


def _check_first_window(records, ref, stream, cols):
    """Window 0 of each feature equals the oracle on the reference and that window's rows."""
    import pyarrow.parquet as pq

    first = [r for r in records if r.get("window") == 0]
    if not first or "start_row" not in first[0]:
        return
    start, end = first[0]["start_row"], first[0]["end_row"]
    files = sorted(q for q in Path(stream).iterdir() if q.suffix == ".parquet")
    import pyarrow as pa

    tables, got = [], 0
    for f in files:
        if got >= end:
            break
        t = pq.read_table(f, columns=cols)
        tables.append(t)
        got += t.num_rows
    window = pa.concat_tables(tables).slice(start, end - start)
    reft = pq.read_table(ref, columns=cols)
    for r in first:
        c = r["feature"]
        kl, *_ = oracle(arrow_to_float(reft.column(c)), arrow_to_float(window.column(c)))
        if kl is None:
            assert r["kl"] is None, f"watch window 0 {c}: kl {r['kl']} but the oracle says undefined"
        else:
            assert abs(r["kl"] - kl) <= KL_TOL, f"watch window 0 {c}: kl {r['kl']!r} != oracle {kl!r}"


def group_grader(sz, ctx):
    try:
        import grader
    except Exception as exc:
        raise Skip(f"grader not importable ({exc})")
    if not hasattr(grader, "grade_code"):
        raise Skip("grader.grade_code has not landed")
    from _grader_bench import bench_grader

    return bench_grader(grader, sz, timed, row, Skip)


def group_dask(sz, ctx):
    from _dask_bench import bench_dask

    return bench_dask(sz, ctx, parquet_pair=parquet_pair, parquet_oracle=parquet_oracle, check_report=check_report,
                      timed=timed, row=row, cli_command=cli_command, Skip=Skip)


def group_categorical(sz, ctx):
    from _categorical_bench import bench_categorical

    return bench_categorical(sz, _data.DATA_DIR, timed, row, KL_TOL)


GROUP_FUNCS = dict(kernel=group_kernel, threads=group_threads, compare=group_compare, rss=group_rss,
                   evidently=group_evidently, watch=group_watch, grader=group_grader, categorical=group_categorical,
                   dask=group_dask)


# ------------------------------------------------------------------------------ report


def machine() -> dict:
    import numba
    import pyarrow

    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        mem = float("nan")
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip()
    except OSError:
        commit = "?"
    return dict(
        cpu=cpu,
        cores=os.cpu_count(),
        usable_cores=len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        memory_gib=round(mem, 1),
        python=platform.python_version(),
        numba=numba.__version__,
        numpy=np.__version__,
        pyarrow=pyarrow.__version__,
        os=platform.platform(),
        loadavg=os.getloadavg() if hasattr(os, "getloadavg") else None,
        commit=commit,
        date=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    )


def markdown(m: dict, rows: list[dict], skipped: dict, quick: bool, duration: float) -> str:
    lines = [
        f"streamdrift benchmarks, {m['date']}{' (--quick sizes)' if quick else ''}, commit {m['commit']}",
        "",
        f"Machine: {m['cpu']}, {m['usable_cores']} cores, {m['memory_gib']} GiB; Python {m['python']}, "
        f"numba {m['numba']}, numpy {m['numpy']}, pyarrow {m['pyarrow']}; load average at start "
        f"{', '.join(f'{x:.2f}' for x in m['loadavg'] or [])}. Best of N interleaved runs.",
        "",
        *(["With --quick the sizes are too small for the targets (start-up costs dominate): this run shows that "
           "every group runs and agrees with its baseline; judge PASS/MISS on a full run.", ""] if quick else []),
        "| group | case | streamdrift | baseline | ratio | target | result |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        base = "-" if r["baseline"] is None else f"{fmt_value(r['baseline'], r['unit'])} ({r['baseline_name']})"
        value = fmt_value(r["value"], r["unit"]) if r["value"] is not None else (r.get("note") or "-")
        lines.append(f"| {r['group']} | {r['case']} | {value} | {base} | {r['ratio_text'] or '-'} | "
                     f"{r['target'] or '-'} | {r['status'] if r['status'] not in ('info', 'n/a') else '-'} |")
    for g, why in skipped.items():
        lines.append(f"| {g} | skipped | {why} | - | - | - | SKIP |")
    lines.append("")
    loads = m.get("load_by_group") or {}
    if any(v is not None for v in loads.values()):
        lines.append("1-minute load average when each group started (2 cores; above ~1 other work competes): "
                     + ", ".join(f"{g} {v:.1f}" for g, v in loads.items() if v is not None) + ".")
    lines.append(f"Total run time {duration:.0f} s.")
    return "\n".join(lines)


def sizes_text(sz) -> str:
    return ", ".join(f"{k}={v:,}" for k, v in sz.items() if not isinstance(v, bool))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes: the whole run in under a minute")
    ap.add_argument("--only", default="", help=f"comma-separated groups among {','.join(GROUPS)}")
    ap.add_argument("--out", default=str(HERE / "results" / "latest.json"), help="where to write the JSON results")
    args = ap.parse_args(argv)
    only = [g.strip() for g in args.only.split(",") if g.strip()] or GROUPS
    unknown = [g for g in only if g not in GROUPS]
    if unknown:
        ap.error(f"unknown group(s) {', '.join(unknown)}; choose among {', '.join(GROUPS)}")
    sz = dict(QUICK if args.quick else FULL)
    sz["quick"] = args.quick
    m = machine()
    t0 = time.perf_counter()
    print(f"# sizes: {sizes_text(sz)}", file=sys.stderr)
    rows, skipped, errors, ctx = [], {}, {}, {}
    for g in GROUPS:
        if g not in only:
            continue
        tg = time.perf_counter()
        ctx.setdefault("load", {})[g] = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
        print(f"# {g} ...", file=sys.stderr, flush=True)
        try:
            got = GROUP_FUNCS[g](sz, ctx)
            rows.extend(got)
            for r in got:
                if r["status"] in ("PASS", "MISS"):
                    print(f"#   {r['case']}: {r['ratio_text']} (target {r['target']}) {r['status']}", file=sys.stderr)
        except Skip as exc:
            skipped[g] = str(exc)
            print(f"#   skipped: {exc}", file=sys.stderr)
        except Exception as exc:  # a failed assertion or crash: report it, carry on with the others
            errors[g] = f"{type(exc).__name__}: {exc}"
            traceback.print_exc()
            r = row(g, "ERROR", None, "", note=f"{type(exc).__name__}: {exc}"[:300])
            r["status"] = "ERROR"
            rows.append(r)
        print(f"#   {time.perf_counter() - tg:.1f} s", file=sys.stderr, flush=True)
    duration = time.perf_counter() - t0
    m["loadavg_end"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    m["load_by_group"] = ctx.get("load", {})
    text = markdown(m, rows, skipped, args.quick, duration)
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text(text + "\n")
    doc = dict(machine=m, quick=args.quick, sizes=sz, duration_s=duration, rows=rows, skipped=skipped, errors=errors)
    out.write_text(json.dumps(doc, indent=2, default=_json_default) + "\n")
    print(f"\nJSON: {out} (table: {out.with_suffix('.md')})", file=sys.stderr)
    return 1 if errors else 0


def _json_default(o):
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, tuple):
        return list(o)
    return str(o)


if __name__ == "__main__":
    sys.exit(main())
