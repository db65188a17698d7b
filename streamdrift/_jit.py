"""The JIT kernels of the exact fill by comparison or search: pure functions on ndarrays.

Every kernel releases the GIL, so callers count several features at once on threads.
Values of any integer or float dtype are compared as float64. NaN and +-inf are
*missing*; Arrow nulls reach these kernels as NaN (``_kernels.null_as_nan``; the arithmetic
fill takes the validity bitmap itself).

Speed comes from letting LLVM vectorise: loops run as ``for i in range(a.size)`` over
arrays or slices (a known non-negative index needs no wraparound check), without branches.

``streamdrift._kernels`` picks the kernel for a dtype and size; ``_jit_linear`` holds the
arithmetic fill used for most inputs, these fills are its exact fallback; ``_jit_range`` the range.
"""

import numpy as np
from numba import njit

BLOCK = 2048
"""Values per block in the comparison fill: small enough to stay in L1 for all edges."""

COMPARISON_MAX_BINS = 48
"""Up to this many bins, counting by comparison with every edge beats a per-value search."""

_FMAX = np.finfo(np.float64).max


@njit(nogil=True, cache=True)
def _count_at_least(x, edge):
    n = 0
    for i in range(x.size):
        n += x[i] >= edge
    return n


@njit(nogil=True, cache=True)
def _count_at_least3(x, a, b, c):
    """Three edges per pass over the block: each loaded value serves three compares."""
    na = 0
    nb = 0
    nc = 0
    for i in range(x.size):
        v = x[i]
        na += v >= a
        nb += v >= b
        nc += v >= c
    return na, nb, nc


@njit(nogil=True, cache=True)
def _block_counts(x, edges, ge, tally):
    """Add ``#(x >= edges[k])`` to ``ge[k]``, and ``#(x > hi)``, ``#(not NaN)``, ``#(x == lo)`` to ``tally``."""
    k = 0
    while k + 3 <= edges.size:
        a, b, c = _count_at_least3(x, edges[k], edges[k + 1], edges[k + 2])
        ge[k] += a
        ge[k + 1] += b
        ge[k + 2] += c
        k += 3
    while k < edges.size:
        ge[k] += _count_at_least(x, edges[k])
        k += 1
    hi = edges[edges.size - 1]
    lo = edges[0]
    above = 0
    not_nan = 0
    at_lo = 0
    for i in range(x.size):
        v = x[i]
        above += v > hi
        not_nan += v == v
        at_lo += v == lo
    tally[0] += above
    tally[1] += not_nan
    tally[2] += at_lo


@njit(nogil=True, cache=True)
def _infinities(values):
    neg = 0
    pos = 0
    for i in range(values.size):
        v = np.float64(values[i])
        neg += v == -np.inf
        pos += v == np.inf
    return neg, pos


@njit(nogil=True, cache=True)
def _finish(values, edges, counts, ge, tally):
    """Turn cumulative ``>=`` counts into bins (numpy's own rule) and the out-of-range tallies."""
    gt, not_nan, at_lo = tally[0], tally[1], tally[2]
    bins = edges.size - 1
    last = bins - 1
    lt = not_nan - ge[0]
    neg = 0
    pos = 0
    if lt > 0 or gt > 0:
        neg, pos = _infinities(values)
    valid = not_nan - neg - pos
    below = lt - neg
    above = gt - pos
    for k in range(last):
        counts[k] += ge[k] - ge[k + 1]
    counts[last] += ge[last] - gt
    at_hi = ge[bins] - gt
    counts[0] += below
    counts[last] += above
    return valid, values.size - valid, below, above, at_lo, at_hi


@njit(nogil=True, cache=True)
def fill_compare_float64(values, edges, counts):
    """Count contiguous float64 ``values`` into ``counts`` by comparison with every edge.

    Bin ``k`` gets ``#(v >= edges[k]) - #(v >= edges[k+1])`` and the last bin
    ``#(v >= edges[-2]) - #(v > edges[-1])``: this *is* ``numpy.histogram``'s rule (searchsorted
    left, and right on the last edge), so values on an edge or one ulp beside it, equal
    edges and ``lo == hi`` agree with numpy by construction, with no index estimate.
    Values outside the edges are clipped into the end bins and counted as below/above.

    Returns ``(valid, missing, below, above, at_lo, at_hi)``; ``at_lo``/``at_hi`` count
    values equal to the first/last edge, so a caller can verify that the edges span
    exactly the data's range (all inside, and both ends hit).
    """
    ge = np.zeros(edges.size, np.int64)
    tally = np.zeros(3, np.int64)
    for start in range(0, values.size, BLOCK):
        _block_counts(values[start : start + BLOCK], edges, ge, tally)
    return _finish(values, edges, counts, ge, tally)


@njit(nogil=True, cache=True)
def fill_compare_cast(values, edges, counts):
    """``fill_compare_float64`` for any other dtype: each block is converted to float64 first."""
    ge = np.zeros(edges.size, np.int64)
    tally = np.zeros(3, np.int64)
    buf = np.empty(BLOCK, np.float64)
    for start in range(0, values.size, BLOCK):
        block = values[start : start + BLOCK]
        for i in range(block.size):
            buf[i] = np.float64(block[i])
        _block_counts(buf[: block.size], edges, ge, tally)
    return _finish(values, edges, counts, ge, tally)


@njit(nogil=True, cache=True)
def fill_search(values, edges, counts):
    """Count ``values`` into ``counts`` one by one: for many bins, where comparing with every edge is slow.

    The bin index is estimated from the width, then corrected against the exact edges
    until ``edges[k] <= v < edges[k+1]`` (the last bin also takes ``v == hi``), so the result
    is numpy's whatever the estimate's rounding. Same contract as ``fill_compare_float64``.
    """
    bins = edges.size - 1
    lo = edges[0]
    hi = edges[bins]
    width = hi - lo
    scale = bins / width if width > 0.0 else 0.0
    last = bins - 1
    valid = 0
    below = 0
    above = 0
    at_lo = 0
    at_hi = 0
    for i in range(values.size):
        v = np.float64(values[i])
        if not abs(v) <= _FMAX:
            continue
        valid += 1
        at_lo += v == lo
        at_hi += v == hi
        if v < lo:
            below += 1
            counts[0] += 1
            continue
        if v > hi:
            above += 1
            counts[last] += 1
            continue
        f = (v - lo) * scale
        if f >= last:
            k = last
        elif f >= 0.0:
            k = int(f)
        else:
            k = 0
        while k > 0 and v < edges[k]:
            k -= 1
        while k < last and v >= edges[k + 1]:
            k += 1
        counts[k] += 1
    return valid, values.size - valid, below, above, at_lo, at_hi
