"""compare(): every route (in-memory, Parquet statistics, Parquet scan) gives the oracle's answer."""

import math
import pickle
import threading

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import streamdrift
from streamdrift import DriftError, compare, detect_drift
from streamdrift.demo import example_tables
from streamdrift.defaults import EPS
from streamdrift.files import parquet_statistics_range
from streamdrift.io import FileSource
from streamdrift.report import Report


def numpy_kl(ref, cur, bins=20):
    """SPEC section 2 with numpy (kept local so this file reads on its own)."""
    ref = np.asarray(ref, dtype=np.float64)
    cur = np.asarray(cur, dtype=np.float64)
    ref, cur = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
    if ref.size == 0 or cur.size == 0:
        return None, None
    edges = np.linspace(min(ref.min(), cur.min()), max(ref.max(), cur.max()), bins + 1)
    cr, cc = np.histogram(ref, bins=edges)[0], np.histogram(cur, bins=edges)[0]
    p = (cr + EPS) / np.sum(cr + EPS)
    q = (cc + EPS) / np.sum(cc + EPS)
    return float(np.sum(p * np.log(p / q))), (cr, cc)


def assert_matches_numpy(report, ref_cols, cur_cols):
    for f in report:
        kl, counts = numpy_kl(ref_cols[f.feature], cur_cols[f.feature])
        if kl is None:
            assert f.kl is None and f.reason and not f.drifted
            continue
        assert f.reference_counts == counts[0].tolist()
        assert f.current_counts == counts[1].tolist()
        assert abs(f.kl - kl) <= 1e-12
        assert f.drifted == (f.kl > report.threshold)


def test_spec_example_golden_values():
    ref, cur = example_tables()
    report = compare(ref, cur)
    assert [round(f.kl, 4) for f in report] == [0.1858, 0.3224, 0.0]
    assert [f.feature for f in report.drifted] == ["age", "income"]
    assert report.exit_code == 1
    assert str(report) == "Drifted: age (KL=0.1858)\nDrifted: income (KL=0.3224)"


def test_detect_drift_prints_and_returns(capsys):
    pd = pytest.importorskip("pandas")
    ref, cur = example_tables()
    out = detect_drift(ref.to_pandas(), cur.to_pandas())
    assert capsys.readouterr().out == "Drifted: age (KL=0.1858)\nDrifted: income (KL=0.3224)\n"
    assert list(out) == ["age", "income", "height"]
    assert out["height"] == 0.0 and isinstance(out["age"], float)
    old = pd.DataFrame({"a": [1.0, 2.0, np.nan], "b": [np.nan] * 3})
    got = detect_drift(old, old)
    assert got["a"] == 0.0 and math.isnan(got["b"])


def test_json_record_keys():
    ref, cur = example_tables()
    record = compare(ref, cur).to_dict()["features"][0]
    assert list(record)[:8] == [
        "feature", "kl", "drifted", "threshold", "reference_count", "current_count",
        "missing_reference", "missing_current",
    ]
    assert record["reference_count"] == 2000 and record["threshold"] == 0.1


def write(tmp_path, name, table, **kw):
    path = tmp_path / name
    pq.write_table(table, path, **kw)
    return path


values = st.lists(
    st.one_of(
        st.floats(min_value=-1e6, max_value=1e6),
        st.sampled_from([0.0, 1.0, -1.0, 0.5, 1e-300, np.nan, np.inf, -np.inf]),
        st.none(),
    ),
    min_size=0,
    max_size=60,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ref=values, cur=values, batch=st.integers(1, 50), group=st.integers(1, 40), stats=st.booleans())
def test_parquet_routes_equal_numpy(tmp_path_factory, ref, cur, batch, group, stats):
    tmp = tmp_path_factory.mktemp("pq")
    to_np = lambda xs: np.array([np.nan if x is None else x for x in xs], dtype=np.float64)  # noqa: E731
    ref_t = pa.table({"x": pa.array(ref, type=pa.float64()), "n": pa.array(np.arange(len(ref)))})
    cur_t = pa.table({"x": pa.array(cur, type=pa.float64()), "n": pa.array(np.arange(len(cur)))})
    r = write(tmp, "r.parquet", ref_t, row_group_size=group)
    c = write(tmp, "c.parquet", cur_t, row_group_size=group)
    if not ref or not cur:  # a side without rows is an error naming it, never "no drift"
        side = "reference" if not ref else "current"
        with pytest.raises(DriftError, match=f"^{side} '.*' has no rows; drift needs at least one row on each side$"):
            compare(r, c, batch_size=batch, use_statistics=stats)
        return
    report = compare(r, c, batch_size=batch, use_statistics=stats)
    assert_matches_numpy(report, {"x": to_np(ref), "n": np.arange(len(ref))}, {"x": to_np(cur), "n": np.arange(len(cur))})
    memory = compare(ref_t, cur_t)
    assert [f.to_dict() for f in memory] == [f.to_dict() for f in report]
    x = report["x"]
    assert x.reference_count + x.missing_reference == len(ref)
    assert x.current_count + x.missing_current == len(cur)


def test_statistics_route_decodes_each_side_once(tmp_path, monkeypatch):
    ref, cur = example_tables(rows=5000)
    r, c = write(tmp_path, "r.parquet", ref, row_group_size=1000), write(tmp_path, "c.parquet", cur, row_group_size=700)
    passes = []
    original = FileSource.batches

    def counting(self, columns, batch_size):
        passes.append(self.name)
        return original(self, columns, batch_size)

    monkeypatch.setattr(FileSource, "batches", counting)
    with_stats = compare(r, c)
    assert len(passes) == 2
    passes.clear()
    scanned = compare(r, c, use_statistics=False)
    assert len(passes) == 4
    assert [f.to_dict() for f in with_stats] == [f.to_dict() for f in scanned]


def test_the_counts_are_decoded_while_the_statistics_are_read(tmp_path, monkeypatch):
    ref, cur = example_tables(rows=3000)
    r, c = write(tmp_path, "r.parquet", ref), write(tmp_path, "c.parquet", cur)
    reading, waited = threading.Event(), []
    batches, statistics_ranges = FileSource.batches, FileSource.statistics_ranges

    def noted(self, columns, batch_size):
        reading.set()
        return batches(self, columns, batch_size)

    def waiting(self, columns):  # the reference's first file is read before the current's statistics
        if self.name == f"'{c}'":
            waited.append(reading.wait(10))
        return statistics_ranges(self, columns)

    monkeypatch.setattr(FileSource, "batches", noted)
    monkeypatch.setattr(FileSource, "statistics_ranges", waiting)
    got = compare(r, c)
    assert waited and all(waited)
    monkeypatch.undo()
    assert [f.to_dict() for f in got] == [f.to_dict() for f in compare(r, c, use_statistics=False)]


@pytest.mark.parametrize("lie", [(-1e9, 1e9), (45.0, 50.0), (0.0, 0.0)])
def test_lying_statistics_are_detected_and_corrected(tmp_path, monkeypatch, lie):
    ref, cur = example_tables()
    r, c = write(tmp_path, "r.parquet", ref), write(tmp_path, "c.parquet", cur)
    truth = compare(r, c, use_statistics=False)
    monkeypatch.setattr(FileSource, "statistics_ranges", lambda self, columns: dict.fromkeys(columns, lie))
    assert [f.to_dict() for f in compare(r, c)] == [f.to_dict() for f in truth]


def test_a_lying_footer_range_too_wide_to_bin_is_rescanned(tmp_path, monkeypatch):
    """Its stand-in edges [0, 0] would "span" data that is all 0.0 and pass the check."""
    big = np.finfo(np.float64).max
    r = write(tmp_path, "r.parquet", pa.table({"a": np.zeros(5)}))
    c = write(tmp_path, "c.parquet", pa.table({"a": np.zeros(3)}))
    truth = compare(r, c, use_statistics=False)
    monkeypatch.setattr(FileSource, "statistics_ranges", lambda self, columns: dict.fromkeys(columns, (-big, big)))
    report = compare(r, c)
    assert report["a"].kl is not None and [f.to_dict() for f in report] == [f.to_dict() for f in truth]


def test_statistics_trusted_only_when_exact(tmp_path):
    def stats(array, **kw):
        path = write(tmp_path, "s.parquet", pa.table({"x": array}), **kw)
        pf = pq.ParquetFile(path)
        return parquet_statistics_range(pf.metadata, pf.schema_arrow, "x")

    assert stats(pa.array([3.0, -1.0, None, np.nan, 7.5])) == (-1.0, 7.5)
    assert stats(pa.array([1, 5, 2], type=pa.int32())) == (1.0, 5.0)
    assert stats(pa.array([1.0, np.inf])) is None
    assert stats(pa.array([np.nan, np.nan, 1.0]), row_group_size=2) is None
    assert stats(pa.array([None, None, 1.0]), row_group_size=2) == (1.0, 1.0)
    assert stats(pa.array([1.0, 2.0]), write_statistics=False) is None
    assert stats(pa.array([1, 2], type=pa.uint64())) is None
    assert stats(pa.array([1.5, 2.5], type=pa.float32())) == (1.5, 2.5)


def test_all_missing_and_empty_sides_are_undefined_not_zero():
    ref = {"a": [np.nan, np.inf, -np.inf], "b": [1.0, 2.0, 3.0], "c": np.array([], dtype=float)}
    cur = {"a": [1.0, 2.0, 3.0], "b": [np.nan, np.nan, np.nan], "c": np.array([], dtype=float)}
    cur["c"] = np.array([np.nan, 1.0, 2.0])
    ref["c"] = np.array([np.nan, np.nan, np.nan])
    report = compare(ref, cur)
    for f in report:
        assert f.kl is None and not f.drifted
    assert report["a"].reason == "no finite values in reference (all missing)"
    assert report["a"].missing_reference == 3 and report["a"].current_count == 3
    assert report["b"].reason == "no finite values in current (all missing)"
    assert report.to_dict()["features"][0]["kl"] is None
    assert report.exit_code == 0


def test_range_wider_than_float64_is_undefined():
    report = compare({"x": [-1e308, 0.0]}, {"x": [1e308]})
    assert report["x"].kl is None and "overflows" in report["x"].reason


def test_threads_and_batch_sizes_agree():
    rng = np.random.default_rng(1)
    ref = pa.table({f"f{i}": rng.normal(i, 1, 10_000) for i in range(6)})
    cur = pa.table({f"f{i}": rng.normal(i + 0.1 * i, 1, 9_000) for i in range(6)})
    one = compare(ref, cur, threads=1)
    two = compare(ref.combine_chunks(), pa.Table.from_batches(cur.to_batches(max_chunksize=333)), threads=2)
    assert [f.to_dict() for f in one] == [f.to_dict() for f in two]


def test_directory_list_and_single_file_agree(tmp_path):
    ref, cur = example_tables(rows=3000)
    (tmp_path / "parts").mkdir()
    for i, start in enumerate(range(0, 3000, 1000)):
        pq.write_table(cur.slice(start, 1000), tmp_path / "parts" / f"part-{i:03d}.parquet")
    (tmp_path / "parts" / "_SUCCESS").write_text("")
    r = write(tmp_path, "r.parquet", ref)
    c = write(tmp_path, "c.parquet", cur)
    whole = [f.to_dict() for f in compare(r, c)]
    assert [f.to_dict() for f in compare(r, tmp_path / "parts")] == whole
    parts = sorted((tmp_path / "parts").glob("part-*.parquet"))
    assert [f.to_dict() for f in compare(str(r), [str(p) for p in parts])] == whole


def test_arrow_ipc_file_and_stream_inputs(tmp_path):
    ref, cur = example_tables()
    with pa.OSFile(str(tmp_path / "c.arrows"), "wb") as sink, pa.ipc.new_stream(sink, cur.schema) as w:
        for b in cur.to_batches(max_chunksize=300):
            w.write_batch(b)
    with pa.OSFile(str(tmp_path / "c.arrow"), "wb") as sink, pa.ipc.new_file(sink, cur.schema) as w:
        w.write_table(cur)
    expected = [f.to_dict() for f in compare(ref, cur)]
    assert [f.to_dict() for f in compare(ref, tmp_path / "c.arrows")] == expected
    assert [f.to_dict() for f in compare(ref, tmp_path / "c.arrow")] == expected


def test_numeric_types_and_order_of_reference_columns(tmp_path):
    import decimal

    ref = pa.table({
        "flag": pa.array([True, False, None, True]),
        "i8": pa.array([1, 2, 3, None], type=pa.int8()),
        "dec": pa.array([decimal.Decimal("1.5"), decimal.Decimal("2.25"), None, decimal.Decimal("9")]),
        "name": pa.array(["a", "b", "c", "d"]),
        "f32": pa.array([0.5, 1.5, np.nan, 2.5], type=pa.float32()),
    })
    cur = pa.table({
        "f32": pa.array([0.5, 0.5, 0.5, 9.5], type=pa.float32()),
        "dec": pa.array([decimal.Decimal("1.5")] * 4),
        "i8": pa.array([1, 1, 1, 1], type=pa.int8()),
        "flag": pa.array([False, False, True, False]),
        "name": pa.array(["x", "y", "z", "w"]),
    })
    report = compare(write(tmp_path, "r.parquet", ref), write(tmp_path, "c.parquet", cur))
    assert [(f.feature, f.kind) for f in report] == [
        ("flag", "numeric"), ("i8", "numeric"), ("dec", "numeric"), ("name", "categorical"), ("f32", "numeric")]
    assert report["name"].new_categories == 4 and report["name"].kl > 10
    to_float = lambda col: np.array([np.nan if v is None else float(v) for v in col.to_pylist()])  # noqa: E731
    numbers = Report([f for f in report if f.kind == "numeric"], report.threshold, report.bins)
    assert_matches_numpy(numbers, {n: to_float(ref[n]) for n in ref.column_names if n != "name"},
                         {n: to_float(cur[n]) for n in cur.column_names if n != "name"})


def test_int64_above_2_53_compares_as_float64():
    big = 2**53
    ref = {"x": np.array([big, big + 1, big + 2, big + 3], dtype=np.int64)}
    cur = {"x": np.array([big + 1, big + 1, big + 5, big + 7], dtype=np.int64)}
    assert_matches_numpy(compare(ref, cur), {"x": ref["x"].astype(float)}, {"x": cur["x"].astype(float)})


@pytest.mark.parametrize(
    "ref, cur, kwargs, message",
    [
        ({"a": [1.0], "b": [2.0]}, {"a": [1.0]}, {},
         "numeric column 'b' is in reference but not in current; name the columns to compare with columns=..."),
        ({"a": [1.0], "s": ["x"]}, {"a": [1.0]}, {},
         "categorical column 's' is in reference but not in current; name the columns to compare with columns=..."),
        ({"a": [1.0]}, {"a": ["x"]}, {},
         "column 'a' is double in reference but string in current; both sides must be numbers or both "
         "categories (or leave it out with columns=...)"),
        ({"a": [1.0], "s": [b"x"]}, {"a": [1.0], "s": [b"y"]}, {"columns": ["s"]},
         "column 's' in reference has type binary, which cannot be compared; features are numbers (integer, "
         "float, boolean, decimal), categories (string, dictionary) or times (binned as integers)"),
        ({"a": [1.0]}, {"a": [1.0]}, {"columns": ["zz"]},
         "column 'zz' is not in reference; its columns are: a"),
        ({"s": [b"x"]}, {"s": [b"y"]}, {},
         "no numeric or categorical (string, dictionary) columns in reference and current to compare; "
         "columns: s (binary)"),
        ({"a": [1.0]}, {"a": [1.0]}, {"threshold": -1}, "threshold must be a finite number >= 0, got -1"),
        ({"a": [1.0]}, {"a": [1.0]}, {"bins": 0}, "bins must be a whole number >= 1, got 0"),
    ],
)
def test_bad_input_names_the_column(ref, cur, kwargs, message):
    with pytest.raises(DriftError) as err:
        compare(ref, cur, **kwargs)
    assert str(err.value) == message


def test_columns_subset_skips_mismatched_others():
    report = compare({"a": [1.0, 2.0], "b": [1.0, 2.0]}, {"a": [1.0, 5.0]}, columns=["a"])
    assert [f.feature for f in report] == ["a"]


def test_file_missing_a_column_names_file_and_column(tmp_path):
    ref, cur = example_tables(rows=100)
    (tmp_path / "parts").mkdir()
    pq.write_table(cur, tmp_path / "parts" / "a.parquet")
    pq.write_table(cur.drop_columns(["income"]), tmp_path / "parts" / "b.parquet")
    with pytest.raises(DriftError, match=r"column 'income' is missing from '.*b\.parquet'"):
        compare(ref, tmp_path / "parts")


def test_report_pickles_and_is_iterable():
    ref, cur = example_tables()
    report = compare(ref, cur)
    again = pickle.loads(pickle.dumps(report))
    assert [f.to_dict() for f in again] == [f.to_dict() for f in report]
    assert len(report) == 3 and report["age"].drifted
    assert streamdrift.Report is type(report)


def test_range_problem_depends_on_bins():
    """A subnormal range numpy can cut into 20 bins but not into 100 (linspace edges decrease)."""
    ref, cur = {"x": [0.0, 1e-322]}, {"x": [2.8e-322]}
    assert compare(ref, cur)["x"].kl is not None
    wide = compare(ref, cur, bins=100)["x"]
    assert wide.kl is None and "too narrow to cut into 100 bins" in wide.reason


def test_the_package_names_stay_functions_after_any_submodule_import():
    """``streamdrift.compare`` is the function, even once every submodule has been imported."""
    import subprocess
    import sys

    code = (
        "import streamdrift.watch, streamdrift.profile, streamdrift.comparison\n"
        "import streamdrift\n"
        "from streamdrift import compare, detect_drift\n"
        "assert callable(streamdrift.compare) and callable(compare) and callable(detect_drift)\n"
        "print(compare({'x': [1.0, 2.0]}, {'x': [1.0, 2.0]})['x'].kl)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert float(out.stdout) == 0.0


def test_a_column_without_any_value_is_no_feature_on_its_own():
    """pandas writes an all-None column as Arrow's null type: not a number column, not an error."""
    ref = pa.table({"age": [30.0, 40.0, 50.0], "comment": pa.array([None] * 3, pa.null())})
    texts = pa.table({"age": [31.0, 41.0, 52.0], "comment": ["ok", None, "late"]})
    empty = pa.table({"age": [31.0, 41.0, 52.0], "comment": pa.array([None] * 3, pa.null())})
    floats = pa.table({"age": [31.0, 41.0, 52.0], "comment": [1.0, 2.0, 3.0]})
    texts_report = compare(ref, texts)  # a side of no values takes the other side's kind
    assert [(f.feature, f.kind) for f in texts_report] == [("age", "numeric"), ("comment", "categorical")]
    assert texts_report["comment"].reason == "no non-missing values in reference (all missing)"
    both = compare(ref, empty)
    assert [f.feature for f in both] == ["age"]
    assert [s.to_dict() for s in both.skipped] == [{"feature": "comment", "kind": "skipped", "kl": None,
                                                     "drifted": False, "type": "null",
                                                     "reason": "no values (Arrow null type)"}]
    report = compare(ref, floats)
    assert [f.feature for f in report] == ["age", "comment"]
    assert report["comment"].kl is None and report["comment"].reason


def test_detect_drift_keys_are_the_dataframes_own_labels():
    pd = pytest.importorskip("pandas")
    old = pd.DataFrame({0: [1.0, 2.0, 3.0], "b": [5.0, 6.0, 7.0]})
    new = pd.DataFrame({0: [1.0, 2.0, 3.0], "b": [50.0, 60.0, 70.0]})
    result = detect_drift(old, new)
    assert list(result) == [0, "b"] and result[0] == 0.0 and result["b"] > 0.1


def test_numeric_inputs_in_other_forms():
    pd = pytest.importorskip("pandas")
    sparse = pd.DataFrame({"a": pd.arrays.SparseArray([0.0, 0.0, 1.0, 2.0])})
    assert compare(sparse, pd.DataFrame({"a": [0.0, 0.0, 1.0, 2.0]}))["a"].kl == 0.0
    big = {"a": np.array([1.0, 2.0, 3.0], ">f8")}
    assert compare(big, {"a": np.array([1.0, 2.0, 3.0], np.longdouble)})["a"].kl == 0.0
    with pytest.raises(DriftError) as err:
        compare({"a": [1.0]}, {"b": [1.0]}, columns=["a"])
    assert "current current" not in str(err.value) and "in current;" in str(err.value)
