"""The JIT kernels of the range: the finite min/max of an array, and the count of its valid values.

Every kernel releases the GIL, so callers range several features at once on threads. NaN and +-inf
are *missing*; Arrow nulls reach these kernels as NaN, or as the column's validity bitmap (the
``*_valid`` kernels: a uint8 view of it, and the bit of the first value; bit ``offset + i``, least
significant first, is 1 where value ``i`` is valid; null slots are missing whatever they hold).

Float min/max reductions vectorise only under fastmath, which we never use: the range is found on
order-preserving integer keys of the float bits instead, which LLVM vectorises, in 512-bit vectors
where the CPU has AVX-512 (``wide``). The values go in groups of ``GROUP``, each run after asking for
the cache lines of the values ``AHEAD`` (``prefetch``; both from ``_llvm``).
"""

import numpy as np
from numba import njit

from streamdrift._llvm import prefetch, wide

LLVM = "a7edf72414fe"
"""The hash of ``_llvm.py`` these kernels were built with (see there)."""

GROUP = 128
"""Values per step of the range: one vectorised run of ``_range_keys``, after asking for the cache lines of
as many values ``AHEAD`` (16 prefetches for float64; 64 or 256 values were slower, in cache or out)."""

AHEAD = 512
"""How far ahead (values) the range asks for cache lines (256 and 1024 were no different). On the Intel host
where the hardware prefetcher did not keep up, out of cache (``np.sum`` 0.47 ns/value): float64 0.70 ns/value
with the next 2048 values asked for at once, 0.41 this way; with a validity bitmap 1.35 -> 0.90 (not blocked
before), int64 0.64 -> 0.48. In L2, float64 0.23 -> 0.29: the cost of a reduction per group."""

_EXP64 = np.int64(0x7FF0000000000000)
_MAG64 = np.int64(0x7FFFFFFFFFFFFFFF)
_EXP32 = np.int32(0x7F800000)
_MAG32 = np.int32(0x7FFFFFFF)
_I64MAX = np.int64(0x7FFFFFFFFFFFFFFF)
_I64MIN = np.int64(-0x7FFFFFFFFFFFFFFF - 1)
_I32MAX = np.int32(0x7FFFFFFF)
_I32MIN = np.int32(-0x7FFFFFFF - 1)


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


@njit(nogil=True, cache=True, inline="always")
def _ask_ahead(array, start):
    """Ask for the cache lines of ``array[start + AHEAD :]``'s first ``GROUP`` items (clamped to the
    last one), before the group from ``start`` is ranged. Inlined by numba: called, it took the float64
    range from 0.41 to 0.47 ns/value. One per kernel file, on purpose: numba's cache sees only a
    kernel's own file (and inlining copies the callee's code in)."""
    end = array.size - 1
    for i in range(start + AHEAD, start + AHEAD + GROUP, max(1, 64 // array.itemsize)):
        prefetch(array, min(i, end))


@njit(nogil=True, cache=True)
def _range_floats(values, bits, exp, mag, shift, key_max, key_min):
    """``(lo, hi, valid, missing)`` of contiguous floats ``values`` whose bits, as signed integers
    of their width, are ``bits``; lo/hi are float64, +inf/-inf when none is finite."""
    lo = key_max
    hi = key_min
    valid = 0
    for start in range(0, bits.size, GROUP):
        _ask_ahead(bits, start)
        a, b, n = _range_keys(bits[start : start + GROUP], exp, mag, shift, key_max, key_min)
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
    for start in range(0, values.size, GROUP):
        _ask_ahead(values, start)
        a, b = _range_ints(values[start : start + GROUP])
        lo = min(lo, a)
        hi = max(hi, b)
    return np.float64(lo), np.float64(hi), values.size, 0


@njit(nogil=True, cache=True)
def _range_ints(values):
    """Min and max of integers (not empty)."""
    lo = values[0]
    hi = values[0]
    for i in range(values.size):
        lo = min(lo, values[i])
        hi = max(hi, values[i])
    return lo, hi


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
    for start in range(0, bits.size, GROUP):
        _ask_ahead(bits, start)
        group = bits[start : start + GROUP]
        a, b, n = _range_keys_valid(group, bitmap, offset + start, exp, mag, shift, key_max, key_min)
        lo = min(lo, a)
        hi = max(hi, b)
        valid += n
    return _key_range(values, bits, lo, hi, valid, mag, shift)


@njit(nogil=True, cache=True)
def _range_keys_valid(bits, bitmap, offset, exp, mag, shift, key_max, key_min):
    """``_range_keys`` of the valid slots only (``bitmap`` from bit ``offset``)."""
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
    return lo, hi, valid


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
    for start in range(0, values.size, GROUP):
        _ask_ahead(values, start)
        a, b, n = _range_ints_valid(values[start : start + GROUP], bitmap, offset + start)
        lo = min(lo, a)
        hi = max(hi, b)
        valid += n
    if valid == 0:
        return np.inf, -np.inf, 0, values.size
    return np.float64(lo), np.float64(hi), valid, values.size - valid


@njit(nogil=True, cache=True)
def _range_ints_valid(values, bitmap, offset):
    """Min and max (as int64) of the valid integers (``bitmap`` from bit ``offset``), and their count."""
    lo = _I64MAX
    hi = _I64MIN
    valid = 0
    for i in range(values.size):
        ok = _bit(bitmap, offset + i)
        v = np.int64(values[i])
        lo = min(lo, v if ok != 0 else _I64MAX)
        hi = max(hi, v if ok != 0 else _I64MIN)
        valid += ok
    return lo, hi, valid
