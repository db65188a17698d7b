"""The reference profile: counts for any edges equal Histogram's and numpy's; build, save, load."""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamdrift.errors import DriftError
from streamdrift.io import FileSource
from streamdrift.profile import ColumnBuilder, ColumnProfile, Profile, is_profile
from streamdrift.state import Histogram, Range
from streamdrift.stats import make_edges
from tests.oracle import finite_float64
from tests.strategies import chunks, feature_values, splits, ulps


def profile_of(values) -> ColumnProfile:
    return ColumnBuilder().update(values).build()


@st.composite
def data_and_edges(draw):
    """Values and sorted finite edges: linspace of the data's range, of a sub-range, or drawn points."""
    values = draw(feature_values())
    finite = finite_float64(values)
    kind = draw(st.sampled_from(["range", "inside", "points", "constant"]))
    bins = draw(st.integers(1, 25))
    if finite.size and kind in ("range", "inside"):
        lo, hi = float(finite.min()), float(finite.max())
        if kind == "inside":
            a, b = sorted(draw(st.lists(st.sampled_from(finite.tolist()), min_size=2, max_size=2)))
            lo, hi = a, b
        with np.errstate(over="ignore", invalid="ignore"):
            edges = make_edges(lo, hi, bins)
        if not np.all(np.isfinite(edges)):
            edges = np.array([lo, hi])
    elif finite.size and kind == "points":
        pool = finite.tolist()
        pts = draw(st.lists(st.sampled_from(pool), min_size=2, max_size=bins + 1))
        pts = [ulps(p, draw(st.integers(-1, 1))) for p in pts]
        edges = np.sort(np.array(pts, dtype=np.float64))
    else:
        c = float(finite[0]) if finite.size else draw(st.floats(-1e6, 1e6))
        edges = np.full(bins + 1, c)
    return values, edges


@given(data_and_edges())
def test_profile_counts_equal_histogram_and_numpy(case):
    values, edges = case
    prof = profile_of(values)
    hist = Histogram(edges).update(values)
    counts, below, above = prof.bin_counts(edges)
    assert counts.dtype == np.int64
    np.testing.assert_array_equal(counts, hist.counts)
    assert (below, above) == (hist.below, hist.above)
    assert prof.histogram(edges) == hist

    finite = finite_float64(values)
    inside = finite[(finite >= edges[0]) & (finite <= edges[-1])]
    expected, _ = np.histogram(inside, bins=edges)
    expected[0] += int(np.sum(finite < edges[0]))
    expected[-1] += int(np.sum(finite > edges[-1]))
    np.testing.assert_array_equal(counts, expected)


@given(feature_values(), st.data())
def test_chunked_build_equals_whole(values, data):
    cuts = data.draw(splits(len(values)))
    builder = ColumnBuilder()
    for part in chunks(values, cuts):
        builder.update(part)
    whole = profile_of(values)
    assert builder.build() == whole
    finite = finite_float64(values)
    assert whole.count == finite.size
    assert whole.missing == len(values) - finite.size
    assert np.all(np.diff(whole.values) > 0)
    assert whole.range == Range().update(values)


def test_many_batches_merge_to_distinct_values():
    rng = np.random.default_rng(7)
    builder = ColumnBuilder()
    everything = []
    for _ in range(300):
        batch = rng.integers(0, 50, rng.integers(0, 200)).astype(np.float64)
        batch[rng.random(batch.size) < 0.05] = np.nan
        builder.update(batch)
        everything.append(batch)
    prof = builder.build()
    allv = np.concatenate(everything)
    values, counts = np.unique(allv[np.isfinite(allv)], return_counts=True)
    np.testing.assert_array_equal(prof.values, values)
    np.testing.assert_array_equal(prof.counts, counts)
    assert prof.missing == int(np.isnan(allv).sum())
    assert prof.distinct <= 50


def test_empty_and_all_missing_columns():
    prof = profile_of(np.array([np.nan, np.inf]))
    assert (prof.count, prof.missing, prof.distinct) == (0, 2, 0)
    assert prof.range.empty
    edges = make_edges(0.0, 1.0, 4)
    assert prof.histogram(edges) == Histogram(edges).update([np.nan, np.inf])


def test_bad_edges_raise():
    prof = profile_of(np.arange(5.0))
    with pytest.raises(ValueError, match="non-decreasing"):
        prof.bin_counts([2.0, 1.0])
    with pytest.raises(ValueError, match="finite"):
        prof.bin_counts([0.0, np.nan])
    with pytest.raises(ValueError, match="at least 2"):
        prof.bin_counts([1.0])


def test_build_from_parquet_equals_in_memory(tmp_path):
    rng = np.random.default_rng(3)
    a = rng.normal(0, 1, 5000).round(3)
    b = rng.integers(-5, 5, 5000)
    table = pa.table({"a": pa.array(a, mask=rng.random(5000) < 0.1), "b": b, "s": ["x"] * 5000})
    pq.write_table(table, tmp_path / "r.parquet", row_group_size=700)
    with FileSource([tmp_path / "r.parquet"], "r") as source:
        built = Profile.build(source, ["a", "b"], batch_size=333, threads=2)
    memory = Profile.from_arrays({"a": table.column("a"), "b": b})
    assert built.features == ["a", "b"]
    assert built["a"] == memory["a"] and built["b"] == memory["b"]
    assert built["a"].missing == table.column("a").null_count
    assert built.rows == 5000
    assert built.schema == table.schema


def test_waiting_runs_stay_few_whatever_the_chunks_hold():
    """Chunks with one distinct value fewer each time used to wait as one run each."""
    import math

    builder = ColumnBuilder()
    for i in range(2000):
        chunk = np.zeros(2000)
        chunk[: 2000 - i] = np.arange(2000 - i)
        builder.update(chunk)
        assert len(builder._runs) <= math.log2(i + 1) + 1
    assert sum(r[0].size for r in builder._runs) <= 2000 * (math.log2(2000) + 1)
    prof = builder.build()
    assert prof.distinct == 2000 and prof.count == 2000 * 2000


def test_save_load_round_trip(tmp_path):
    prof = Profile.from_arrays({"x": [1.0, 2.0, 2.0, np.nan], "y": np.array([], dtype=np.float64)})
    path = tmp_path / "ref.profile"
    prof.save(path)
    assert is_profile(path)
    back = Profile.load(path)
    assert back.features == ["x", "y"]
    assert back["x"] == prof["x"] and back["y"] == prof["y"]
    assert back.schema == prof.schema
    assert back.rows == prof.rows
    edges = make_edges(1.0, 2.0, 3)
    assert back["x"].histogram(edges) == prof["x"].histogram(edges)
    assert not list(tmp_path.glob(".*tmp"))


def test_load_rejects_other_files(tmp_path):
    data = tmp_path / "data.arrow"
    with pa.ipc.new_file(data, pa.schema([("a", pa.float64())])) as w:
        w.write_table(pa.table({"a": [1.0]}))
    assert not is_profile(data)
    with pytest.raises(DriftError, match="not a streamdrift profile"):
        Profile.load(data)
    junk = tmp_path / "junk"
    junk.write_bytes(b"hello world")
    assert not is_profile(junk)
    with pytest.raises(DriftError, match="cannot read profile"):
        Profile.load(junk)


def test_load_rejects_other_versions(tmp_path, monkeypatch):
    import streamdrift.profile as module

    path = tmp_path / "p"
    monkeypatch.setattr(module, "VERSION", 99)
    Profile.from_arrays({"x": [1.0]}).save(path)
    monkeypatch.setattr(module, "VERSION", 1)
    with pytest.raises(DriftError, match="format version 99.*re-create it"):
        Profile.load(path)


def test_a_damaged_profile_is_a_clear_error(tmp_path):
    import base64

    import streamdrift.profile as module

    good = tmp_path / "good.profile"
    Profile.from_arrays({"x": [1.0, 2.0, 2.0]}).save(good)
    table = pa.ipc.open_file(pa.memory_map(str(good))).read_all()
    meta = dict(table.schema.metadata)
    damaged = {
        "columns": table.drop(["feature"]),
        "schema": table.replace_schema_metadata({**meta, module._SCHEMA_KEY: base64.b64encode(b"garbage")}),
        "lengths": table.set_column(3, "cumulative", pa.array([[0, 1]], pa.large_list(pa.int64()))),
    }
    for name, bad in damaged.items():
        path = tmp_path / f"{name}.profile"
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, bad.schema) as writer:
            writer.write_table(bad)
        with pytest.raises(DriftError, match=f"profile '{path}' is damaged .*re-create it"):
            Profile.load(path)


def test_categorical_features_round_trip(tmp_path):
    """Per-category counts (strings, integers named categorical, an overflowed feature) survive save and load."""
    from streamdrift.categories import Categories
    from streamdrift.io import open_source

    table = pa.table({"x": [1.0, 2.0, None, 4.0], "s": ["b", "a", None, "b"], "zip": [10115, 10115, 80331, 1],
                      "id": ["u1", "u2", "u3", "u4"]})
    kinds = {"s": "categorical", "zip": "categorical", "id": "categorical"}
    with open_source(table, "reference", features=True) as source:
        prof = Profile.build(source, ["x", "s", "zip", "id"], batch_size=3, kinds=kinds, max_categories=3)
    assert prof["s"] == Categories(3).update(table["s"])
    assert prof["id"].overflow and prof["id"].count == 4
    prof.save(tmp_path / "p.profile")
    loaded = Profile.load(tmp_path / "p.profile")
    assert [loaded[f] == prof[f] for f in loaded.features] == [True] * 4
    assert loaded["zip"].values.to_pylist() == [1, 10115, 80331] and loaded["s"].values.to_pylist() == ["a", "b"]
    assert loaded["s"].missing == 1 and loaded.rows == 4
