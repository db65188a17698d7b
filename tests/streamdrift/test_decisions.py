"""Drift decisions that a mutation trial found untested: KL equal to the threshold is no drift
(``KL > threshold``, strictly), and a watch whose early window drifted exits 1 even when its last is calm."""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from streamdrift import compare, detect_drift
from tests.streamdrift.cli_helpers import records, sd


def identical():
    rng = np.random.default_rng(5)
    x = rng.normal(0, 1, 1000)
    return {"x": x, "n": rng.integers(0, 9, 1000)}


def test_identical_columns_at_threshold_zero_have_not_drifted_in_compare():
    report = compare(identical(), identical(), threshold=0.0)
    assert [(f.feature, f.kl, f.drifted) for f in report] == [("x", 0.0, False), ("n", 0.0, False)]
    assert report.exit_code == 0


def test_identical_columns_at_threshold_zero_have_not_drifted_in_detect_drift(capsys):
    import pandas as pd

    result = detect_drift(pd.DataFrame(identical()), pd.DataFrame(identical()), threshold=0.0)
    assert result == {"x": 0.0, "n": 0.0}
    assert capsys.readouterr().out == ""  # nothing printed: no column drifted


def test_identical_columns_at_threshold_zero_have_not_drifted_on_the_command_line(tmp_path):
    pq.write_table(pa.table(identical()), tmp_path / "a.parquet")
    pq.write_table(pa.table(identical()), tmp_path / "b.parquet")
    r = sd("compare", tmp_path / "a.parquet", tmp_path / "b.parquet", "-t", "0", "--format", "json")
    assert r.returncode == 0, r.stderr
    assert [(x["kl"], x["drifted"]) for x in records(r.stdout)] == [(0.0, False), (0.0, False)]
    r = sd("watch", "-r", tmp_path / "a.parquet", tmp_path / "b.parquet", "-t", "0", "-w", "1000")
    assert r.returncode == 0 and "Drifted" not in r.stdout.decode(), r.stdout


def test_an_early_drifted_window_makes_the_exit_status_1_when_the_last_is_calm(tmp_path):
    rng = np.random.default_rng(9)
    pq.write_table(pa.table({"x": rng.normal(0, 1, 2000)}), tmp_path / "ref.parquet")
    parts = tmp_path / "parts"
    parts.mkdir()
    pq.write_table(pa.table({"x": rng.normal(5, 1, 500)}), parts / "part-0.parquet")  # drifted
    pq.write_table(pa.table({"x": rng.normal(0, 1, 500)}), parts / "part-1.parquet")  # calm, and last
    r = sd("watch", "-r", tmp_path / "ref.parquet", parts, "-w", "500")
    lines = r.stdout.decode().splitlines()
    assert lines[0] == "window 0 rows 0-499: 1 of 1 features drifted" and lines[1].startswith("Drifted: x (KL=")
    assert lines[2] == "window 1 rows 500-999: 0 of 1 features drifted" and len(lines) == 3
    assert r.returncode == 1, r.stderr
