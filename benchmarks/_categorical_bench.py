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


def bench_categorical(sz, data_dir, timed, row, kl_tol):
    from streamdrift import compare

    rows_n = sz["categorical_rows"]
    ref, cur = string_file(data_dir, "reference", rows_n), string_file(data_dir, "current", rows_n)
    batch_size = 65_536
    t = timed(dict(
        pyarrow=lambda: pyarrow_value_counts([ref, cur], batch_size),
        compare=lambda: compare(str(ref), str(cur), batch_size=batch_size),
        pandas=lambda: pandas_value_counts([ref, cur]),
        pyarrow_dictionary=lambda: pyarrow_value_counts([ref, cur], batch_size, ["code"]),
    ), sz["repeats"])
    _check(t["compare"]["result"]["code"], t["pandas"]["result"], kl_tol)
    size = f"2 x {rows_n / 1e6:g}M rows, 1 string column, {CATEGORIES} categories, batch {batch_size}"
    c, base, pd_ = t["compare"]["best"], t["pyarrow"]["best"], t["pandas"]["best"]
    samples = {k: v["samples"] for k, v in t.items()}
    return [
        row("categorical", f"compare() of a string column, {size}", c, "s",
            "pyarrow iter_batches + value_counts per batch", base, c / base, f"{c / base:.2f}x of pyarrow",
            "<= 1.5x", c / base <= 1.5, samples=samples),
        row("categorical", "  same, against pandas read_parquet + value_counts", c, "s",
            "pandas read_parquet + value_counts", pd_, pd_ / c, f"{pd_ / c:.2f}x faster than pandas",
            ">= 5x faster", pd_ / c >= 5),
        row("categorical", "  pyarrow read as dictionaries + value_counts per batch, as streamdrift reads (info)",
            t["pyarrow_dictionary"]["best"], "s", "pyarrow iter_batches + value_counts per batch", base,
            t["pyarrow_dictionary"]["best"] / base, f"{t['pyarrow_dictionary']['best'] / base:.2f}x"),
    ]


def _check(feature, pandas_counts, kl_tol) -> None:
    ref, cur = pandas_counts
    cats = sorted(set(ref) | set(cur), key=lambda v: v.encode())
    assert feature.categories == cats, "categories differ from pandas"
    assert feature.reference_counts == [ref.get(k, 0) for k in cats], "reference counts differ from pandas"
    assert feature.current_counts == [cur.get(k, 0) for k in cats], "current counts differ from pandas"
    p = (np.array(feature.reference_counts, dtype=float) + 1e-10)
    q = (np.array(feature.current_counts, dtype=float) + 1e-10)
    p, q = p / p.sum(), q / q.sum()
    assert abs(feature.kl - float(np.sum(p * np.log(p / q)))) <= kl_tol, "KL differs from the formula"
