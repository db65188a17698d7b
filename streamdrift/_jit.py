"""The JIT kernels of the range and of the exact fill by comparison or search: pure functions on ndarrays.

Every kernel releases the GIL, so callers count several features at once on threads.
Values of any integer or float dtype are compared as float64. NaN and +-inf are
*missing*; Arrow nulls reach these kernels as NaN, or as the column's validity bitmap
(the ``*_valid`` kernels here and ``_jit_linear.fill_linear_valid``).

Speed comes from letting LLVM vectorise: loops run as ``for i in range(a.size)`` over
arrays or slices (a known non-negative index needs no wraparound check), without
branches, and without float min/max reductions (which only vectorise under fastmath,
which we never use): the range is found on order-preserving integer keys of the float
bits instead. The range goes in groups of values, each asking for the cache lines of values ahead
(``prefetch``), in 512-bit vectors where the CPU has AVX-512 (``wide``; both from ``_llvm``).

``streamdrift._kernels`` picks the kernel for a dtype and size; ``_jit_linear`` holds the
arithmetic fill used for most inputs, these fills are its exact fallback.
"""

import numpy as np
from numba import njit

from streamdrift._llvm import prefetch, wide

LLVM = "a7edf72414fe"
"""The hash of ``_llvm.py`` these kernels were built with (see there)."""

BLOCK = 2048
"""Values per block in the comparison fill: small enough to stay in L1 for all edges."""

RANGE_GROUP = 128
"""Values per step of the range: one vectorised run of ``_range_keys``, after asking for the cache lines of
as many values ``RANGE_AHEAD`` (16 prefetches for float64; 64 or 256 values were slower, in cache or out)."""

RANGE_AHEAD = 512
"""How far ahead (values) the range asks for cache lines (256 and 1024 were no different). On the Intel host
where the hardware prefetcher did not keep up, out of cache: 0.70 ns/value with the next 2048 values asked for
at once, 0.41 this way (``np.sum`` 0.47); in L2, 0.23 -> 0.29, the cost of a reduction per group."""

COMPARISON_MAX_BINS = 48
"""Up to this many bins, counting by comparison with every edge beats a per-value search."""

_EXP64 = np.int64(0x7FF0000000000000)
_MAG64 = np.int64(0x7FFFFFFFFFFFFFFF)
_EXP32 = np.int32(0x7F800000)
_MAG32 = np.int32(0x7FFFFFFF)
_I64MAX = np.int64(0x7FFFFFFFFFFFFFFF)
_I64MIN = np.int64(-0x7FFFFFFFFFFFFFFF - 1)
_I32MAX = np.int32(0x7FFFFFFF)
_I32MIN = np.int32(-0x7FFFFFFF - 1)
_FMAX = np.finfo(np.float64).max


# ------------------------------------------------------------------------- the range


@njit(nogil=True, cache=True)
def _range_keys(bits, exp, mag, shift, key_max, key_min):
    """Min and max order-preserving integer key of the finite floats whose bits are ``bits``, and their count.

    ``key = bits ^ ((bits >> shift) & mag)`` orders IEEE floats as signed integers; the
    constants are those of the float width (int64 for float64, int32 for float32).
    """
    wide()  # 512-bit vectors where the CPU has AVX-512 (int64 min/max in one instruction): 0.18 ns/value, not 0.25
    lo = key_max
    hi = key_min
    valid = 0
    for i in range(bits.size):
        u = bits[i]
        finite = (u & exp) != exp
        key = u ^ ((u >> shift) & mag)
        lo = min(lo, key if finite else key_max)
        hi = max(hi, key if finite else key_min)
        valid += finite
    return lo, hi, valid


@njit(nogil=True, cache=True)
def _range_floats(values, bits, exp, mag, shift, key_max, key_min):
    """``(lo, hi, valid, missing)`` of contiguous floats ``values`` whose bits, as signed integers
    of their width, are ``bits``; lo/hi are float64, +inf/-inf when none is finite."""
    lo = key_max
    hi = key_min
    valid = 0
    end = bits.size - 1
    line = max(1, 64 // bits.itemsize)
    for start in range(0, bits.size, RANGE_GROUP):
        for i in range(start + RANGE_AHEAD, start + RANGE_AHEAD + RANGE_GROUP, line):
            prefetch(bits, min(i, end))
        a, b, n = _range_keys(bits[start : start + RANGE_GROUP], exp, mag, shift, key_max, key_min)
        lo = min(lo, a)
        hi = max(hi, b)
        valid += n
    return _key_range(values, bits, lo, hi, valid, mag, shift)


@njit(nogil=True, cache=True)
def _key_range(values, bits, lo, hi, valid, mag, shift):
    """``(lo, hi, valid, missing)`` of ``values`` from the smallest and largest keys (of ``bits``' dtype)
    of their ``valid`` finite values."""
    if valid == 0:
        return np.inf, -np.inf, 0, values.size
    keys = np.empty(2, bits.dtype)
    keys[0] = lo ^ ((lo >> shift) & mag)
    keys[1] = hi ^ ((hi >> shift) & mag)
    floats = keys.view(values.dtype)
    return np.float64(floats[0]), np.float64(floats[1]), valid, values.size - valid


@njit(nogil=True, cache=True)
def range_float64(values):
    """``(lo, hi, valid, missing)`` of a contiguous float64 array; lo/hi are +inf/-inf when none is finite."""
    return _range_floats(values, values.view(np.int64), _EXP64, _MAG64, np.int64(63), _I64MAX, _I64MIN)


@njit(nogil=True, cache=True)
def range_float32(values):
    """As ``range_float64`` for a contiguous float32 array (lo/hi returned as float64)."""
    return _range_floats(values, values.view(np.int32), _EXP32, _MAG32, np.int32(31), _I32MAX, _I32MIN)


@njit(nogil=True, cache=True)
def range_integer(values):
    """As ``range_float64`` for integers (all valid); converting after min/max is exact as it is monotonic."""
    if values.size == 0:
        return np.inf, -np.inf, 0, 0
    lo = values[0]
    hi = values[0]
    for i in range(values.size):
        lo = min(lo, values[i])
        hi = max(hi, values[i])
    return np.float64(lo), np.float64(hi), values.size, 0


# --------------------------------------------------------------------------- the counts


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


# --------------------------------------------------- nullable columns: the validity bitmap
# A nullable column comes as its data (null slots hold any value) and Arrow's validity bitmap
# (a uint8 view, and the bit of the first value: bit ``offset + i``, least significant first,
# is 1 where value ``i`` is valid). Null slots are missing, as NaN is, whatever they hold.


@njit(nogil=True, cache=True)
def _bit(bitmap, p):
    """Bit ``p`` of ``bitmap`` (1: value ``p - offset`` is valid), as an integer: summed and compared as one,
    LLVM vectorises the loops below (a bool kept from it made the integer range 3x slower)."""
    return (bitmap[p >> 3] >> (p & 7)) & 1


@njit(nogil=True, cache=True)
def _range_floats_valid(values, bits, bitmap, offset, exp, mag, shift, key_max, key_min):
    """``_range_floats`` over the valid slots (``bitmap`` from bit ``offset``): nulls are missing."""
    lo = key_max
    hi = key_min
    valid = 0
    for i in range(bits.size):
        u = bits[i]
        finite = _bit(bitmap, offset + i) & ((u & exp) != exp)
        key = u ^ ((u >> shift) & mag)
        lo = min(lo, key if finite != 0 else key_max)
        hi = max(hi, key if finite != 0 else key_min)
        valid += finite
    return _key_range(values, bits, lo, hi, valid, mag, shift)


@njit(nogil=True, cache=True)
def range_float64_valid(values, bitmap, offset):
    """``(lo, hi, valid, missing)`` of contiguous float64 ``values`` whose nulls are the clear bits of ``bitmap``."""
    return _range_floats_valid(values, values.view(np.int64), bitmap, offset, _EXP64, _MAG64, np.int64(63),
                               _I64MAX, _I64MIN)


@njit(nogil=True, cache=True)
def range_float32_valid(values, bitmap, offset):
    """As ``range_float64_valid`` for float32 values (lo/hi returned as float64)."""
    return _range_floats_valid(values, values.view(np.int32), bitmap, offset, _EXP32, _MAG32, np.int32(31),
                               _I32MAX, _I32MIN)


@njit(nogil=True, cache=True)
def range_integer_valid(values, bitmap, offset):
    """As ``range_float64_valid`` for signed integers, or unsigned ones of up to 32 bits (exact as int64)."""
    lo = _I64MAX
    hi = _I64MIN
    valid = 0
    for i in range(values.size):
        ok = _bit(bitmap, offset + i)
        v = np.int64(values[i])
        lo = min(lo, v if ok != 0 else _I64MAX)
        hi = max(hi, v if ok != 0 else _I64MIN)
        valid += ok
    if valid == 0:
        return np.inf, -np.inf, 0, values.size
    return np.float64(lo), np.float64(hi), valid, values.size - valid
