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


EXPECTING = """
import json, sys
import numpy as np, pyarrow as pa, pyarrow.parquet as pq
from streamdrift import _kernels, compare
_kernels.SMALL_VALUES = int(sys.argv[3])  # the numpy path's budget, in values
report = compare(sys.argv[1], sys.argv[2])
print(json.dumps(dict(numba="numba" in sys.modules, numpy_values=_kernels._small_values,
                      features=[f.to_dict() for f in report])))
"""


def test_files_too_big_for_the_numpy_budget_load_the_kernels_before_counting(tmp_path):
    """Footers give the rows: when they exceed the numpy path's budget, no value takes that path first."""
    import json
    import subprocess
    import sys

    write(tmp_path, 3000)  # 3 features x 3,000 rows a side: 18,000 values counted
    runs = {}
    for budget in (10_000, 100_000):
        p = subprocess.run([sys.executable, "-c", EXPECTING, str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet"),
                            str(budget)], capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, p.stderr
        runs[budget] = json.loads(p.stdout.splitlines()[-1])
    assert runs[10_000]["numba"] and runs[10_000]["numpy_values"] == 0
    assert not runs[100_000]["numba"] and runs[100_000]["numpy_values"] > 0
    assert runs[10_000]["features"] == runs[100_000]["features"]
