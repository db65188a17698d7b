"""``streamdrift watch`` over part files against pyarrow decoding them alone, and its start-up.

Steady state is ``watch()`` over 10M rows in a warm process (numba imported and its kernels
dispatched once, as in any watch past its first windows), against pyarrow iterating the
same parts in the same process, interleaved. The command is measured too, whole and minus
a tiny watch (which imports neither numba nor pyarrow.compute, so that difference carries
numba's one-time import and first dispatch besides the rows), and its start-up on its own.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import _data
from _baselines import KL_TOL, arrow_to_float, oracle_feature, parquet_files, pyarrow_command, pyarrow_iterate
from _harness import ROOT, Row, Timing, cli_command, measured_rounds, ratio_row, run_measured, timed

ORDER = 60
SIZES = {
    "full": {"reference_rows": 1_000_000, "rows": 10_000_000, "parts": 10},
    "quick": {"reference_rows": 20_000, "rows": 200_000, "parts": 4},
}
BATCH_SIZE = 65536


def run(ctx) -> list[Row]:
    ref_rows, n, parts = ctx.sizes["reference_rows"], ctx.sizes["rows"], ctx.sizes["parts"]
    ref = _data.parquet_file("reference", ref_rows)
    stream = _data.parquet_parts("current", n, parts)
    small_stream = _data.parquet_parts("current", n // 10, 1)
    tiny = _data.parquet_file("current", 1000)
    cols = _data.COLUMNS
    with tempfile.TemporaryDirectory() as tmp:
        prof, out = Path(tmp) / "reference.profile", Path(tmp) / "watch.jsonl"
        run_measured(cli_command("profile", ref, "-o", prof), ok_codes=(0,))
        run_measured(cli_command("watch", "--reference", prof, stream, "--format", "json"), out)
        _check_windows([json.loads(s) for s in out.read_text().splitlines() if s.strip()], ref, stream, cols, n)
        warm = _warm(prof, stream, cols, n, ctx.repeats)
        runs = measured_rounds(dict(
            watch=cli_command("watch", "--reference", prof, stream, "--format", "json"),
            pyarrow=pyarrow_command(BATCH_SIZE, cols, [stream]),
            tiny=cli_command("watch", "--reference", prof, tiny),
            tiny_compiled=_compiled(Path(tmp), "watch", "--reference", prof, tiny),
            pyarrow_import=[sys.executable, "-c", "import pyarrow.parquet"],
            small=cli_command("watch", "--reference", prof, small_stream, "--format", "json"),
            help=cli_command("watch", "--help"),
        ), ctx.repeats)
    wall = {k: [r.wall for r in v] for k, v in runs.items()}
    t = dict(watch=Timing(wall["watch"]), pyarrow=Timing(wall["pyarrow"]),
             watch_steady=Timing([a - b for a, b in zip(wall["watch"], wall["tiny"])]),
             pyarrow_steady=Timing([a - b for a, b in zip(wall["pyarrow"], wall["pyarrow_import"])]))
    tiny_s, help_s = statistics.median(wall["tiny"]), statistics.median(wall["help"])
    compiled_s = statistics.median(wall["tiny_compiled"])
    big_rss, small_rss = min(r.rss_mib for r in runs["watch"]), min(r.rss_mib for r in runs["small"])
    size = f"{n / 1e6:g}M rows x {len(cols)} in {parts} part files, saved profile"
    return [
        ratio_row(group="watch", case=f"`watch()` steady state: a warm process, {size}", t=warm, name="watch",
                  baseline="pyarrow", baseline_name="pyarrow iterating the parts, same process", limit=1.2,
                  target="<= 1.2x"),
        ratio_row(group="watch", case="  the command minus a tiny watch (numba's import and first dispatch "
                  "included; info)", t=t, name="watch_steady", baseline="pyarrow_steady",
                  baseline_name="pyarrow iterating the parts, minus its import"),
        ratio_row(group="watch", case="  the command, start-up included (info)", t=t, name="watch",
                  baseline="pyarrow", baseline_name="pyarrow iterating the parts (subprocess)"),
        Row(group="watch", case=f"start-up: watch of a 1,000-row file with a saved profile of {ref_rows:,} rows",
            value=tiny_s, unit="s", target="< 0.5 s", ok=tiny_s < 0.5),
        Row(group="watch", case="  the same, streamdrift byte-compiled as `pip install` leaves it (this checkout is run from "
            "source; with PYTHONDONTWRITEBYTECODE set, every run compiles it; info)", value=compiled_s, unit="s"),
        Row(group="watch", case="start-up: `streamdrift watch --help`", value=help_s, unit="s", target="< 1 s",
            ok=help_s < 1.0),
        Row(group="watch", case=f"`watch` peak RSS, {n / 1e6:g}M rows (10x) vs {n / 10e6:g}M rows (1x)",
            value=big_rss, unit="MiB", baseline_name="same command at 1x", baseline=small_rss,
            ratio=big_rss / small_rss, ratio_text=f"{big_rss / small_rss:.2f}x of 1x", target="flat: <= 1.25x",
            ok=big_rss / small_rss <= 1.25),
    ]


def _compiled(tmp: Path, *args) -> list[str]:
    """``cli_command(*args)`` run from a byte-compiled copy of the package (``compileall`` writes the
    bytecode even where PYTHONDONTWRITEBYTECODE is set; the checkout itself is left as it is)."""
    copy = tmp / "compiled"
    if not copy.exists():
        shutil.copytree(ROOT / "streamdrift", copy / "streamdrift", ignore=shutil.ignore_patterns("__pycache__"))
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(copy / "streamdrift")], check=True,
                       stdout=subprocess.DEVNULL)
    command = cli_command(*args)
    command[2] = f"import sys; sys.path.insert(0, {str(copy)!r}); " + command[2]
    return command


def _warm(prof, stream, cols, n, repeats) -> dict[str, Timing]:
    """``watch()`` and pyarrow over the same parts in this process, interleaved, after a warm-up run each."""
    from streamdrift.watch import watch

    def watched():
        windows = list(watch(prof, [stream]))
        assert sum(w.rows for w in windows) == n, "watch() did not see every row"
        return len(windows)

    return timed(dict(watch=watched, pyarrow=lambda: pyarrow_iterate([stream], cols, BATCH_SIZE)), repeats)


def _check_windows(records, ref, stream, cols, n):
    """Every row counted once per feature, and window 0 equals the oracle on its rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    for c in cols:
        seen = sum(r["current_count"] + r["missing_current"] for r in records if r["feature"] == c)
        assert seen == n, f"watch: feature {c} counted {seen} rows of {n}"
    first = [r for r in records if r.get("window") == 0]
    start, end = first[0]["start_row"], first[0]["end_row"]
    tables, got = [], 0
    for f in parquet_files([stream]):
        if got >= end:
            break
        tables.append(pq.read_table(f, columns=cols))
        got += tables[-1].num_rows
    window = pa.concat_tables(tables).slice(start, end - start)
    reft = pq.read_table(ref, columns=cols)
    for r in first:
        want = oracle_feature(arrow_to_float(reft.column(r["feature"])), arrow_to_float(window.column(r["feature"])))
        if want["kl"] is None:
            assert r["kl"] is None, f"watch window 0 {r['feature']}: kl {r['kl']} but the oracle says undefined"
        else:
            assert abs(r["kl"] - want["kl"]) <= KL_TOL, f"watch window 0 {r['feature']}: {r['kl']!r} != {want['kl']!r}"
