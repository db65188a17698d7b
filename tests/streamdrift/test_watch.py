"""Windows and the reference side of ``watch``, and ``watch()`` itself (in process)."""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamdrift.comparison import compare
from streamdrift.errors import DriftError
from streamdrift.profile import Profile
from streamdrift.state import Histogram
from streamdrift.stats import binnable_edges, make_edges, range_problem
from streamdrift.watch import Watcher, load_reference, watch
from tests.oracle import oracle_feature
from tests.strategies import feature_pairs, splits
from tests.streamdrift.test_profile import data_and_edges, profile_of
from tests.streamdrift.watch_data import COLUMNS, CUR, REF, run, write_parts


PROFILE_REF = load_reference(REF, columns=COLUMNS)


@settings(max_examples=25)
@given(window=st.integers(1, 3000), cuts=st.lists(st.integers(0, CUR.num_rows), max_size=5).map(sorted))
def test_windows_account_for_every_row(window, cuts):
    windows = run(PROFILE_REF, CUR, cuts, window=window)
    assert [w.index for w in windows] == list(range(len(windows)))
    assert windows[0].start_row == 0
    for prev, nxt in zip(windows, windows[1:]):
        assert prev.end_row == nxt.start_row
    assert windows[-1].end_row == CUR.num_rows
    assert all(w.rows == window and not w.partial for w in windows[:-1])
    assert windows[-1].partial == (CUR.num_rows % window != 0)
    for w in windows:
        for f in w.features:
            assert f.current_count + f.missing_current == w.rows


def test_window_equals_compare_of_its_rows():
    windows = run(PROFILE_REF, CUR, [100, 1234, 1235, 2000], window=700)
    for w in windows:
        exact = compare(REF, CUR.slice(w.start_row, w.rows), columns=COLUMNS)
        for got, want in zip(w.features, exact):
            assert got.to_dict() == want.to_dict()
            assert got.reference_counts == want.reference_counts
            assert got.current_counts == want.current_counts


def test_windows_moving_in_and_out_of_the_reference_range_equal_compare():
    """Windows inside the reference's range are counted on arrival; the others, and the ones after, are not."""
    rng = np.random.default_rng(7)
    ref = pa.table({"a": rng.uniform(0, 10, 2000), "b": np.arange(2000) % 7})
    pieces = [rng.uniform(1, 9, 300), rng.uniform(5, 12, 300), rng.uniform(1, 9, 300), rng.uniform(1, 9, 300),
              rng.uniform(-3, 4, 300), np.full(300, np.nan), np.array([0.0, 10.0] * 150), rng.uniform(1, 9, 150)]
    a = np.concatenate(pieces)
    cur = pa.table({"a": a, "b": (np.arange(a.size) % 9).astype(np.int32)})
    windows = run(load_reference(ref), cur, [250, 600, 601, 1900], window=300)
    assert len(windows) == 8 and windows[-1].partial
    for w in windows:
        exact = compare(ref, cur.slice(w.start_row, w.rows))
        for got, want in zip(w.features, exact):
            assert got.to_dict() == want.to_dict()
            assert got.current_counts == want.current_counts


def test_every_value_is_counted_once_and_ranged_only_after_its_window_left_the_range(monkeypatch):
    """Counted on arrival while inside the reference's range; from the chunk that leaves it, only kept, then
    ranged and counted once on the window's edges when it closes (with its values still in cache). The next
    window is kept whole and ranged from its start."""
    import streamdrift.state as state
    import streamdrift.watch.windows as windows

    seen = {"fill": 0, "range": 0}
    closing, ranged_closing = [False], []  # per range call: was a window closing?

    def counting(name, kernel):
        def kernel_call(values, *args):
            seen[name] += len(values)
            if name == "range":
                ranged_closing.append(closing[0])
            return kernel(values, *args)
        return kernel_call

    rng = np.random.default_rng(3)
    ref = pa.table({"a": rng.uniform(0, 10, 2000)})
    reference = load_reference(ref)
    monkeypatch.setattr(state, "fill_histogram", counting("fill", state.fill_histogram))  # Histogram.add's
    monkeypatch.setattr(state, "value_range", counting("range", state.value_range))  # Range.add's
    histograms = windows.CombinedEdges.histograms

    def closed(self):
        closing[0] = True
        try:
            return histograms(self)
        finally:
            closing[0] = False

    monkeypatch.setattr(windows.CombinedEdges, "histograms", closed)
    chunks = [rng.uniform(1, 9, 100) for _ in range(20)]
    chunks[4][0] = 12.0  # window 1 leaves the range in its first chunk
    chunks[19][0] = -1.0  # window 4 in its last
    cur = pa.table({"a": np.concatenate(chunks)})
    windows = run(reference, cur, list(range(100, 2000, 100)), window=400)
    # fills: 400 | 100 early + 400 | 400 | 400 | 400 early + 400; ranges: window 1, window 2, 100 of window 4
    assert seen == {"fill": 2500, "range": 900}
    assert ranged_closing and all(ranged_closing)
    for w in windows:
        (want,) = compare(ref, cur.slice(w.start_row, w.rows))
        assert w.features[0].to_dict() == want.to_dict()


def test_split_batches_give_the_same_windows():
    whole = run(PROFILE_REF, CUR, [], window=600)
    split = run(PROFILE_REF, CUR, [1, 2, 599, 600, 601, 1500], window=600)
    assert [w.records() for w in whole] == [w.records() for w in split]


def test_features_counted_on_a_thread_pool_give_the_same_windows():
    """Each batch's columns are converted once and cut into windows' rows; on a pool as on one thread."""
    reference = load_reference(REF, columns=["a", "b", "s"])
    one = run(reference, CUR, [1, 599, 600, 1500], window=600, threads=1)
    pool = run(reference, CUR, [1, 599, 600, 1500], window=600, threads=2)
    assert [w.records() for w in one] == [w.records() for w in pool]
    assert [f.kind for f in one[0].features] == ["numeric", "numeric", "categorical"]


def test_profile_file_and_parquet_reference_agree(tmp_path):
    pq.write_table(REF, tmp_path / "ref.parquet", row_group_size=500)
    from_parquet = load_reference(str(tmp_path / "ref.parquet"), columns=COLUMNS, batch_size=400)
    Profile.from_arrays({c: REF.column(c) for c in COLUMNS}).save(tmp_path / "ref.profile")
    from_profile = load_reference([str(tmp_path / "ref.profile")])
    assert from_profile.features == COLUMNS
    with pytest.raises(DriftError, match="give a profile as the only reference"):
        load_reference([str(tmp_path / "ref.parquet"), str(tmp_path / "ref.profile")])
    a = run(from_parquet, CUR, [], window=1000)
    b = run(from_profile, CUR, [], window=1000)
    assert [w.records() for w in a] == [w.records() for w in b]


def test_reference_edges_are_fixed_and_count_out_of_range():
    ref = load_reference(REF, columns=["a"], edges="reference")
    edges = make_edges(np.nanmin(REF.column("a")), np.nanmax(REF.column("a")), 20)
    windows = run(ref, CUR, [500], window=1000, edges="reference")
    for w in windows:
        rows = CUR.column("a").to_numpy()[w.start_row : w.end_row]
        expected = Histogram(edges).update(rows)
        (f,) = w.features
        assert f.current_counts == expected.counts.tolist()
        assert f.out_of_range == expected.out_of_range > 0
        assert f.to_dict()["out_of_range"] == f.out_of_range
        assert f.reference_counts == Histogram(edges).update(REF.column("a").to_numpy()).counts.tolist()
        assert "outside the reference range" in w.header()


def test_reference_edges_equal_combined_inside_the_reference_range():
    inside = pa.table({"a": np.clip(CUR.column("a").to_numpy(), -1.5, 1.5)})
    fixed = run(load_reference(REF, columns=["a"], edges="reference"), inside, [], window=800, edges="reference")
    combined = run(load_reference(REF, columns=["a"]), inside, [], window=800)
    for x, y in zip(fixed, combined):
        assert x.features[0].kl == y.features[0].kl
        assert x.features[0].out_of_range == 0


def test_reference_edges_from_parquet_with_lying_statistics(tmp_path, monkeypatch):
    """Footer min/max that the data does not have are caught: the range is scanned and recounted."""
    from streamdrift.io import FileSource

    path = tmp_path / "ref.parquet"
    pq.write_table(pa.table({"a": [0.0, 1.0, 2.0]}), path)
    honest = load_reference(str(path), edges="reference", bins=2)
    assert honest.fixed["a"].counts.tolist() == [1, 2]
    monkeypatch.setattr(FileSource, "statistics_ranges", lambda self, columns: dict.fromkeys(columns, (-1.0, 5.0)))
    ref = load_reference(str(path), edges="reference", bins=2)
    assert ref.fixed["a"] == honest.fixed["a"]
    assert (ref.range("a").lo, ref.range("a").hi, ref.range("a").count) == (0.0, 2.0, 3)


def test_reference_edges_with_a_lying_footer_too_wide_to_bin(tmp_path, monkeypatch):
    from streamdrift.io import FileSource

    path = tmp_path / "ref.parquet"
    pq.write_table(pa.table({"a": np.zeros(4)}), path)
    big = np.finfo(np.float64).max
    monkeypatch.setattr(FileSource, "statistics_ranges", lambda self, columns: dict.fromkeys(columns, (-big, big)))
    ref = load_reference(str(path), edges="reference")
    assert (ref.range("a").lo, ref.range("a").hi) == (0.0, 0.0) and ref.fixed["a"].counts[-1] == 4


def test_undefined_kl_is_reported_not_raised():
    ref = load_reference({"a": [1.0, 2.0]})
    cur = pa.table({"a": [np.nan, np.nan, 1.5]})
    (w0, w1) = run(ref, cur, [], window=2)
    assert w0.features[0].kl is None and "no finite values in current" in w0.features[0].reason
    assert w1.features[0].kl is not None and w1.partial


def test_reference_columns_are_checked():
    with pytest.raises(DriftError, match="column 'zz' is not in reference.*its columns are: a, b, s"):
        load_reference(REF, columns=["zz"])
    with pytest.raises(DriftError, match="column 'z' in reference has type binary, which cannot be compared"):
        load_reference(REF.append_column("z", pa.array([b"x"] * REF.num_rows)), columns=["z"])
    assert load_reference(REF).kinds == {"a": "numeric", "b": "numeric", "s": "categorical"}
    assert load_reference(REF, categorical=["b"], edges="reference").kinds["b"] == "categorical"
    with pytest.raises(DriftError, match="^reference has no rows; drift needs at least one row on each side$"):
        load_reference(REF.slice(0, 0))


def test_bad_window_and_edges():
    with pytest.raises(DriftError, match="window"):
        Watcher(PROFILE_REF, window=0)
    with pytest.raises(DriftError, match="edges"):
        Watcher(PROFILE_REF, edges="both")
    with pytest.raises(DriftError, match="profile"):
        Watcher(load_reference(REF, columns=COLUMNS, edges="reference"), edges="combined")


def test_watch_api(tmp_path):
    write_parts(tmp_path / "d", CUR, 3)
    (tmp_path / "d" / "zz.parquet").write_bytes(b"nope")
    problems = []
    windows = list(watch(REF, [tmp_path / "d"], window=1000, columns=COLUMNS, on_problem=problems.append))
    assert sum(w.rows for w in windows) == CUR.num_rows
    assert len(problems) == 1 and "zz.parquet" in str(problems[0].error)
    with pytest.raises(DriftError, match="zz.parquet"):
        list(watch(REF, [tmp_path / "d"], window=1000, columns=COLUMNS))


@settings(max_examples=60)
@given(feature_pairs(), st.data())
def test_every_window_equals_the_numpy_oracle(pair, data):
    """Each window's counts and KL are SPEC section 2 on (reference, that window's rows)."""
    ref_values, cur_values = pair
    window = data.draw(st.integers(1, max(1, len(cur_values))))
    cuts = data.draw(splits(len(cur_values)))
    bins = data.draw(st.sampled_from([1, 2, 20, 33]))
    if len(ref_values) == 0:
        with pytest.raises(DriftError, match="reference has no rows"):
            load_reference({"x": ref_values})
        return
    reference = load_reference({"x": ref_values})
    windows = run(reference, pa.table({"x": cur_values}), cuts, window=window, bins=bins)
    assert sum(w.rows for w in windows) == len(cur_values)
    for w in windows:
        (got,) = w.features
        want = oracle_feature(ref_values, cur_values[w.start_row : w.end_row], bins=bins)
        assert (got.reference_count, got.current_count) == (want["reference_count"], want["current_count"])
        assert (got.missing_reference, got.missing_current) == (want["missing_reference"], want["missing_current"])
        if want["kl"] is None or range_problem(want["lo"], want["hi"], bins):
            assert got.kl is None and got.reason
            continue
        assert got.reference_counts == want["ref_counts"].tolist()
        assert got.current_counts == want["cur_counts"].tolist()
        assert abs(got.kl - want["kl"]) <= 1e-12


@given(data_and_edges())
def test_reference_counts_from_a_profile_equal_a_histogram(case):
    """A profile's three-search counts (``ColumnProfile.histogram``, what a window that leaves the reference's
    range takes) on any non-decreasing edges: linspace of the range or of a sub-range, drawn points one ulp
    either side of values."""
    values, edges = case
    got = profile_of(values).histogram(edges)
    assert got == Histogram(edges).update(values)


@settings(max_examples=60)
@given(feature_pairs(), st.data())
def test_windows_of_a_nullable_column_equal_the_numpy_oracle(pair, data):
    """Arrow nulls reach the kernels as the validity bitmap of each window's rows (offsets at any bit,
    batches and windows cut anywhere), counted as missing whatever their slots hold, in both edge modes."""
    ref_values, cur_values = pair
    if len(ref_values) == 0 or len(cur_values) == 0:
        return
    nulls = np.array(data.draw(st.lists(st.booleans(), min_size=len(cur_values), max_size=len(cur_values))))
    column = pa.array(cur_values.astype(np.int64) if cur_values.dtype == np.bool_ else cur_values, mask=nulls)
    as_float = cur_values.astype(np.float64)
    as_float[nulls] = np.nan  # the oracle's view: a null is missing
    window = data.draw(st.integers(1, len(cur_values)))
    cuts = data.draw(splits(len(cur_values)))
    edges = data.draw(st.sampled_from(["combined", "reference"]))
    reference = load_reference({"x": ref_values}, edges=edges)
    r = reference.range("x")
    for w in run(reference, pa.table({"x": column}), cuts, window=window, edges=edges):
        (got,) = w.features
        rows = as_float[w.start_row : w.end_row]
        if edges == "reference":  # fixed edges: the reference's own
            want = Histogram(binnable_edges(r.lo, r.hi)[0]).update(rows)
            assert (got.current_count, got.missing_current) == (want.count, want.missing)
            assert got.current_counts in (None, want.counts.tolist())
            assert got.out_of_range == want.out_of_range
            continue
        want = oracle_feature(ref_values, rows)
        assert (got.current_count, got.missing_current) == (want["current_count"], want["missing_current"])
        if want["kl"] is not None and not range_problem(want["lo"], want["hi"]):
            assert got.current_counts == want["cur_counts"].tolist()
            assert abs(got.kl - want["kl"]) <= 1e-12
