"""Categorical features (SPEC section 2b): the ``Categories`` state and ``compare`` against the
pandas ``value_counts`` oracle, over every Arrow layout a category column can have."""

import pickle

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamdrift import DriftError, compare
from streamdrift.categories import Categories
from tests.oracle import oracle_categorical
from tests.strategies import examples, splits

# Unicode, the empty string, a NUL, an emoji, strings that differ only after their first byte.
WORDS = ["", "a", "b", "é", "e\u0301", "日本", "a\x00", "\U0001F600", "ab", "B", " "]
values_lists = st.lists(st.one_of(st.none(), st.sampled_from(WORDS), st.text(max_size=3)), max_size=40)
LAYOUTS = ["string", "large_string", "string_view", "dictionary", "dictionary_per_chunk", "shared_dictionary"]


def arrow_column(values: list, layout: str, cuts: list[int]) -> pa.ChunkedArray:
    """``values`` as a ChunkedArray of the given layout, cut at ``cuts``; dictionaries differ per chunk."""
    pieces = [values[a:b] for a, b in zip([0, *cuts], [*cuts, len(values)])]
    if layout == "dictionary_per_chunk":  # each chunk its own dictionary, reversed, with an unused entry
        chunks = []
        for piece in pieces:
            words = sorted({v for v in piece if v is not None}, reverse=True) + ["unused"]
            index = {w: i for i, w in enumerate(words)}
            indices = pa.array([None if v is None else index[v] for v in piece], pa.int32())
            chunks.append(pa.DictionaryArray.from_arrays(indices, pa.array(words)))
        return pa.chunked_array(chunks, pa.dictionary(pa.int32(), pa.string()))
    if layout == "shared_dictionary":  # one dictionary object for every chunk, with a null entry and duplicates
        base = sorted({v for v in values if v is not None})
        dictionary = pa.array(base + [None, "unused"] + base[:1], pa.string())
        index = {w: i for i, w in enumerate(base)}
        return pa.chunked_array([
            pa.DictionaryArray.from_arrays(pa.array([len(base) if v is None else index[v] for v in p], pa.int16()),
                                           dictionary)
            for p in pieces], pa.dictionary(pa.int16(), pa.string()))
    if layout == "dictionary":
        return pa.chunked_array([pa.array(p, pa.string()).dictionary_encode() for p in pieces],
                                pa.dictionary(pa.int32(), pa.string()))
    return pa.chunked_array([pa.array(p, getattr(pa, layout)()) for p in pieces], getattr(pa, layout)())


@st.composite
def columns(draw, values=values_lists):
    values = draw(values)
    return values, arrow_column(values, draw(st.sampled_from(LAYOUTS)), draw(splits(len(values))))


@settings(max_examples=examples(60))
@given(columns())
def test_counts_equal_pandas_value_counts(drawn):
    values, column = drawn
    state = Categories().update(column)
    want = oracle_categorical(values, [])
    assert state.values.to_pylist() == want["categories"]
    np.testing.assert_array_equal(state.counts, want["ref_counts"])
    assert (state.count, state.missing) == (want["reference_count"], want["missing_reference"])


@settings(max_examples=examples(40))
@given(columns(), columns())
def test_sum_equals_one_state_fed_both_and_pickles(a, b):
    merged = Categories().update(a[1]) + Categories().update(b[1])
    fed = Categories().update(a[1]).update(b[1])
    assert merged == fed
    assert pickle.loads(pickle.dumps(merged)) == fed
    assert merged.count + merged.missing == len(a[0]) + len(b[0])


@settings(max_examples=examples(40))
@given(columns(st.lists(st.one_of(st.none(), st.sampled_from(WORDS)), min_size=1, max_size=30)),
       columns(st.lists(st.one_of(st.none(), st.sampled_from(WORDS)), min_size=1, max_size=30)),
       st.sampled_from([0.0, 0.1, 1.0]))
def test_compare_equals_the_oracle(ref, cur, threshold):
    want = oracle_categorical(ref[0], cur[0])
    got = compare(pa.table({"c": ref[1]}), pa.table({"c": cur[1]}), threshold=threshold)["c"]
    assert got.kind == "categorical"
    assert (got.reference_count, got.current_count) == (want["reference_count"], want["current_count"])
    assert (got.missing_reference, got.missing_current) == (want["missing_reference"], want["missing_current"])
    assert got.categories == want["categories"]
    assert got.reference_counts == want["ref_counts"].tolist()
    assert got.current_counts == want["cur_counts"].tolist()
    assert got.new_categories == len(want["new_categories"])
    assert set(got.new_category_examples) <= set(want["new_categories"])
    assert len(got.new_category_examples) == min(10, len(want["new_categories"]))
    if want["kl"] is None:
        assert got.kl is None and got.reason and not got.drifted
    else:
        for key in ("kl", "kl_reversed", "psi", "js"):
            assert abs(getattr(got, key) - want[key]) <= 1e-12, key
        assert got.drifted == (want["kl"] > threshold)


def test_hand_worked_example_and_direction():
    """p = (2, 1, eps)/3, q = (eps, 1, 1)/2 (+eps): a vanished reference category weighs heavily."""
    got = compare({"c": ["x", "x", "y"]}, {"c": ["y", "z"]})["c"]
    p = (np.array([2, 1, 0]) + 1e-10) / (3 + 3e-10)
    q = (np.array([0, 1, 1]) + 1e-10) / (2 + 3e-10)
    assert abs(got.kl - float(np.sum(p * np.log(p / q)))) <= 1e-12
    assert got.categories == ["x", "y", "z"] and got.new_category_examples == ["z"]
    assert got.drifted and got.kl > 10


def test_single_category_all_null_and_one_sided():
    same = compare({"c": ["a"] * 5}, {"c": ["a"] * 3})["c"]
    assert same.kl == pytest.approx(0.0, abs=1e-9) and not same.drifted
    null = compare({"c": ["a", None]}, {"c": pa.array([None, None], pa.string())})["c"]
    assert null.kl is None and null.reason == "no non-missing values in current (all missing)"
    assert (null.missing_reference, null.missing_current) == (1, 2)
    typeless = compare(pa.table({"c": ["a"]}), pa.table({"c": pa.array([None], pa.null())}))["c"]
    assert typeless.kind == "categorical" and typeless.kl is None


@pytest.mark.parametrize("batch_size", [1, 2, 65_536])
def test_dictionaries_differ_between_files(tmp_path, batch_size):
    """Part files whose dictionaries differ (and a plain string file in row groups of 2): by value."""
    d = tmp_path / "parts"
    d.mkdir()
    pq.write_table(pa.table({"c": pa.array(["b", "a", "b"]).dictionary_encode()}), d / "0.parquet")
    pq.write_table(pa.table({"c": pa.array(["c", None, "a"]).dictionary_encode()}), d / "1.parquet")
    pq.write_table(pa.table({"c": pa.array(["a", "b", "c", "c"])}), tmp_path / "cur.parquet", row_group_size=2)
    got = compare(d, tmp_path / "cur.parquet", batch_size=batch_size)["c"]
    want = oracle_categorical(["b", "a", "b", "c", None, "a"], ["a", "b", "c", "c"])
    assert got.reference_counts == want["ref_counts"].tolist() and got.current_counts == want["cur_counts"].tolist()
    assert abs(got.kl - want["kl"]) <= 1e-12


def test_integer_columns_named_categorical():
    ref = {"zip": np.array([10115, 10115, 20095]), "x": np.array([1.0, 2.0, 3.0])}
    cur = {"zip": np.array([10115, 80331, 80331]), "x": np.array([1.0, 2.0, 3.0])}
    report = compare(ref, cur, categorical=["zip"])
    assert [f.kind for f in report] == ["categorical", "numeric"]
    assert report["zip"].categories == [10115, 20095, 80331]
    assert report["zip"].new_category_examples == [80331]
    assert compare(ref, cur)["zip"].kind == "numeric"
    with pytest.raises(DriftError, match=r"column 'x' in reference has type double, which cannot be categorical"):
        compare(ref, cur, categorical=["x"])
    with pytest.raises(DriftError, match="cannot be categorical"):
        compare({"b": [True, False]}, {"b": [True, True]}, categorical=["b"])
    assert compare({"b": [True, False]}, {"b": [True, True]})["b"].kind == "numeric"  # booleans stay numeric


def test_more_categories_than_the_cap_is_undefined_with_a_reason():
    ref = {"id": [f"u{i}" for i in range(50)]}
    cur = {"id": [f"u{i}" for i in range(25, 75)]}
    got = compare(ref, cur, max_categories=60)["id"]  # each side 50, the union 75
    assert got.kl is None and not got.drifted
    assert got.reason == "more than 60 distinct categories (the cap); raise max_categories=... to compare it"
    assert compare(ref, cur, max_categories=75)["id"].kl is not None
    side = compare(ref, cur, max_categories=10)["id"]
    assert side.kl is None and side.categories is None and (side.reference_count, side.current_count) == (50, 50)


def test_memory_is_bounded_by_the_cap():
    state = Categories(max_categories=100)
    for start in range(0, 400_000, 65_536):
        state.update(pa.array([f"id{i}" for i in range(start, start + 65_536)]))
    assert state.overflow and len(state) == 0 and state.count == 7 * 65_536
    with pytest.raises(DriftError, match="max_categories must be a whole number >= 1"):
        Categories(0)


def test_string_and_integer_categories_do_not_mix():
    with pytest.raises(DriftError, match="column 'c' is string in reference but int64 in current"):
        compare({"c": ["a"]}, {"c": pa.array([1])}, categorical=["c"])
    with pytest.raises(ValueError, match="different types: large_string and int64"):
        Categories().update(["a"]) + Categories().update(pa.array([1]))


def test_report_lists_features_and_skipped_columns():
    import datetime

    ref = pa.table({"age": [30.0, 40.0], "carrier": ["UA", "AA"], "when": [datetime.date(2013, 1, 1)] * 2})
    cur = pa.table({"age": [31.0, 41.0], "carrier": ["UA", "UA"], "when": [datetime.date(2013, 7, 1)] * 2})
    report = compare(ref, cur)
    assert [(s.feature, s.type) for s in report.skipped] == [("when", "date32[day]")]
    assert repr(report) == ("<Report: checked 2 features: 1 numeric, 1 categorical; 2 drifted (age, carrier); "
                            "1 column skipped>")
    with pytest.raises(KeyError) as err:
        report["when"]
    assert err.value.args[0] == (
        "'when' was skipped (neither a number nor a category; name it with columns=... to bin it on its integer "
        "values); features: age, carrier; skipped: when (date32[day])")
    with pytest.raises(KeyError, match="no feature 'x'; features: age, carrier; skipped: when"):
        report["x"]
    assert repr(compare({"a": [1.0]}, {"a": [1.0]})) == "<Report: checked 1 feature: 1 numeric, 0 categorical; 0 drifted>"
    assert report.to_dict()["skipped"][0]["kind"] == "skipped"


def test_python_errors_name_python_arguments_not_flags():
    with pytest.raises(DriftError) as err:
        compare({"a": [1.0], "b": [2.0]}, {"a": [1.0]})
    assert "--" not in str(err.value) and "columns=..." in str(err.value)


def test_counting_parquet_categories_never_imports_pandas(tmp_path):
    """``numpy.asarray``/``pyarrow.array`` of Arrow data would import pandas (seconds of start-up)."""
    import subprocess
    import sys

    pq.write_table(pa.table({"c": ["a", "b", None, "a"], "x": [1.0, 2.0, 3.0, 4.0]}), tmp_path / "r.parquet")
    pq.write_table(pa.table({"c": ["b", "z", "z", "a"], "x": [1.0, 2.0, 3.0, 5.0]}), tmp_path / "c.parquet")
    code = ("import sys; sys.modules['pandas'] = None; import streamdrift; "
            f"r = streamdrift.compare({str(tmp_path / 'r.parquet')!r}, {str(tmp_path / 'c.parquet')!r}); "
            "print(r['c'].new_category_examples, r['c'].categories)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
    assert p.stdout.decode() == "['z'] ['a', 'b', 'z']\n", p.stderr.decode()[-500:]


def test_one_side_alone_is_chosen_as_compare_chooses():
    """``reference_selection`` (a watch's or profile's reference) picks and words features like compare."""
    import datetime

    from streamdrift.features import reference_selection
    from streamdrift.io import TableSource

    table = pa.table({"a": [1.0], "s": ["x"], "t": [datetime.date(2020, 1, 1)], "zip": [10115]})
    source = TableSource(table, "reference")
    assert reference_selection(source).kinds == {"a": "numeric", "s": "categorical", "zip": "numeric"}
    assert [s.feature for s in reference_selection(source).skipped] == ["t"]
    assert reference_selection(source, categorical=["zip"]).kinds["zip"] == "categorical"
    with pytest.raises(DriftError, match="^no numeric or categorical .* in reference to compare; columns: b \\(binary\\)$"):
        reference_selection(TableSource(pa.table({"b": [b"x"]}), "reference"))


def test_saving_a_numeric_profile_imports_none_of_the_heavy_modules(tmp_path):
    """``pyarrow.array`` of numpy or Python lists imports pandas (and with it pyarrow.compute): a
    profile is saved from Arrow buffers (compare and watch: tests/streamdrift/test_startup.py)."""
    from tests.streamdrift.cli_helpers import modules_loaded
    from tests.streamdrift.test_startup import HEAVY

    path = tmp_path / "n.parquet"
    pq.write_table(pa.table({"x": np.arange(10.0)}), path)
    assert modules_loaded(["profile", path, "-o", tmp_path / "p"], HEAVY) == []
