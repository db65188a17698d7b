"""Start-up: small numeric comparisons and watches never import numba, pyarrow.compute or pandas.

Together they cost more than numpy and pyarrow.parquet (about 1 s of numba's import and
first dispatch, a third of the base import for pyarrow.compute); small inputs take plain
numpy (identical results: test_kernels.py), and only categorical features need compute.
"""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from tests.streamdrift.cli_helpers import modules_loaded, sd

HEAVY = ("numba", "pyarrow.compute", "pandas")


def write(tmp_path, rows: int):
    rng = np.random.default_rng(5)
    for name in ("a", "b"):
        table = pa.table({"x": rng.normal(0, 1, rows), "n": rng.integers(0, 9, rows),
                          "f": rng.normal(0, 1, rows).astype(np.float32)})
        pq.write_table(table, tmp_path / f"{name}.parquet")


def test_a_small_comparison_imports_none_of_the_heavy_modules(tmp_path):
    write(tmp_path, 100)
    assert modules_loaded(["compare", tmp_path / "a.parquet", tmp_path / "b.parquet"], HEAVY) == []


def test_a_small_watch_with_a_saved_profile_imports_none_of_the_heavy_modules(tmp_path):
    write(tmp_path, 1000)
    assert sd("profile", tmp_path / "a.parquet", "-o", tmp_path / "a.profile").returncode == 0
    args = ["watch", "--reference", tmp_path / "a.profile", tmp_path / "b.parquet", "--format", "json"]
    assert modules_loaded(args, HEAVY) == []
