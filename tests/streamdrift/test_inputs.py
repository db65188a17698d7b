"""Every DataFrame library: anything with the Arrow PyCapsule stream interface (polars, DuckDB)."""

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from streamdrift import DriftError, compare, detect_drift
from streamdrift.demo import example_tables


@pytest.fixture(scope="module")
def tables():
    return example_tables(rows=500)


def test_polars_equals_pyarrow(tables):
    ref, cur = tables
    want = [f.to_dict() for f in compare(ref, cur)]
    assert [f.to_dict() for f in compare(pl.from_arrow(ref), pl.from_arrow(cur))] == want
    assert detect_drift(pl.from_arrow(ref), pl.from_arrow(cur)) == compare(ref, cur).kl()


def test_duckdb_relation_equals_pyarrow(tables):
    ref, cur = tables
    con = duckdb.connect()
    con.register("ref", ref)
    con.register("cur", cur)
    got = compare(con.sql("select * from ref"), con.sql("select * from cur"))
    assert [f.to_dict() for f in got] == [f.to_dict() for f in compare(ref, cur)]


def test_polars_strings_and_categoricals_are_categories():
    ref = pl.DataFrame({"s": ["a", "b", None, "a"], "c": pl.Series(["x", "y", "x", "x"], dtype=pl.Categorical)})
    cur = pl.DataFrame({"s": ["a", "c", "c", None], "c": pl.Series(["y", "y", "x", None], dtype=pl.Categorical)})
    report = compare(ref, cur)
    assert [f.kind for f in report] == ["categorical", "categorical"]
    assert report["s"].categories == ["a", "b", "c"] and report["s"].reference_counts == [2, 1, 0]
    assert report["s"].missing_reference == 1 and report["c"].missing_current == 1
    pandas = compare(ref.to_pandas(), cur.to_pandas())
    assert [f.to_dict() for f in pandas] == [f.to_dict() for f in report]


def test_a_stream_read_twice_must_give_the_same_rows():
    class Shrinking:
        def __init__(self):
            self.rows = 10

        def __arrow_c_stream__(self, requested_schema=None):
            self.rows -= 3
            return pa.table({"x": np.arange(self.rows, dtype=float)}).__arrow_c_stream__(requested_schema)

    with pytest.raises(DriftError, match="its Arrow stream gave 4 rows, then 1 when read again"):
        compare(Shrinking(), {"x": [1.0, 2.0]})


def test_a_record_batch_reader_is_read_once():
    ref = pa.table({"x": [1.0, 2.0, 3.0]})
    reader = pa.RecordBatchReader.from_batches(ref.schema, ref.to_batches())
    assert compare(reader, ref)["x"].kl == pytest.approx(0.0, abs=1e-9)


def test_unknown_inputs_name_the_accepted_ones():
    with pytest.raises(DriftError) as err:
        compare(42, {"x": [1.0]})
    assert str(err.value) == (
        "reference: cannot read a int; pass Parquet or Arrow IPC paths, a pyarrow Table/RecordBatch/"
        "RecordBatchReader/Dataset, a pandas DataFrame, a mapping of column name to array, or an object "
        "with the Arrow PyCapsule stream interface (__arrow_c_stream__: polars, DuckDB)")


def test_empty_dataframes_are_an_error_naming_the_side():
    with pytest.raises(DriftError, match="^current has no rows; drift needs at least one row on each side$"):
        compare(pd.DataFrame({"x": [1.0]}), pd.DataFrame({"x": pd.Series([], dtype=float)}))
    with pytest.raises(DriftError, match="^reference has no rows"):
        detect_drift(pl.DataFrame({"x": []}, schema={"x": pl.Float64}), pl.DataFrame({"x": [1.0]}))


def test_watch_reads_dataframes_and_relations_as_its_stream():
    """``watch()`` takes one in-memory dataset (any input compare takes) instead of paths."""
    from streamdrift.watch import watch

    ref = pa.table({"x": np.arange(100.0), "c": ["a", "b"] * 50})
    cur = pa.table({"x": np.arange(50.0, 170.0), "c": ["a", "z", "b"] * 40})

    def windows(r, c):
        return [rec for w in watch(r, c, window=50) for rec in w.records()]

    want = windows(ref, cur)
    assert [(r["feature"], r["window"]) for r in want] == [("x", 0), ("c", 0), ("x", 1), ("c", 1), ("x", 2), ("c", 2)]
    assert want[1] == {**compare(ref, cur.slice(0, 50))["c"].to_dict(), "window": 0, "start_row": 0, "end_row": 50,
                       "partial": False}
    con = duckdb.connect()
    con.register("cur", cur)
    assert windows(pl.from_arrow(ref), pl.from_arrow(cur)) == want
    assert windows(ref, con.sql("select * from cur order by x")) == want
    assert windows(ref, pa.RecordBatchReader.from_batches(cur.schema, cur.to_batches(max_chunksize=7))) == want
    with pytest.raises(DriftError, match="^column 'c' is string in reference but double in current; "):
        windows(ref, pa.table({"x": [1.0], "c": [1.0]}))
    with pytest.raises(DriftError, match="^no rows in current; a watch needs at least one row$"):
        windows(ref, cur.slice(0, 0))
    with pytest.raises(DriftError, match="pass paths, not in-memory data"):
        list(watch(ref, cur, follow=True))
