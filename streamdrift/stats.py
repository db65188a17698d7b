"""The drift statistics of SPEC section 2, as functions of two bin-count vectors."""

import math
from typing import NamedTuple

import numpy as np

from streamdrift.defaults import BINS, EPS

__all__ = ["Divergence", "divergence", "divergences", "kl_divergence", "binnable_edges", "make_edges", "range_problem"]


class Divergence(NamedTuple):
    """Every statistic offered for one feature; ``kl`` is the one that decides drift."""

    kl: float
    kl_reversed: float
    psi: float
    js: float


def make_edges(lo: float, hi: float, bins: int = BINS) -> np.ndarray:
    """The exact bin edges: ``numpy.linspace(lo, hi, bins + 1)`` in float64."""
    # linspace may overflow computing bins * step for a width near float64's max; that
    # product is only its last element, which linspace then replaces with ``hi``.
    # (``np.errstate`` costs more than a small linspace: taken only for such widths.)
    if abs(float(hi) - float(lo)) < 1e300:
        return np.linspace(np.float64(lo), np.float64(hi), bins + 1)
    with np.errstate(over="ignore"):
        return np.linspace(np.float64(lo), np.float64(hi), bins + 1)


def range_problem(lo: float, hi: float, bins: int = BINS) -> str | None:
    """Why ``[lo, hi]`` cannot be cut into ``bins`` bins, or None when it can.

    Exactly the ranges for which ``numpy.histogram`` rejects ``numpy.linspace(lo, hi, bins + 1)``:
    ``hi - lo`` overflows, or the width is so far below float64's subnormal precision that
    linspace's edges decrease.
    """
    lo, hi = float(lo), float(hi)
    if lo > hi:
        return f"empty range [{lo!r}, {hi!r}]: no finite values"
    return _edges_or_problem(lo, hi, bins)[1]


_NORMAL = float(np.finfo(np.float64).tiny)


def _edges_or_problem(lo: float, hi: float, bins: int) -> tuple[np.ndarray | None, str | None]:
    if not math.isfinite(hi - lo):  # Python floats: inf or nan on overflow, as float64, without warnings
        return None, f"range [{lo!r}, {hi!r}] is wider than float64 can hold (hi - lo overflows)"
    edges = make_edges(lo, hi, bins)
    if (hi - lo) / bins >= _NORMAL and bins < 2**50:
        # linspace's step is this same quotient; a normal one makes edges fl(fl(k * step) + lo), non-decreasing
        # (rounding is monotonic) and at most hi before its last (bins - 1 steps are less than hi - lo, within
        # three roundings), so finite: the check below can only fail for subnormal or zero steps.
        return edges, None
    if not np.isfinite(edges).all() or np.any(edges[:-1] > edges[1:]):
        return None, (
            f"range [{lo!r}, {hi!r}] is too narrow to cut into {bins} bins "
            "(numpy.linspace gives decreasing edges at subnormal precision)"
        )
    return edges, None


def binnable_edges(lo: float, hi: float, bins: int = BINS) -> tuple[np.ndarray, str | None]:
    """The SPEC edges for a feature's combined range, and why its KL is undefined (or None).

    A range that holds no value (``lo > hi``) or cannot be binned still gets edges, ``[0, 0]``,
    so that its valid and missing values are counted all the same.
    """
    lo, hi = float(lo), float(hi)
    if lo > hi:
        return make_edges(0.0, 0.0, bins), None
    edges, problem = _edges_or_problem(lo, hi, bins)
    return (make_edges(0.0, 0.0, bins) if edges is None else edges), problem


def divergence(ref_counts, cur_counts, eps: float = EPS) -> Divergence:
    """All statistics from a reference and a current count vector of the same edges."""
    ref = np.asarray(ref_counts, dtype=np.float64)
    cur = np.asarray(cur_counts, dtype=np.float64)
    if ref.shape != cur.shape or ref.ndim != 1 or ref.size == 0:
        raise ValueError(f"count vectors must be 1-D and of one length, got {ref.shape} and {cur.shape}")
    return _divergence(ref, cur, float(eps))


def kl_divergence(ref_counts, cur_counts, eps: float = EPS) -> float:
    """KL(reference || current) of two count vectors, SPEC section 2 steps 5 and 6."""
    return divergence(ref_counts, cur_counts, eps).kl


def divergences(ref_counts, cur_counts, eps: float = EPS) -> list[Divergence]:
    """``divergence`` of each row of two 2-D count arrays (one row per feature, all of one bin count),
    with one numpy call per step for all rows (a watch's window scores its features at once)."""
    ref = np.asarray(ref_counts, dtype=np.float64)
    cur = np.asarray(cur_counts, dtype=np.float64)
    if ref.shape != cur.shape or ref.ndim != 2 or ref.shape[1] == 0:
        raise ValueError(f"count arrays must be 2-D and of one shape, got {ref.shape} and {cur.shape}")
    return _divergences(ref, cur, float(eps))


def _divergence(ref: np.ndarray, cur: np.ndarray, eps: float) -> Divergence:
    return _divergences(ref[None], cur[None], eps)[0]


def _divergences(ref: np.ndarray, cur: np.ndarray, eps: float) -> list[Divergence]:
    """KL both ways, PSI and the Jensen-Shannon distance (base e) of each row pair of two 2-D count arrays.

    ``eps`` is added to every bin's count before normalising (SPEC section 2). The terms are
    numpy's, elementwise, so a row's are the same bits alone or among others; their sums are
    exactly rounded (``math.fsum``), so with thousands of bins they stay within 1e-12 of
    numpy's pairwise ``np.sum`` and do not depend on the order of bins.
    Nothing here needs the JIT: it is O(bins), and small comparisons start fast.
    """
    fsum = math.fsum
    p = ref + eps
    q = cur + eps
    p /= np.array([fsum(row) for row in p.tolist()])[:, None]
    q /= np.array([fsum(row) for row in q.tolist()])[:, None]
    m = 0.5 * (p + q)
    log_pq = np.log(p / q)
    kl = [fsum(row) for row in (p * log_pq).tolist()]
    rev = [fsum(row) for row in (q * -log_pq).tolist()]
    js = [fsum(row) for row in (0.5 * p * np.log(p / m) + 0.5 * q * np.log(q / m)).tolist()]
    return [Divergence(a, b, a + b, math.sqrt(max(c, 0.0))) for a, b, c in zip(kl, rev, js)]
