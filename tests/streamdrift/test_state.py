"""Contract tests for the mergeable states (river / boost-histogram style).

The same contract holds for every state class found in streamdrift (``load_states``: today
``Range`` and ``Histogram``): many ``update()`` calls over any
split equal one over everything; ``a + b`` (and ``+=``) equals one state fed both; valid +
missing == rows; pickle round-trips; merging never mutates its operands. Then the
Histogram's own promises: out-of-range values clipped into the end bins and counted,
``at_lo``/``at_hi`` count values on the end edges (so ``spans_exactly()`` tells whether the
edges are exactly the data's min and max), and adding histograms of different edges raises.
"""

import importlib
import inspect
import pickle
import pkgutil
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import streamdrift
from streamdrift import Histogram, Range, divergence, make_edges
from streamdrift.stats import range_problem
from tests import strategies as sds
from tests.oracle import finite_float64, oracle_feature, oracle_range


def oracle_histogram(values, edges):
    """numpy.histogram of the in-range finite values; below/above go to the end bins."""
    f = finite_float64(values)
    below, above = f < edges[0], f > edges[-1]
    counts = np.histogram(f[~below & ~above], bins=edges)[0]
    counts[0] += below.sum()
    counts[-1] += above.sum()
    return counts, int(below.sum()), int(above.sum())


@st.composite
def edges_st(draw):
    """Edges from a drawn range, so values often fall below or above them."""
    lo, hi = draw(sds.ranges())
    bins = draw(sds.bins_st)
    if range_problem(lo, hi, bins) is not None:
        lo, hi = 0.0, 1.0  # a range numpy refuses is range_problem's business (test_stats)
    return make_edges(lo, hi, bins)


def load_states() -> list[type]:
    """Every mergeable state class of streamdrift (``update()`` and ``+``), found like river's ``load_stats()``,
    so that a new state is held to the contract the day it is written."""
    found = []
    for info in pkgutil.walk_packages(streamdrift.__path__, "streamdrift."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if (inspect.isclass(obj) and obj.__module__ == module.__name__ and callable(getattr(obj, "update", None))
                    and hasattr(obj, "__add__")):
                found.append(obj)
    return found


STATES = load_states()
MAKERS = {Histogram: lambda: edges_st().map(lambda edges: lambda: Histogram(edges))}
"""How to draw an empty state of a class whose constructor needs arguments (others are made with ``cls()``)."""


def category_values(max_size=None):
    """What a categorical state counts: strings, some missing (None)."""
    labels = st.one_of(st.none(), st.sampled_from(["a", "b", "c", "", "ü", "long label"]))
    return st.lists(labels, max_size=max_size or 60).map(lambda xs: np.array(xs, dtype=object))


VALUES = {"Categories": category_values}
"""The values a state of a class counts, by class name (others count numbers: ``feature_values``)."""


def makers(cls):
    return MAKERS[cls]() if cls in MAKERS else st.just(cls)


@st.composite
def states(draw):
    """A factory of empty states of one kind, for every kind found, and a strategy of the values it counts."""
    cls = draw(st.sampled_from(STATES))
    values = VALUES.get(cls.__name__, lambda max_size=None: sds.feature_values(**({"max_size": max_size} if max_size else {})))
    return draw(makers(cls)), values


def valid(values) -> int:
    """How many of ``values`` are not missing (NaN, infinities and None are)."""
    if values.dtype == object:
        return sum(v is not None for v in values)
    return int(np.isfinite(np.asarray(values, dtype=np.float64)).sum())


def test_every_state_is_found_and_can_be_made():
    assert {Range, Histogram} <= set(STATES)
    for cls in STATES:
        if cls not in MAKERS:
            cls()  # else: add how to make one to MAKERS


def fed(make, *arrays):
    state = make()
    for a in arrays:
        state.update(a)
    return state


def assert_same_state(a, b):
    assert a == b
    if isinstance(a, Histogram):
        assert a.counts.dtype == b.counts.dtype == np.int64
        assert (a.count, a.missing, a.below, a.above, a.at_lo, a.at_hi) == (
            b.count, b.missing, b.below, b.above, b.at_lo, b.at_hi)
        assert a.spans_exactly() == b.spans_exactly()
    # (Not repr: lo/hi may differ in the sign of a zero, -0.0 vs 0.0, depending on the order
    # values arrive; they compare equal and give the same edges and counts.)


# ---------------------------------------------------------------------------- the contract


@settings(max_examples=sds.examples(100))
@given(states(), st.data())
def test_many_updates_equal_one(subject, data):
    make, values = subject[0], data.draw(subject[1]())
    cuts = data.draw(sds.splits(len(values)))
    assert_same_state(fed(make, *sds.chunks(values, cuts)), fed(make, values))


@settings(max_examples=sds.examples(100))
@given(states(), st.data())
def test_a_plus_b_equals_one_state_fed_both(subject, data):
    make, x, y = subject[0], data.draw(subject[1]()), data.draw(subject[1]())
    a, b = fed(make, x), fed(make, y)
    a_before, b_before = pickle.dumps(a), pickle.dumps(b)
    both = fed(make, x, y)
    assert_same_state(a + b, both)
    assert_same_state(b + a, both)
    assert_same_state(make() + a + b, both)
    assert pickle.dumps(a) == a_before and pickle.dumps(b) == b_before  # + never mutates
    a += b
    assert_same_state(a, both)
    assert pickle.dumps(b) == b_before


@settings(max_examples=sds.examples(50))
@given(states(), st.data())
def test_merge_is_associative(subject, data):
    make = subject[0]
    a, b, c = (fed(make, data.draw(subject[1](max_size=20))) for _ in range(3))
    assert_same_state((a + b) + c, a + (b + c))


@settings(max_examples=sds.examples(100))
@given(states(), st.data())
def test_valid_plus_missing_equals_rows(subject, data):
    make = subject[0]
    arrays = data.draw(st.lists(subject[1](max_size=30), max_size=4))
    state = fed(make, *arrays)
    assert state.count + state.missing == sum(len(a) for a in arrays)
    assert state.count == sum(valid(a) for a in arrays)


@settings(max_examples=sds.examples(50))
@given(states(), st.data())
def test_pickle_round_trip(subject, data):
    make, x, y = subject[0], data.draw(subject[1]()), data.draw(subject[1]())
    state = fed(make, x)
    for protocol in (2, pickle.HIGHEST_PROTOCOL):
        back = pickle.loads(pickle.dumps(state, protocol=protocol))
        assert_same_state(back, state)
        # The copy is alive: it keeps counting and merging like the original.
        assert_same_state(back.update(y), fed(make, x, y))
        assert_same_state(back + fed(make, y), fed(make, x, y, y))


def test_empty_states():
    r = Range()
    assert r.empty and (r.lo, r.hi, r.count, r.missing) == (np.inf, -np.inf, 0, 0)
    assert Range().update([]) == r and Range().update([np.nan, np.inf]) == Range(missing=2)
    h = Histogram.for_range(0.0, 1.0)
    assert h.count == h.missing == h.out_of_range == 0 and h.counts.sum() == 0 and h.bins == 20
    assert h + Histogram.for_range(0.0, 1.0) == h


# ---------------------------------------------------------------------------- Range


@settings(max_examples=sds.examples(100))
@given(sds.feature_values())
def test_range_equals_oracle(values):
    want = oracle_range(values)
    r = Range().update(values)
    assert (r.count, r.missing, r.empty) == (want["count"], want["missing"], want["count"] == 0)
    if want["count"]:
        assert (r.lo, r.hi) == (want["lo"], want["hi"])
        assert type(r.lo) is float and type(r.hi) is float


# ---------------------------------------------------------------------------- Histogram


@settings(max_examples=sds.examples(150))
@given(edges_st(), sds.feature_values())
def test_out_of_range_values_are_clipped_and_counted(edges, values):
    h = Histogram(edges).update(values)
    counts, below, above = oracle_histogram(values, edges)
    np.testing.assert_array_equal(h.counts, counts)
    assert (h.below, h.above, h.out_of_range) == (below, above, below + above)
    assert h.counts.sum() == h.count  # every valid value is in some bin
    f = finite_float64(values)
    assert (h.count, h.missing) == (f.size, len(values) - f.size)
    assert (h.at_lo, h.at_hi) == (int((f == edges[0]).sum()), int((f == edges[-1]).sum()))
    # spans_exactly(): the edges' ends are exactly the finite values' min and max.
    assert h.spans_exactly() == (f.size == 0 or (f.min() == edges[0] and f.max() == edges[-1]))


def test_out_of_range_example():
    h = Histogram.for_range(0.0, 10.0, bins=5).update([-1e300, -0.0, 3.0, 10.0, 10.5, np.inf, np.nan, 99.0])
    np.testing.assert_array_equal(h.counts, [2, 1, 0, 0, 3])
    assert (h.below, h.above, h.count, h.missing) == (1, 2, 6, 2)
    assert (h.at_lo, h.at_hi) == (1, 1) and not h.spans_exactly()
    assert Histogram.for_range(-1.0, 3.0).update([3.0, -1.0, 0.5]).spans_exactly()
    assert not Histogram.for_range(-1.0, 3.0).update([3.0, 0.5]).spans_exactly()  # min is not -1
    assert Histogram.for_range(-1.0, 3.0).update([np.nan]).spans_exactly()  # nothing finite yet


def test_adding_histograms_of_different_edges_names_both_ranges():
    a = Histogram.for_range(0.0, 1.0).update([0.5])
    b = Histogram.for_range(0.0, 2.0).update([0.5])
    with pytest.raises(ValueError, match=r"different edges: \[0\.0, 1\.0\] in 20 bins and \[0\.0, 2\.0\] in 20 bins"):
        a + b
    with pytest.raises(ValueError, match=r"\[0\.0, 1\.0\] in 20 bins and \[0\.0, 1\.0\] in 10 bins"):
        a += Histogram.for_range(0.0, 1.0, bins=10)
    assert a.count == 1 and a.counts.sum() == 1  # a failed += leaves the state as it was
    # Same first and last edge, one inner edge an ulp apart: still different edges.
    edges = make_edges(0.0, 1.0)
    nudged = edges.copy()
    nudged[3] = np.nextafter(nudged[3], 1.0)
    with pytest.raises(ValueError, match="different edges"):
        Histogram(edges) + Histogram(nudged)


def test_adding_different_state_types_is_a_type_error():
    with pytest.raises(TypeError):
        Range() + Histogram.for_range(0.0, 1.0)
    with pytest.raises(TypeError):
        Histogram.for_range(0.0, 1.0) + Range()
    with pytest.raises(TypeError):
        Range() + 1


def test_histogram_edges_are_fixed_and_read_only():
    edges = make_edges(0.0, 1.0)
    h = Histogram(edges)
    edges[0] = -5.0  # the caller's array is copied, not kept
    assert h.edges[0] == 0.0 and not h.edges.flags.writeable
    with pytest.raises(ValueError):
        h.edges[1] = 0.5
    back = pickle.loads(pickle.dumps(h))
    assert not back.edges.flags.writeable and back.counts.flags.writeable


@pytest.mark.parametrize("edges", [[], [1.0], [[0.0, 1.0]]], ids=["empty", "one", "2-d"])
def test_histogram_rejects_bad_edges(edges):
    with pytest.raises(ValueError, match="edges"):
        Histogram(edges)


def test_for_range_uses_spec_edges():
    np.testing.assert_array_equal(Histogram.for_range(-3.0, 7.5).edges, np.linspace(-3.0, 7.5, 21))
    np.testing.assert_array_equal(Histogram.for_range(1e12, 1e12 + 1e-3, bins=7).edges,
                                  np.linspace(1e12, 1e12 + 1e-3, 8))


# ---------------------------------------------------------------------------- streaming == batch


@settings(max_examples=sds.examples(100))
@given(sds.feature_pairs(), st.data())
def test_two_pass_streaming_equals_the_oracle(pair, data):
    """Range pass over chunks, edges from the merged range, Histogram pass over chunks."""
    ref, cur = pair
    ref_chunks = sds.chunks(ref, data.draw(sds.splits(len(ref))))
    cur_chunks = sds.chunks(cur, data.draw(sds.splits(len(cur))))
    r_ref, r_cur = fed(Range, *ref_chunks), fed(Range, *cur_chunks)
    if r_ref.empty or r_cur.empty:
        assert oracle_feature(ref, cur)["kl"] is None
        return
    both = r_ref + r_cur
    if range_problem(both.lo, both.hi) is not None:
        with pytest.raises(ValueError):
            oracle_feature(ref, cur)
        return
    edges = make_edges(both.lo, both.hi)
    h_ref, h_cur = fed(lambda: Histogram(edges), *ref_chunks), fed(lambda: Histogram(edges), *cur_chunks)
    want = oracle_feature(ref, cur)
    np.testing.assert_array_equal(h_ref.counts, want["ref_counts"])
    np.testing.assert_array_equal(h_cur.counts, want["cur_counts"])
    assert h_ref.out_of_range == h_cur.out_of_range == 0
    assert (h_ref.count, h_ref.missing, h_cur.count, h_cur.missing) == (
        r_ref.count, r_ref.missing, r_cur.count, r_cur.missing)
    # The second pass confirms the first: together the two samples span the edges exactly.
    merged_ends = (h_ref.at_lo + h_cur.at_lo, h_ref.at_hi + h_cur.at_hi)
    assert h_ref.out_of_range == h_cur.out_of_range == 0 and min(merged_ends) > 0
    assert abs(divergence(h_ref.counts, h_cur.counts).kl - want["kl"]) <= 1e-12


def test_threads_fill_copies_and_merge_with_iadd():
    # boost-histogram's model: one fresh state per thread, combined with +=.
    values = np.linspace(-1.0, 2.0, 100_003) ** 3
    values[::97] = np.nan
    parts = np.array_split(values, 8)
    edges = make_edges(-1.0, 8.0)
    with ThreadPoolExecutor(max_workers=2) as pool:
        hists = list(pool.map(lambda p: Histogram(edges).update(p), parts))
        ranges = list(pool.map(lambda p: Range().update(p), parts))
    total, total_range = Histogram(edges), Range()
    for h, r in zip(hists, ranges):
        total += h
        total_range += r
    assert_same_state(total, Histogram(edges).update(values))
    assert total_range == Range().update(values)
    np.testing.assert_array_equal(total.counts, np.histogram(values[np.isfinite(values)], bins=edges)[0])
