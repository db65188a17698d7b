"""Deterministic, cheap benchmark data: in-memory arrays and Parquet files under benchmarks/data/.

Everything is drawn from ``numpy.random.default_rng`` with fixed seeds, chunk by chunk, so
a file of N rows is the same bytes on every machine and is generated in bounded memory.
Files are written to a temporary name and renamed, and reused when present (the name
holds the row count and a format version; bump ``VERSION`` when the recipe changes).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

VERSION = 1
DATA_DIR = Path(__file__).resolve().parent / "data"
CHUNK_ROWS = 1_000_000  # rows per generation chunk = per Parquet row group

# Ten features of the kinds monitors see: normals, a heavy tail, an integer, a float32,
# a column with nulls. The "current" side drifts in three of them (f1 shifted, f4 wider,
# f9 heavier), the rest keep their distribution.
COLUMNS = [f"f{i}" for i in range(10)]
_SPEC = {
    #       (kind,      loc,     scale,  current loc, current scale)
    "f0": ("normal", 0.0, 1.0, 0.0, 1.0),
    "f1": ("normal", 40.0, 10.0, 45.0, 10.0),
    "f2": ("normal", 60000.0, 8000.0, 60000.0, 8000.0),
    "f3": ("normal", 170.0, 7.0, 170.0, 7.0),
    "f4": ("normal", -3.0, 2.0, -3.0, 3.0),
    "f5": ("normal", 1e12, 1e3, 1e12, 1e3),
    "f6": ("float32", 5.0, 2.0, 5.0, 2.0),
    "f7": ("int", 100.0, 15.0, 100.0, 15.0),
    "f8": ("nulls", 0.0, 1.0, 0.0, 1.0),
    "f9": ("lognormal", 0.0, 1.0, 0.0, 1.3),
}
NULL_FRACTION = 0.01


def normal_pair(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two float64 arrays of ``n`` values (reference ~ N(0, 1), current ~ N(0.3, 1.2)), a few NaN."""
    rng = np.random.default_rng(seed)
    ref = rng.standard_normal(n)
    cur = rng.standard_normal(n)
    cur *= 1.2
    cur += 0.3
    # One missing value in 10,000 on each side: the kernels' missing path is exercised.
    ref[rng.integers(0, n, size=max(1, n // 10_000))] = np.nan
    cur[rng.integers(0, n, size=max(1, n // 10_000))] = np.nan
    return ref, cur


def feature_arrays(features: int, n: int, seed: int = 1) -> tuple[dict, dict]:
    """``features`` float64 columns of ``n`` values per side, as name -> ndarray mappings."""
    ref, cur = {}, {}
    for j in range(features):
        rng = np.random.default_rng([seed, j])
        ref[f"f{j}"] = rng.standard_normal(n) * (1 + j) + j
        cur[f"f{j}"] = rng.standard_normal(n) * (1 + j) + j + 0.1 * (j % 3)
    return ref, cur


@functools.lru_cache(maxsize=2)  # many small part files are cut from one chunk
def _chunk(side: str, start_row: int):
    """The ``CHUNK_ROWS``-row Table that starts at ``start_row``: a function of (side, chunk index) only."""
    import pyarrow as pa

    idx = start_row // CHUNK_ROWS
    rows = CHUNK_ROWS
    rng = np.random.default_rng([VERSION, 0 if side == "reference" else 1, idx])
    arrays = []
    for name in COLUMNS:
        kind, loc, scale, cloc, cscale = _SPEC[name]
        if side == "current":
            loc, scale = cloc, cscale
        z = rng.standard_normal(rows)
        if kind == "lognormal":
            values = np.exp(z * scale + loc)
        else:
            values = z * scale + loc
        if kind == "float32":
            arrays.append(pa.array(values.astype(np.float32)))
        elif kind == "int":
            arrays.append(pa.array(np.rint(values).astype(np.int64)))
        elif kind == "nulls":
            mask = rng.random(rows) < NULL_FRACTION
            arrays.append(pa.array(values, mask=mask))
        else:
            arrays.append(pa.array(values))
    return pa.table(arrays, names=COLUMNS)


def write_parquet(path: Path, side: str, rows: int, start_row: int = 0, width: int = len(COLUMNS)) -> Path:
    """Write ``rows`` rows of the first ``width`` columns of ``side`` from ``start_row`` (snappy, statistics)."""
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    writer = None
    try:
        row = start_row
        end = start_row + rows
        while row < end:
            # Chunks are aligned to CHUNK_ROWS so that any slice of the stream is the same data.
            chunk_start = (row // CHUNK_ROWS) * CHUNK_ROWS
            take = min(end, chunk_start + CHUNK_ROWS) - row
            table = _chunk(side, chunk_start)
            table = table.slice(row - chunk_start, take).select(COLUMNS[:width])
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema, compression="snappy", write_statistics=True)
            writer.write_table(table, row_group_size=CHUNK_ROWS)
            row += take
    finally:
        if writer is not None:
            writer.close()
    _digest_path(path).write_text(_digest(tmp))
    os.replace(tmp, path)
    return path


def _digest_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.sha256")


def _digest(path: Path) -> str:
    import hashlib

    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _present(path: Path, rows: int) -> bool:
    """True when ``path`` is the file written earlier: its footer's row count and its bytes' digest."""
    if not path.exists():
        return False
    try:
        import pyarrow.parquet as pq

        if pq.ParquetFile(path).metadata.num_rows != rows:
            return False
        return _digest_path(path).read_text().strip() == _digest(path)
    except Exception:
        return False


def parquet_file(side: str, rows: int) -> Path:
    """The path of a ``rows``-row Parquet file of ``side`` ("reference"/"current"), made once."""
    path = DATA_DIR / f"{side}_{rows}x{len(COLUMNS)}_v{VERSION}.parquet"
    if not _present(path, rows):
        write_parquet(path, side, rows)
    return path


def parquet_parts(side: str, rows: int, parts: int, width: int = len(COLUMNS)) -> Path:
    """A directory of ``parts`` Parquet part files holding ``rows`` rows of ``side`` in order."""
    folder = DATA_DIR / f"{side}_{rows}x{width}_{parts}parts_v{VERSION}"
    per = -(-rows // parts)
    start = 0
    for k in range(parts):
        n = min(per, rows - start)
        path = folder / f"part-{k:05d}.parquet"
        if not _present(path, n):
            write_parquet(path, side, n, start_row=start, width=width)
        start += n
    return folder
