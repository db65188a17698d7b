"""The arithmetic exact fill: each value's bin from one branch-free vectorised formula.

For edges that are exactly ``numpy.linspace(lo, hi, bins + 1)`` (checked bit for bit once
per call by ``linear_plan``), a value's bin is estimated as ``k0 = floor((v - lo) * inv)``
and corrected against the two neighbouring edges, recomputed the way linspace computes
them (``e(k) = k * step + lo``, two roundings, no FMA):

    k = k0 - (v < e(k0)) + (v >= e(k0 + 1))

The correction is exact whenever the estimate is off by at most one bin. ``linear_plan``
admits only ranges where that is proven: the edges then sit within 8 ulps of ``max(|lo|,
|hi|)`` of their ideal positions and the estimate within a few ulps of ``bins``, so both
errors together are a tiny fraction of a bin when ``max(|lo|, |hi|) / step <= 2**40``. Other
ranges (and edges that are not linspace's) go to the comparison or search fill.

Counts go into packed 8-bit counters, eight bins to a 64-bit word (three words: up to 22
bins), over blocks of 255 values so that no counter overflows, then into the int64 counts.
Field 0 collects finite values below ``lo``, field ``bins + 1`` values at or above the
recomputed last edge (all of which belong to the last bin, like values above ``hi``).
"""

import numpy as np
from numba import njit

PACK = 255
"""Values per block: an 8-bit counter cannot overflow."""

MAX_BINS = 22
"""Bins that fit three packed words with the two extra fields (below, past the last edge)."""

MAX_SCALE = 2.0**40
"""Largest ``max(|lo|, |hi|) / step`` for which the one-step correction is proven exact."""

_FMAX = np.finfo(np.float64).max
_TINY = np.finfo(np.float64).tiny


@njit(cache=True)  # a few edges: releasing the GIL would cost more than the call
def linear_plan(edges):
    """``(step, inv)`` when ``edges`` are linspace's and the arithmetic fill is exact for them, else (0, 0)."""
    bins = edges.size - 1
    lo = edges[0]
    hi = edges[bins]
    if bins < 1 or bins > MAX_BINS or not (lo < hi):
        return 0.0, 0.0
    step = (hi - lo) / bins
    if not (step >= _TINY) or max(abs(lo), abs(hi)) > step * MAX_SCALE:
        return 0.0, 0.0
    for k in range(bins):
        if np.float64(k) * step + lo != edges[k]:
            return 0.0, 0.0
    return step, bins / (hi - lo)


@njit(nogil=True, cache=True)
def _packed_block(x, lo, hi, step, inv, lastf):
    """Packed counts of one block (fields 0..bins+1 in three words), and its ``v == lo``, ``v == hi``, ``v > hi`` tallies."""
    w0 = np.uint64(0)
    w1 = np.uint64(0)
    w2 = np.uint64(0)
    at_lo = 0
    at_hi = 0
    gt = 0
    one = np.uint64(1)
    none = np.uint64(0)
    for i in range(x.size):
        v = x[i]
        f = (v - lo) * inv
        f = f if f > 0.0 else 0.0  # NaN becomes 0: it is masked out below
        f = f if f < lastf else lastf
        k0 = np.int32(f)
        kf = np.float64(k0)
        e0 = kf * step + lo
        e1 = (kf + 1.0) * step + lo
        field = np.uint64(np.int64(k0) + 1 - np.int64(v < e0) + np.int64(v >= e1))
        inc = (one << ((field & np.uint64(7)) << np.uint64(3))) if abs(v) <= _FMAX else none
        word = field >> np.uint64(3)
        w0 += inc if word == 0 else none
        w1 += inc if word == 1 else none
        w2 += inc if word == 2 else none
        at_lo += v == lo
        at_hi += v == hi
        gt += v > hi
    return w0, w1, w2, at_lo, at_hi, gt


@njit(nogil=True, cache=True)
def fill_linear(values, edges, counts, step, inv):
    """Count contiguous float64 ``values`` into ``counts``, for a ``linear_plan`` ``(step, inv)`` of ``edges``.

    Same contract as ``fill_compare_float64``: returns ``(valid, missing, below, above, at_lo, at_hi)``.
    """
    bins = edges.size - 1
    fields = np.zeros(24, np.int64)
    tallies = np.zeros(3, np.int64)  # v == lo, v == hi, v > hi
    for start in range(0, values.size, PACK):
        _count_block(values[start : start + PACK], edges, step, inv, fields, tallies)
    return _finish(values, counts, fields, bins, tallies)


@njit(nogil=True, cache=True)
def fill_linear_cast(values, edges, counts, step, inv):
    """``fill_linear`` for any other dtype: each block is converted to float64 first."""
    bins = edges.size - 1
    fields = np.zeros(24, np.int64)
    tallies = np.zeros(3, np.int64)
    buf = np.empty(PACK, np.float64)
    for start in range(0, values.size, PACK):
        n = min(PACK, values.size - start)
        for i in range(n):
            buf[i] = np.float64(values[start + i])
        _count_block(buf[:n], edges, step, inv, fields, tallies)
    return _finish(values, counts, fields, bins, tallies)


@njit(nogil=True, cache=True)
def _count_block(block, edges, step, inv, fields, tallies):
    bins = edges.size - 1
    w0, w1, w2, at_lo, at_hi, gt = _packed_block(block, edges[0], edges[bins], step, inv, np.float64(bins - 1))
    for j in range(8):
        shift = np.uint64(8 * j)
        fields[j] += np.int64((w0 >> shift) & np.uint64(255))
        fields[8 + j] += np.int64((w1 >> shift) & np.uint64(255))
        fields[16 + j] += np.int64((w2 >> shift) & np.uint64(255))
    tallies[0] += at_lo
    tallies[1] += at_hi
    tallies[2] += gt


@njit(nogil=True, cache=True)
def _finish(values, counts, fields, bins, tallies):
    """Fields into counts (below into the first bin, past the last edge into the last); the tallies."""
    valid = 0
    for j in range(bins + 2):
        valid += fields[j]
    counts[0] += fields[0]
    for j in range(bins):
        counts[j] += fields[j + 1]
    counts[bins - 1] += fields[bins + 1]
    at_lo, at_hi, above = tallies[0], tallies[1], tallies[2]
    if above > 0:  # v > hi counted +inf too
        for i in range(values.size):
            above -= np.float64(values[i]) == np.inf
    return valid, values.size - valid, fields[0], above, at_lo, at_hi
