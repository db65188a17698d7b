"""``compare`` over Parquet against pyarrow decoding the same files alone.

Two shapes: two large files (10M rows x 10 columns, 1M-row row groups), and many small part
files (2 x 1,000 files of 2,000 rows x 5 columns), where per-file cost dominates; there the
baseline is ``pyarrow.dataset`` iterating the same files.
"""

from __future__ import annotations

import _data
from _baselines import check_report, parquet_oracle, pyarrow_dataset_iterate, pyarrow_iterate
from _harness import Row, ratio_row, timed

ORDER = 30
SIZES = {
    "full": {"rows": 10_000_000, "small_files": 1000, "small_rows": 2000, "small_width": 5},
    "quick": {"rows": 200_000, "small_files": 50, "small_rows": 2000, "small_width": 5},
}
BATCH_SIZE = 65_536


def run(ctx) -> list[Row]:
    return _large_files(ctx) + _small_files(ctx)


def _large_files(ctx) -> list[Row]:
    import streamdrift

    n = ctx.sizes["rows"]
    ref, cur = _data.parquet_file("reference", n), _data.parquet_file("current", n)
    cols = _data.COLUMNS
    expected = parquet_oracle([ref], [cur], cols)
    fns = dict(
        pyarrow=lambda: pyarrow_iterate([ref, cur], cols, BATCH_SIZE),
        compare=lambda: streamdrift.compare(str(ref), str(cur), batch_size=BATCH_SIZE),
        compare_scan=lambda: streamdrift.compare(str(ref), str(cur), batch_size=BATCH_SIZE, use_statistics=False),
        compare_1=lambda: streamdrift.compare(str(ref), str(cur), batch_size=BATCH_SIZE, threads=1),
    )
    t = timed(fns, ctx.repeats)
    assert t["pyarrow"].result == 2 * n
    for name in ("compare", "compare_scan", "compare_1"):
        check_report(t[name].result, expected, name)
    size = f"2 x {n / 1e6:g}M rows x {len(cols)} cols, snappy, batch {BATCH_SIZE}"
    common = dict(group="compare", t=t, baseline="pyarrow", baseline_name="pyarrow iter_batches alone")
    return [
        ratio_row(case=f"compare() end to end, {size}", name="compare", limit=1.1, target="<= 1.1x", **common),
        ratio_row(case="  same, CPU seconds of all threads (info)", name="compare", key="cpu", **common),
        ratio_row(case="  same, threads=1 (info)", name="compare_1", **common),
        ratio_row(case="  same, use_statistics=False: two passes (info)", name="compare_scan", **common),
    ]


def _small_files(ctx) -> list[Row]:
    import streamdrift

    k, rows, width = ctx.sizes["small_files"], ctx.sizes["small_rows"], ctx.sizes["small_width"]
    ref = _data.parquet_parts("reference", k * rows, k, width=width)
    cur = _data.parquet_parts("current", k * rows, k, width=width)
    cols = _data.COLUMNS[:width]
    expected = parquet_oracle([ref], [cur], cols)
    fns = dict(
        dataset=lambda: pyarrow_dataset_iterate([ref, cur], cols, BATCH_SIZE),
        compare=lambda: streamdrift.compare(str(ref), str(cur), batch_size=BATCH_SIZE),
    )
    t = timed(fns, ctx.repeats)
    assert t["dataset"].result == 2 * k * rows
    check_report(t["compare"].result, expected, "compare of part files")
    common = dict(group="compare", t=t, name="compare", baseline="dataset",
                  baseline_name="pyarrow.dataset iterating the files")
    return [
        ratio_row(case=f"compare() of 2 x {k:,} part files of {rows:,} rows x {width} cols", limit=1.2,
                  target="<= 1.2x", **common),
        ratio_row(case="  same, CPU seconds of all threads (info)", key="cpu", **common),
    ]
