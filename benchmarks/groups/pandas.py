"""``compare`` of pandas DataFrames against the same columns handed over as numpy arrays.

The numpy-backed frame should cost what its arrays cost (zero-copy columns); nullable
(``Float64``/``Int64``) and Arrow-backed (``ArrowDtype``) frames are timed beside, for information.
A call takes 15-20 ms, where one scheduler hiccup on a shared machine is a fifth of it: the
ratio is the median of at least ``ROUNDS`` interleaved rounds (a few seconds in all).
"""

from __future__ import annotations

import _data
from _baselines import check_report, parquet_oracle
from _harness import Row, ratio_row, timed

ORDER = 25
ROUNDS = 25
SIZES = {"full": {"rows": 1_000_000}, "quick": {"rows": 100_000}}


def run(ctx) -> list[Row]:
    import pandas as pd
    import pyarrow.parquet as pq
    import streamdrift

    n = ctx.sizes["rows"]
    ref_path, cur_path = _data.parquet_file("reference", n), _data.parquet_file("current", n)
    ref_t, cur_t = pq.read_table(ref_path), pq.read_table(cur_path)
    ref_df, cur_df = ref_t.to_pandas(), cur_t.to_pandas()
    ref_np = {c: ref_df[c].to_numpy() for c in ref_df.columns}
    cur_np = {c: cur_df[c].to_numpy() for c in cur_df.columns}
    ref_nullable, cur_nullable = ref_df.convert_dtypes(), cur_df.convert_dtypes()
    ref_arrow, cur_arrow = ref_t.to_pandas(types_mapper=pd.ArrowDtype), cur_t.to_pandas(types_mapper=pd.ArrowDtype)
    expected = parquet_oracle([ref_path], [cur_path], _data.COLUMNS)
    fns = dict(numpy=lambda: streamdrift.compare(ref_np, cur_np), pandas=lambda: streamdrift.compare(ref_df, cur_df),
               nullable=lambda: streamdrift.compare(ref_nullable, cur_nullable),
               arrow=lambda: streamdrift.compare(ref_arrow, cur_arrow))
    t = timed(fns, max(ctx.repeats + 2, ROUNDS))
    for name in fns:
        check_report(t[name].result, expected, f"compare of {name} columns")
    size = f"{n / 1e6:g}M rows x {len(_data.COLUMNS)} (float64, float32, int64, NaN)"
    common = dict(group="pandas", t=t, baseline="numpy", baseline_name="same columns as numpy arrays")
    return [
        ratio_row(case=f"compare() of numpy-backed DataFrames, {size}", name="pandas", limit=1.1, target="<= 1.1x",
                  **common),
        ratio_row(case="  same as nullable dtypes (Float64, Int64; info)", name="nullable", **common),
        ratio_row(case="  same as Arrow-backed dtypes (pd.ArrowDtype; info)", name="arrow", **common),
    ]
