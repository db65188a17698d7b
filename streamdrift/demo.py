"""The built-in demo data: the original task's example, seeded, as Arrow tables (no pandas)."""

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def example_tables(rows: int = 2000, seed: int = 42) -> tuple[pa.Table, pa.Table]:
    """SPEC's example: age, income, height; the current side shifts age and scales income.

    Drawn exactly as the original task did (``numpy.random.seed(seed)``, in that order),
    so 2,000 rows give age 0.1858, income 0.3224, height 0.0.
    """
    rng = np.random.RandomState(seed)
    age = rng.normal(40, 10, rows)
    income = rng.normal(60000, 8000, rows)
    height = rng.normal(170, 7, rows)
    new_age = age + rng.normal(5, 2, rows)
    reference = pa.table({"age": age, "income": income, "height": height})
    current = pa.table({"age": new_age, "income": income * 1.1, "height": height})
    return reference, current


def write_example(out: Path, rows: int = 2000, seed: int = 42) -> tuple[Path, Path]:
    """Write ``reference.parquet`` and ``current.parquet`` into ``out``; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    reference, current = example_tables(rows, seed)
    paths = out / "reference.parquet", out / "current.parquet"
    pq.write_table(reference, paths[0])
    pq.write_table(current, paths[1])
    return paths


def stream_tables(parts: int = 8, rows_per_part: int = 5000, reference_rows: int = 20000, seed: int = 7):
    """A reference and a stream of ``parts`` tables whose second half drifts like the example.

    The first half is drawn from the reference's distribution; from part ``parts // 2`` on,
    age shifts by N(5, 2) and income grows by 10%, as in ``example_tables``.
    """
    rng = np.random.RandomState(seed)

    def draw(n):
        return rng.normal(40, 10, n), rng.normal(60000, 8000, n), rng.normal(170, 7, n)

    age, income, height = draw(reference_rows)
    reference = pa.table({"age": age, "income": income, "height": height})
    stream = []
    for i in range(parts):
        age, income, height = draw(rows_per_part)
        if i >= parts // 2:
            age = age + rng.normal(5, 2, rows_per_part)
            income = income * 1.1
        stream.append(pa.table({"age": age, "income": income, "height": height}))
    return reference, stream


def write_stream(out: Path, parts: int = 8, rows_per_part: int = 5000, seed: int = 7) -> tuple[Path, Path]:
    """Write ``stream-reference.parquet`` and ``stream/part-NNN.parquet`` into ``out``; return both paths."""
    out.mkdir(parents=True, exist_ok=True)
    reference, stream = stream_tables(parts, rows_per_part, seed=seed)
    ref_path, folder = out / "stream-reference.parquet", out / "stream"
    folder.mkdir(exist_ok=True)
    pq.write_table(reference, ref_path)
    for i, table in enumerate(stream):
        pq.write_table(table, folder / f"part-{i:03d}.parquet")
    return ref_path, folder
