"""Categorical features: ``compare`` of one string column against pyarrow and pandas routes.

Data: a reference and a current Parquet file of one string column (``carrier``-like codes
from 2,000 categories, Zipf-like, 1% nulls; the current side shifted and with new codes),
written once under benchmarks/data/ from fixed seeds, in 1M-row chunks.

* baseline 1, pyarrow alone: ``ParquetFile(pre_buffer=False).iter_batches`` over both files
  plus ``pyarrow.compute.value_counts`` of every batch (not even merged): the floor.
* baseline 2, pandas: ``pandas.read_parquet(path, columns=[c])[c].value_counts()`` per file.

streamdrift reads string columns of Parquet files as dictionaries (``read_dictionary``:
indices into each page's dictionary, the strings decoded once per dictionary) and counts the
indices with ``numpy.bincount``; the same pyarrow read followed by ``value_counts`` is timed
beside, for information, so the table shows where the speed comes from.

Both baselines' counts are checked equal to streamdrift's; KL is checked against the
pandas oracle formula to 1e-12.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import _data
from _baselines import KL_TOL
from _harness import Row, ratio_row, timed

from tests.oracle import oracle_kl

ORDER = 35
SIZES = {"full": {"rows": 10_000_000}, "quick": {"rows": 500_000}}

CATEGORIES = 2_000
CHUNK_ROWS = 1_000_000
VERSION = 1


def _codes(k: int) -> np.ndarray:
    return np.array([f"C{i:05d}" for i in range(k)], dtype=object)


def _chunk(side: str, idx: int, rows: int):
    import pyarrow as pa

    rng = np.random.default_rng([VERSION, 0 if side == "reference" else 1, idx])
    weights = 1.0 / np.arange(1, CATEGORIES + 1) ** (1.1 if side == "reference" else 1.0)
    weights /= weights.sum()
    index = rng.choice(CATEGORIES, size=rows, p=weights)
    if side == "current":
        index = (index + 50) % (CATEGORIES + 100)  # 100 codes the reference never has
    values = pa.array(_codes(CATEGORIES + 100)).take(pa.array(index))
    mask = pa.array(rng.random(rows) < 0.01)
    return pa.table({"code": pa.compute.if_else(mask, pa.scalar(None, pa.string()), values)})


def string_file(data_dir: Path, side: str, rows: int) -> Path:
    """A ``rows``-row Parquet file of one string column, made once (snappy, dictionary-encoded pages)."""
    import pyarrow.parquet as pq

    path = data_dir / f"categorical_{side}_{rows}_v{VERSION}.parquet"
    if path.exists() and pq.ParquetFile(path).metadata.num_rows == rows:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with pq.ParquetWriter(tmp, _chunk(side, 0, 1).schema, compression="snappy") as writer:
        for idx, start in enumerate(range(0, rows, CHUNK_ROWS)):
            writer.write_table(_chunk(side, idx, min(CHUNK_ROWS, rows - start)), row_group_size=CHUNK_ROWS)
    tmp.replace(path)
    return path


def pyarrow_value_counts(paths, batch_size: int, dictionary=None) -> int:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    distinct = 0
    for path in paths:
        with pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 20, read_dictionary=dictionary) as pf:
            for batch in pf.iter_batches(batch_size=batch_size, columns=["code"]):
                distinct += len(pc.value_counts(batch.column(0)))
    return distinct


def pandas_value_counts(paths) -> list[dict]:
    import pandas as pd

    return [pd.read_parquet(p, columns=["code"])["code"].value_counts(dropna=True).to_dict() for p in paths]


def run(ctx) -> list[Row]:
    from streamdrift import compare

    rows_n = ctx.sizes["rows"]
    ref, cur = string_file(_data.DATA_DIR, "reference", rows_n), string_file(_data.DATA_DIR, "current", rows_n)
    batch_size = 65_536
    t = timed(dict(
        pyarrow=lambda: pyarrow_value_counts([ref, cur], batch_size),
        compare=lambda: compare(str(ref), str(cur), batch_size=batch_size),
        pandas=lambda: pandas_value_counts([ref, cur]),
        pyarrow_dictionary=lambda: pyarrow_value_counts([ref, cur], batch_size, ["code"]),
    ), ctx.repeats)
    _check(t["compare"].result["code"], t["pandas"].result)
    size = f"2 x {rows_n / 1e6:g}M rows, 1 string column, {CATEGORIES} categories, batch {batch_size}"
    return [
        ratio_row(group="categorical", case=f"compare() of a string column, {size}", t=t, name="compare",
                  baseline="pyarrow", baseline_name="pyarrow iter_batches + value_counts per batch", limit=1.5,
                  target="<= 1.5x"),
        ratio_row(group="categorical", case="  same, against pandas read_parquet + value_counts", t=t,
                  name="compare", baseline="pandas", baseline_name="pandas read_parquet + value_counts",
                  faster=True, limit=5.0, target=">= 5x faster"),
        ratio_row(group="categorical", case="  pyarrow read as dictionaries + value_counts per batch, as streamdrift "
                  "reads (info)", t=t, name="pyarrow_dictionary", baseline="pyarrow",
                  baseline_name="pyarrow iter_batches + value_counts per batch"),
    ]


def _check(feature, pandas_counts) -> None:
    ref, cur = pandas_counts
    cats = sorted(set(ref) | set(cur), key=lambda v: v.encode())
    assert feature.categories == cats, "categories differ from pandas"
    assert feature.reference_counts == [ref.get(k, 0) for k in cats], "reference counts differ from pandas"
    assert feature.current_counts == [cur.get(k, 0) for k in cats], "current counts differ from pandas"
    want = oracle_kl(feature.reference_counts, feature.current_counts)
    assert abs(feature.kl - want) <= KL_TOL, "KL differs from the oracle's"
