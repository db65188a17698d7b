"""stats.py: exact edges, the divergences from count vectors, and ranges numpy cannot bin."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from streamdrift import BINS, EPS, THRESHOLD, Divergence, divergence, kl_divergence, make_edges
from streamdrift.stats import _edges_or_problem, range_problem
from tests import strategies as sds
from tests.oracle import oracle_divergences

MAX = float(np.finfo(np.float64).max)


def test_spec_defaults():
    assert (BINS, EPS, THRESHOLD) == (20, 1e-10, 0.1)


# ---------------------------------------------------------------------------- edges


@settings(max_examples=sds.examples(200))
@given(sds.ranges(), sds.bins_st)
def test_edges_are_numpy_linspace_bit_for_bit(rng, bins):
    lo, hi = rng
    edges = make_edges(lo, hi, bins)
    assert edges.dtype == np.float64 and edges.shape == (bins + 1,)
    with np.errstate(over="ignore"):  # near float64's max linspace's last product overflows (then replaced)
        want = np.linspace(lo, hi, bins + 1)
    np.testing.assert_array_equal(edges, want)
    assert edges[0] == lo and edges[-1] == hi


def test_edges_accept_integers_and_float32():
    np.testing.assert_array_equal(make_edges(np.int64(2**53 + 1), np.int64(2**60)),
                                  np.linspace(float(2**53 + 1), float(2**60), 21))
    np.testing.assert_array_equal(make_edges(np.float32(0.1), np.float32(0.7)),
                                  np.linspace(float(np.float32(0.1)), float(np.float32(0.7)), 21))


def test_edges_of_the_widest_ranges_raise_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for lo, hi, bins in [(0.0, MAX, 20), (-MAX, 0.0, 20), (0.1, MAX, 7)]:
            edges = make_edges(lo, hi, bins)
            assert np.isfinite(edges).all() and edges[-1] == hi


# ---------------------------------------------------------------------------- range_problem


def numpy_can_bin(lo, hi, bins):
    """Whether numpy.histogram accepts numpy.linspace(lo, hi, bins + 1) as its bins."""
    with np.errstate(all="ignore"):
        edges = np.linspace(lo, hi, bins + 1)
        try:
            np.histogram(np.array([lo, hi]), bins=edges)
        except ValueError:
            return False
    return bool(np.isfinite(edges).all())


@settings(max_examples=sds.examples(300))
@given(sds.ranges(binnable=False), sds.bins_st)
@example((-MAX, MAX), 20)  # hi - lo overflows
@example((-1e308, 1e308), 20)
@example((-MAX, 0.0), 20)  # wide but representable
@example((0.0, 5.4e-323), 20)  # 11 subnormal ulps: linspace's edges decrease
@example((2.2250738585072014e-308, 2.2250738585072014e-308 + 197 * 5e-324), 100)
@example((1.0, 1.0), 20)
@example((0.0, 2.2250738585072014e-308 * 20), 20)  # the smallest normal step: the checks are skipped from here
@example((0.0, 2.2250738585072014e-308 * 20 - 5e-324), 20)  # one subnormal ulp less: checked
def test_range_problem_exactly_when_numpy_cannot_bin(rng, bins):
    lo, hi = rng
    problem = range_problem(lo, hi, bins)
    assert (problem is None) == numpy_can_bin(lo, hi, bins), problem
    if problem is not None:
        assert repr(lo) in problem and repr(hi) in problem


@settings(max_examples=sds.examples(300))
@given(sds.ranges(binnable=False), sds.bins_st)
@example((0.0, 2.2250738585072014e-308 * 20), 20)
@example((-1e-300, 1e-300), 7)
@example((1.0, 1.0 + 2**-52), 1000)
def test_edges_with_a_normal_step_pass_the_checks_they_skip(rng, bins):
    """Where ``_edges_or_problem`` skips its checks (a normal step), they would have passed."""
    lo, hi = rng
    if not (lo < hi and math.isfinite(hi - lo) and (hi - lo) / bins >= 2.2250738585072014e-308):
        return
    edges, problem = _edges_or_problem(lo, hi, bins)
    assert problem is None
    assert np.isfinite(edges).all() and not np.any(edges[:-1] > edges[1:])
    np.testing.assert_array_equal(edges, np.linspace(lo, hi, bins + 1))


def test_range_problem_messages():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from the overflowing subtraction
        range_problem(-MAX, MAX)
    assert "overflows" in range_problem(-MAX, MAX)
    narrow = range_problem(0.0, 5.4e-323, 20)
    assert narrow is not None and "20 bins" in narrow
    assert range_problem(0.0, 1.0) is None
    assert range_problem(3.0, 3.0) is None
    assert range_problem(np.float64(0.0), np.float64(5.4e-323)).startswith("range [0.0, 5.4e-323]")


# ---------------------------------------------------------------------------- divergence


counts = st.integers(1, 40).flatmap(
    lambda n: st.tuples(*[hnp.arrays(np.int64, n, elements=st.integers(0, 10**9))] * 2)
)


@settings(max_examples=sds.examples(200))
@given(counts, st.sampled_from([1e-10, 1e-6, 0.5, 1.0]))
def test_divergence_equals_oracle(pair, eps):
    ref, cur = pair
    got = divergence(ref, cur, eps)
    want = oracle_divergences(ref, cur, eps)
    assert isinstance(got, Divergence) and all(type(x) is float for x in got)
    for name in ("kl", "kl_reversed", "psi"):
        assert abs(getattr(got, name) - want[name]) <= 1e-12, name
    # The JS *distance* is a square root: rounding noise of 1e-16 in the divergence near 0
    # becomes 1e-8 in the distance, so compare the divergences (its squares).
    assert abs(got.js**2 - want["js"] ** 2) <= 1e-12
    assert kl_divergence(ref, cur, eps) == got.kl
    # Properties of the statistics themselves.
    assert got.kl >= -1e-12 and got.kl_reversed >= -1e-12  # Gibbs, up to rounding
    assert 0.0 <= got.js <= math.sqrt(math.log(2)) + 1e-12
    assert abs(got.psi - (got.kl + got.kl_reversed)) <= 1e-12
    swapped = divergence(cur, ref, eps)
    assert abs(swapped.kl - got.kl_reversed) <= 1e-12 and abs(swapped.js - got.js) <= 1e-12


def _one_pair(ref, cur, eps):
    """The statistics of one pair of 1-D count vectors, as stats.py computed them before ``divergences``."""
    p, q = ref + eps, cur + eps
    p /= math.fsum(p.tolist())
    q /= math.fsum(q.tolist())
    m = 0.5 * (p + q)
    log_pq = np.log(p / q)
    kl, rev = math.fsum((p * log_pq).tolist()), math.fsum((q * -log_pq).tolist())
    js = math.fsum((0.5 * p * np.log(p / m) + 0.5 * q * np.log(q / m)).tolist())
    return Divergence(kl, rev, kl + rev, math.sqrt(max(js, 0.0)))


@settings(max_examples=sds.examples(200))
@given(st.integers(1, 40).flatmap(lambda n: st.lists(
    st.tuples(*[hnp.arrays(np.int64, n, elements=st.integers(0, 10**9))] * 2), min_size=1, max_size=12)))
def test_divergences_of_rows_are_each_rows_divergence_bit_for_bit(rows):
    """A watch scores a window's features together: each row's statistics are the same bits as alone."""
    from streamdrift.stats import divergences

    ref = np.array([r for r, _ in rows])
    cur = np.array([c for _, c in rows])
    got = divergences(ref, cur)
    assert got == [divergence(r, c) for r, c in rows]
    assert got == [_one_pair(r.astype(np.float64), c.astype(np.float64), EPS) for r, c in rows]
    with pytest.raises(ValueError, match="2-D"):
        divergences(ref[0], cur[0])


def test_divergence_default_eps_is_on_counts():
    # One empty bin on the current side: q = eps / (n + 2 eps), not eps as a probability.
    ref, cur = np.array([5, 5]), np.array([10, 0])
    p = np.array([5 + EPS, 5 + EPS]) / (10 + 2 * EPS)
    q = np.array([10 + EPS, EPS]) / (10 + 2 * EPS)
    assert abs(kl_divergence(ref, cur) - float(np.sum(p * np.log(p / q)))) <= 1e-12


def test_divergence_of_equal_counts_is_zero():
    c = [0, 3, 7, 0, 1]
    assert divergence(c, c) == (0.0, 0.0, 0.0, 0.0)
    assert divergence(np.zeros(20), np.zeros(20)) == (0.0, 0.0, 0.0, 0.0)


def test_divergence_accepts_lists_ints_floats_and_views():
    ref = np.array([4, 0, 2, 9, 1, 1], dtype=np.int64)
    cur = np.array([1, 3, 2, 2, 5, 0], dtype=np.int64)
    want = divergence(ref, cur)
    assert divergence(list(ref), list(cur)) == want
    assert divergence(ref.astype(np.float32), cur.astype(np.uint16)) == want
    ro = ref.copy()
    ro.flags.writeable = False
    assert divergence(ro, np.repeat(cur, 2)[::2]) == want


@pytest.mark.parametrize(
    "ref, cur",
    [([1, 2], [1, 2, 3]), ([], []), ([[1, 2]], [[1, 2]])],
    ids=["lengths", "empty", "2-d"],
)
def test_divergence_rejects_mismatched_counts(ref, cur):
    with pytest.raises(ValueError, match="count vectors"):
        divergence(ref, cur)


@pytest.mark.parametrize("ref, cur", [(5, 5), ([[1, 2]], [[1, 2]]), ([], []), ([1, 2], [1, 2, 3])])
def test_divergence_takes_only_count_vectors_of_one_length(ref, cur):
    with pytest.raises(ValueError, match="count vectors must be 1-D and of one length"):
        divergence(ref, cur)


def test_range_problem_names_an_empty_range():
    assert range_problem(float("inf"), float("-inf")) == "empty range [inf, -inf]: no finite values"


def test_kl_stays_within_1e_12_of_numpy_with_thousands_of_bins():
    """SPEC 2 allows only summation order to differ; a plain running sum drifted to 4e-12 here."""
    rng = np.random.default_rng(3)
    worst = 0.0
    for _ in range(20):
        x, y = rng.normal(0, 1, 300), rng.normal(3, 1, 40)
        for bins in (1000, 5000):
            edges = np.linspace(min(x.min(), y.min()), max(x.max(), y.max()), bins + 1)
            cr, cc = np.histogram(x, edges)[0], np.histogram(y, edges)[0]
            p, q = (cr + EPS) / np.sum(cr + EPS), (cc + EPS) / np.sum(cc + EPS)
            worst = max(worst, abs(kl_divergence(cr, cc) - float(np.sum(p * np.log(p / q)))))
    assert worst <= 1e-12
