"""The kernels against the numpy oracle: counts equal, KL within 1e-12 (SPEC section 2).

Every test here runs twice, once through the numba kernels and once through the numpy path
that small inputs take (``kernel_path``): both must give the oracle's answer, so they give
the same one.
"""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from streamdrift import Histogram, Range, divergence, make_edges
from streamdrift import _kernels
from streamdrift._kernels import fill_histogram, value_range
from streamdrift.convert import values_array
from streamdrift.stats import range_problem
from tests import strategies as sds
from tests.oracle import oracle_divergences, oracle_feature, oracle_range

KL_TOL = 1e-12


@pytest.fixture(autouse=True, scope="module", params=["jit", "numpy"])
def kernel_path(request):
    """All inputs through the numba kernels (``SMALL = 0``), or all through the numpy path."""
    saved = _kernels.SMALL, _kernels.SMALL_CALLS, _kernels.SMALL_VALUES
    limit = 0 if request.param == "jit" else 1 << 62
    _kernels.SMALL = _kernels.SMALL_CALLS = _kernels.SMALL_VALUES = limit
    yield request.param
    _kernels.SMALL, _kernels.SMALL_CALLS, _kernels.SMALL_VALUES = saved


def kernel_feature(ref, cur, bins=20):
    """SPEC section 2 through the package's own pieces: Range pass, edges, Histogram pass."""
    r_ref, r_cur = Range().update(ref), Range().update(cur)
    if r_ref.empty or r_cur.empty:
        return None
    both = r_ref + r_cur
    problem = range_problem(both.lo, both.hi, bins)
    if problem is not None:
        return {"problem": problem}
    edges = make_edges(both.lo, both.hi, bins)
    h_ref, h_cur = Histogram(edges).update(ref), Histogram(edges).update(cur)
    assert h_ref.out_of_range == h_cur.out_of_range == 0
    return {"lo": both.lo, "hi": both.hi, "edges": edges, "ref": h_ref, "cur": h_cur,
            "stats": divergence(h_ref.counts, h_cur.counts)}


def numpy_refuses(lo, hi, bins):
    """True (after checking numpy raises) when ``[lo, hi]`` is a range numpy cannot bin."""
    if range_problem(lo, hi, bins) is None:
        return False
    with np.errstate(all="ignore"), pytest.raises(ValueError, match="bins"):
        np.histogram([lo, hi], bins=np.linspace(lo, hi, bins + 1))
    return True


def linspace(lo, hi, bins):
    """numpy.linspace's edges (its last product may overflow near float64's max: replaced by hi)."""
    with np.errstate(over="ignore"):
        return np.linspace(lo, hi, bins + 1)


def numpy_counts(values, edges):
    finite = np.asarray(values).astype(np.float64)
    return np.histogram(finite[np.isfinite(finite)], bins=edges)[0]


def assert_matches_oracle(ref, cur, bins=20):
    got = kernel_feature(ref, cur, bins)
    if got is not None and "problem" in got:  # numpy cannot bin this range either: it must raise
        with pytest.raises(ValueError, match="bins"):
            oracle_feature(ref, cur, bins)
        return
    want = oracle_feature(ref, cur, bins)
    if want["kl"] is None:
        assert got is None
        return
    assert got is not None
    assert (got["lo"], got["hi"]) == (want["lo"], want["hi"])
    np.testing.assert_array_equal(got["edges"], want["edges"], strict=True)
    np.testing.assert_array_equal(got["ref"].counts, want["ref_counts"])
    np.testing.assert_array_equal(got["cur"].counts, want["cur_counts"])
    assert got["ref"].count == want["reference_count"] and got["ref"].missing == want["missing_reference"]
    assert got["cur"].count == want["current_count"] and got["cur"].missing == want["missing_current"]
    for name in ("kl", "kl_reversed", "psi"):
        assert abs(getattr(got["stats"], name) - want[name]) <= KL_TOL, name
    assert abs(got["stats"].js ** 2 - want["js"] ** 2) <= KL_TOL


# ---------------------------------------------------------------------------- value_range


@settings(max_examples=sds.examples(150))
@given(sds.feature_values())
def test_value_range_is_the_finite_min_max(values):
    want = oracle_range(values)
    lo, hi, valid, missing = value_range(values_array(values))
    assert (valid, missing) == (want["count"], want["missing"])
    if want["count"]:
        assert (lo, hi) == (want["lo"], want["hi"])
    else:
        assert (lo, hi) == (np.inf, -np.inf)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_value_range_all_missing_and_empty(dtype):
    for values in ([], [np.nan], [np.inf, -np.inf, np.nan]):
        assert value_range(np.array(values, dtype=dtype)) == (np.inf, -np.inf, 0, len(values))


# ---------------------------------------------------------------------------- fill_histogram


@settings(max_examples=sds.examples(200))
@given(sds.feature_values(), sds.bins_st)
@example(np.array([0.0, 0.15, 1.0]), 20)  # 0.15 * 20 == 3.0 exactly, but 0.15 < edges[3]: bin 2
@example(np.array([0.0, 0.3, 0.35, 0.7, 1.0]), 20)
@example(np.array([1e12, 1e12 + 1e-4, 1e12 + 3e-4]), 20)
@example(np.array([2**53, 2**53 + 1, 2**53 + 3, 2**62], dtype=np.int64), 20)
@example(np.array([0.0, 5e-324, 1e-323]), 20)  # width of two subnormal ulps: bins/width overflows
def test_fill_histogram_equals_numpy(values, bins):
    arr = values_array(values)
    lo, hi, valid, missing = value_range(arr)
    if valid == 0 or numpy_refuses(lo, hi, bins):
        return  # nothing to compare: no range, or numpy raises for it (and range_problem says so)
    edges = linspace(lo, hi, bins)
    counts = np.zeros(bins, dtype=np.int64)
    got = fill_histogram(arr, edges, counts)
    np.testing.assert_array_equal(counts, numpy_counts(values, edges))
    finite = arr[np.isfinite(arr.astype(np.float64))].astype(np.float64)
    # (valid, missing, below, above, at_lo, at_hi): nothing outside the data's own range.
    assert got == (valid, missing, 0, 0, int((finite == lo).sum()), int((finite == hi).sum()))


@settings(max_examples=sds.examples(200))
@given(st.data(), sds.ranges(), sds.bins_st)
def test_values_on_edges_and_one_ulp_beside_them(data, rng, bins):
    lo, hi = rng
    values = np.array([lo, hi] + data.draw(sds.edge_values(lo, hi, bins)), dtype=np.float64)
    if numpy_refuses(lo, hi, bins):
        return
    edges = linspace(lo, hi, bins)
    counts = np.zeros(bins, dtype=np.int64)
    fill_histogram(values, edges, counts)
    np.testing.assert_array_equal(counts, np.histogram(values, bins=edges)[0])


@settings(max_examples=sds.examples(50))
@given(sds.float_values(), st.integers(0, 5))
def test_fill_histogram_adds_to_existing_counts(values, start):
    lo, hi, valid, _ = value_range(values)
    if valid == 0 or numpy_refuses(lo, hi, 20):
        return
    edges = make_edges(lo, hi)
    counts = np.full(20, start, dtype=np.int64)
    fill_histogram(values, edges, counts)
    np.testing.assert_array_equal(counts, start + numpy_counts(values, edges))


@settings(max_examples=sds.examples(30))
@given(st.data(), sds.ranges(), st.sampled_from([1, 20, 48, 49, 100]),
       st.sampled_from([2047, 2048, 2049, 4096, 6145]),
       st.sampled_from(["float64", "float32", "int64", "uint8"]))
def test_long_arrays_across_block_boundaries(data, rng, bins, size, dtype):
    """Arrays longer than the kernels' blocks, every fill route (comparison and search)."""
    lo, hi = rng
    if numpy_refuses(lo, hi, bins):
        return
    pattern = data.draw(sds.edge_values(lo, hi, bins, max_size=50)) + [np.nan, np.inf, -np.inf]
    pattern += data.draw(st.lists(sds.finite_floats, max_size=5))  # some out of range
    with np.errstate(over="ignore", invalid="ignore"):
        values = np.resize(np.array(pattern), size).astype(dtype)
    finite = values[np.isfinite(values)].astype(np.float64)
    edges = make_edges(lo, hi, bins)
    counts = np.zeros(bins, dtype=np.int64)
    valid, missing, below, above, at_lo, at_hi = fill_histogram(values, edges, counts)
    inside = finite[(finite >= lo) & (finite <= hi)]
    want = np.histogram(inside, bins=edges)[0]
    want[0] += (finite < lo).sum()
    want[-1] += (finite > hi).sum()
    np.testing.assert_array_equal(counts, want)
    assert (valid, missing) == (finite.size, size - finite.size)
    assert (below, above) == ((finite < lo).sum(), (finite > hi).sum())
    assert (at_lo, at_hi) == ((finite == lo).sum(), (finite == hi).sum())
    r = value_range(values)
    assert r[2:] == (finite.size, size - finite.size)
    if finite.size:
        assert r[:2] == (finite.min(), finite.max())


def test_nan_payloads_and_negative_nan_are_missing():
    payloads = np.array([0x7FF8000000000001, 0xFFF8000000000000, 0x7FF0000000000001, 0xFFFFFFFFFFFFFFFF],
                        dtype=np.uint64).view(np.float64)
    values = np.concatenate([payloads, [1.0, -2.0]])
    assert value_range(values) == (-2.0, 1.0, 2, 4)
    values32 = np.array([0x7FC00001, 0xFFC00000, 0x7F800001], dtype=np.uint32).view(np.float32)
    assert value_range(np.concatenate([values32, np.float32([0.5])])) == (0.5, 0.5, 1, 3)
    counts = np.zeros(20, dtype=np.int64)
    assert fill_histogram(values, make_edges(-2.0, 1.0), counts)[:4] == (2, 4, 0, 0)
    assert counts.sum() == 2


def test_signed_zeros_are_equal_values():
    values = np.array([-0.0, 0.0, -0.0])
    lo, hi, valid, missing = value_range(values)
    assert lo == hi == 0.0 and (valid, missing) == (3, 0)
    counts = np.zeros(20, dtype=np.int64)
    fill_histogram(values, make_edges(lo, hi), counts)
    assert counts[-1] == 3


def test_constant_column_lands_in_the_last_bin():
    for c in (0.0, -3.5, 1e12, 5e-324, np.finfo(np.float64).max):
        values = np.full(7, c)
        edges = make_edges(c, c)
        counts = np.zeros(20, dtype=np.int64)
        fill_histogram(values, edges, counts)
        assert counts[-1] == 7 and counts[:-1].sum() == 0
        np.testing.assert_array_equal(counts, np.histogram(values, bins=edges)[0])


# ---------------------------------------------------------------------------- the two paths


@settings(max_examples=sds.examples(150))
@given(sds.feature_pairs(), sds.bins_st)
def test_numpy_path_and_jit_path_give_identical_states(pair, bins):
    """Small inputs skip numba; whatever the path, ranges, counts and tallies are the same, bit for bit."""
    def states(limit):
        saved = _kernels.SMALL, _kernels.SMALL_CALLS, _kernels.SMALL_VALUES
        _kernels.SMALL = _kernels.SMALL_CALLS = _kernels.SMALL_VALUES = limit
        try:
            ranges = [Range().update(side) for side in pair]
            both = ranges[0] + ranges[1]
            if both.empty or range_problem(both.lo, both.hi, bins) is not None:
                return ranges, None
            hists = [Histogram.for_range(both.lo, both.hi, bins).update(side) for side in pair]
            return ranges, hists
        finally:
            _kernels.SMALL, _kernels.SMALL_CALLS, _kernels.SMALL_VALUES = saved

    (r_np, h_np), (r_jit, h_jit) = states(1 << 62), states(0)
    assert [(r.lo, r.hi, r.count, r.missing) for r in r_np] == [(r.lo, r.hi, r.count, r.missing) for r in r_jit]
    assert [np.signbit(r.lo) for r in r_np] == [np.signbit(r.lo) for r in r_jit]
    assert h_np == h_jit  # edges, counts and every tally


# ---------------------------------------------------------------------------- divergences

count_vectors = st.integers(1, 40).flatmap(
    lambda n: st.tuples(*[hnp.arrays(np.int64, n, elements=st.one_of(st.just(0), st.integers(0, 10**12)))] * 2)
)


@settings(max_examples=sds.examples(200))
@given(count_vectors)
@example((np.zeros(20, dtype=np.int64), np.zeros(20, dtype=np.int64)))
@example((np.array([10**12] + [0] * 19), np.array([0] * 19 + [1])))
def test_divergences_equal_the_numpy_formulas(counts):
    ref, cur = counts
    want = oracle_divergences(ref, cur)
    kl, kl_rev, psi, js = divergence(ref, cur, 1e-10)
    assert abs(kl - want["kl"]) <= KL_TOL
    assert abs(kl_rev - want["kl_reversed"]) <= KL_TOL
    assert abs(psi - want["psi"]) <= KL_TOL
    assert abs(js**2 - want["js"] ** 2) <= KL_TOL  # the distance is a sqrt: compare divergences


def test_identical_counts_give_exactly_zero():
    c = np.array([3, 0, 5, 1], dtype=np.float64)
    assert divergence(c, c, 1e-10) == (0.0, 0.0, 0.0, 0.0)


# ---------------------------------------------------------------------------- whole feature


@settings(max_examples=sds.examples(300))
@given(sds.feature_pairs(), sds.bins_st)
@example((np.array([np.nan, np.inf]), np.array([1.0, 2.0])), 20)  # undefined: reference all missing
@example((np.array([], dtype=np.float64), np.array([1.0])), 20)  # undefined: empty reference
@example((np.array([1.0]), np.array([1.0])), 20)  # one element each, lo == hi
@example((np.array([1e12, 1e12 + 1e-4]), np.array([1e12 + 2e-4, 1e12 + 3e-4])), 20)
@example((np.array([2**63 + 2048], dtype=np.uint64), np.array([2**63], dtype=np.uint64)), 20)
@example((np.array([-128, 127], dtype=np.int8), np.array([0.5], dtype=np.float32)), 20)
def test_feature_matches_oracle(pair, bins):
    assert_matches_oracle(*pair, bins=bins)


@settings(max_examples=sds.examples(60))
@given(sds.feature_pairs())
def test_read_only_and_strided_arrays_give_the_same_result(pair):
    ref, cur = pair
    try:
        want = oracle_feature(ref, cur)
    except ValueError:  # numpy cannot bin the range; then neither layout can
        want = None
    ref_layouts, cur_layouts = sds.memory_layouts(ref), sds.memory_layouts(cur)
    for name in ref_layouts:
        got = kernel_feature(ref_layouts[name], cur_layouts[name])
        if want is None or want["kl"] is None:
            assert got is None or "problem" in got, name
            continue
        np.testing.assert_array_equal(got["ref"].counts, want["ref_counts"], err_msg=name)
        np.testing.assert_array_equal(got["cur"].counts, want["cur_counts"], err_msg=name)
        assert abs(got["stats"].kl - want["kl"]) <= KL_TOL, name


@pytest.mark.parametrize("layout", ["readonly", "strided", "negative_stride", "readonly_strided"])
def test_kernels_take_any_memory_layout_directly(layout):
    values = np.array([0.0, 0.15, np.nan, 0.3, 1.0, 0.35, np.inf, 0.7])
    arr = sds.memory_layouts(values)[layout]
    edges = make_edges(0.0, 1.0)
    edges.flags.writeable = False
    assert value_range(arr) == value_range(values)
    counts = np.zeros(20, dtype=np.int64)
    fill_histogram(arr, edges, counts)
    np.testing.assert_array_equal(counts, numpy_counts(values, edges))


# ---------------------------------------------------------------------------- golden (SPEC 2)


def spec_example():
    np.random.seed(42)
    old = {
        "age": np.random.normal(40, 10, 2000),
        "income": np.random.normal(60000, 8000, 2000),
        "height": np.random.normal(170, 7, 2000),
    }
    new = {
        "age": old["age"] + np.random.normal(5, 2, 2000),
        "income": old["income"] * 1.1,
        "height": old["height"].copy(),
    }
    return old, new


def test_spec_golden_values():
    old, new = spec_example()
    want = {"age": 0.1858, "income": 0.3224, "height": 0.0}
    for name, value in want.items():
        oracle_kl = oracle_feature(old[name], new[name])["kl"]
        kernel_kl = kernel_feature(old[name], new[name])["stats"].kl
        assert round(oracle_kl, 4) == value, (name, oracle_kl)
        assert round(kernel_kl, 4) == value, (name, kernel_kl)
        assert abs(kernel_kl - oracle_kl) <= KL_TOL
    assert kernel_feature(old["height"], new["height"])["stats"].kl == 0.0
    drifted = [n for n in old if kernel_feature(old[n], new[n])["stats"].kl > 0.1]
    assert drifted == ["age", "income"]


def test_range_asks_for_the_cache_lines_ahead():
    """The range asks for cache lines ahead of its reads (``_jit_range.AHEAD``): removing the prefetch fails here."""
    import platform

    from numba import njit

    from streamdrift import _jit_range

    if platform.machine() not in ("x86_64", "AMD64"):
        pytest.skip("the prefetch instruction checked is x86-64's")
    ranged = njit(_jit_range._range_floats.py_func)
    x = np.arange(300.0)
    args = _jit_range._EXP64, _jit_range._MAG64, np.int64(63), _jit_range._I64MAX, _jit_range._I64MIN
    assert ranged(x, x.view(np.int64), *args) == (0.0, 299.0, 300, 0)
    assert "prefetcht0" in "".join(ranged.inspect_asm().values())
