"""The baselines the groups measure against, and the one oracle (tests/oracle.py) they check with.

* pyarrow decoding alone: the best plain pyarrow loop, ``ParquetFile(path, pre_buffer=False)
  .iter_batches(batch_size, columns)``, in this process or in a subprocess of its own.
* the answer: ``tests.oracle`` (SPEC section 2 in plain numpy), the same module the tests use.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

from _harness import Measured, run_measured

from tests.oracle import finite_float64, oracle_feature

KL_TOL = 1e-12


def parquet_files(paths) -> list[Path]:
    """Each path itself, or a directory's ``*.parquet`` files in name order."""
    out = []
    for p in map(Path, paths):
        out.extend(sorted(q for q in p.iterdir() if q.suffix == ".parquet") if p.is_dir() else [p])
    return out


def pyarrow_iterate(paths, columns, batch_size, pre_buffer=False) -> int:
    """pyarrow alone decoding the same files, columns and batch size; returns the rows read."""
    import pyarrow.parquet as pq

    rows = 0
    for f in parquet_files(paths):
        for b in pq.ParquetFile(f, pre_buffer=pre_buffer).iter_batches(batch_size=batch_size, columns=columns):
            rows += b.num_rows
    return rows


def pyarrow_dataset_iterate(paths, columns, batch_size) -> int:
    """``pyarrow.dataset`` iterating the same files (its own readahead and threads), rows read."""
    import pyarrow.dataset as ds

    dataset = ds.dataset([str(f) for f in parquet_files(paths)], format="parquet")
    return sum(b.num_rows for b in dataset.to_batches(columns=columns, batch_size=batch_size))


# The same loop as ``pyarrow_iterate``, as a script for a subprocess of its own.
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


def pyarrow_command(batch_size: int, columns: list[str], paths) -> list[str]:
    return [sys.executable, "-c", PYARROW_ITER, str(batch_size), ",".join(columns), *map(str, paths)]


def pyarrow_subprocess(batch_size: int, columns: list[str], paths, rows: int) -> Measured:
    """The pyarrow baseline in its own process; it must count ``rows`` rows."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "rows"
        m = run_measured(pyarrow_command(batch_size, columns, paths), out, ok_codes=(0,))
        got = int(out.read_text())
    assert got == rows, f"pyarrow baseline read {got} rows, expected {rows}"
    return m


# ------------------------------------------------------------------------------- the answer


def arrow_to_float(col) -> np.ndarray:
    """An Arrow column as float64 with nulls as NaN (what the oracle takes)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    return pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False)


def parquet_oracle(ref_paths, cur_paths, columns) -> dict:
    """The oracle's result for each column of two Parquet datasets, read one column at a time."""
    import pyarrow.parquet as pq

    def column(paths, c):
        return np.concatenate([arrow_to_float(pq.read_table(f, columns=[c]).column(0))
                               for f in parquet_files(paths)])

    return {c: oracle_feature(column(ref_paths, c), column(cur_paths, c)) for c in columns}


def check_report(report, expected: dict, what: str) -> None:
    """Assert a streamdrift Report equals the oracle: exact counts, KL within 1e-12."""
    records = []
    for f in report:
        counts = {"ref_counts": f.reference_counts, "cur_counts": f.current_counts}
        records.append(f.to_dict() | ({} if f.kl is None else counts))
    check_records(records, expected, what)


def check_records(records: list[dict], expected: dict, what: str) -> None:
    """Assert JSON records (a report's, or ``--format json`` lines) equal the oracle's.

    Row counts exactly, bin counts exactly when the records carry them, KL within 1e-12.
    """
    got = {r["feature"]: r for r in records}
    assert list(got) == list(expected), f"{what}: features {list(got)} != {list(expected)}"
    for name, e in expected.items():
        r = got[name]
        for key in ("reference_count", "current_count", "missing_reference", "missing_current"):
            assert r[key] == e[key], f"{what}: {name}.{key} {r[key]} != {e[key]}"
        if e["kl"] is None:
            assert r["kl"] is None, f"{what}: {name} kl {r['kl']} but the oracle says undefined"
            continue
        for key in ("ref_counts", "cur_counts"):
            if key in r:
                assert list(r[key]) == e[key].tolist(), f"{what}: {name} {key} differ from the oracle's"
        assert abs(r["kl"] - e["kl"]) <= KL_TOL, f"{what}: {name} kl {r['kl']!r} != oracle {e['kl']!r}"


__all__ = ["KL_TOL", "finite_float64", "oracle_feature", "parquet_files", "pyarrow_iterate",
           "pyarrow_dataset_iterate", "pyarrow_command", "pyarrow_subprocess", "arrow_to_float",
           "parquet_oracle", "check_report", "check_records"]
