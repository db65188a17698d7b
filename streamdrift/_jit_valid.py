"""Arrow validity bitmaps in the kernels: nulls excluded in place, never copied out as NaN.

A nullable column reaches the kernels as its data buffer (null slots hold any value) and its
validity bitmap: a uint8 view of Arrow's bitmap and the bit offset of the first value (bit
``offset + i``, least significant first, is 1 where value ``i`` is valid). The kernels expand
one block of bits at a time into bytes (``0xFF`` valid, ``0`` null) with a table of 256 words,
8 values per load and store, and use the bytes as a mask where the plain kernels use nothing.
Null slots are *missing*, as NaN and +-inf are (SPEC 2.1), whatever their data holds.
"""

import numpy as np
from numba import njit

BLOCK = 2048
"""Values per block: their mask bytes stay in L1 beside the block."""

SPREAD = np.array([sum(0xFF << (8 * k) for k in range(8) if b >> k & 1) for b in range(256)], dtype=np.uint64)
"""For each bitmap byte, the 8 mask bytes it stands for (little-endian: bit k is byte k)."""

POPCOUNT = np.array([bin(b).count("1") for b in range(256)], dtype=np.int64)

_EXP64 = np.int64(0x7FF0000000000000)
_MAG64 = np.int64(0x7FFFFFFFFFFFFFFF)
_EXP32 = np.int32(0x7F800000)
_MAG32 = np.int32(0x7FFFFFFF)
_I64MAX = np.int64(0x7FFFFFFFFFFFFFFF)
_I64MIN = np.int64(-0x7FFFFFFFFFFFFFFF - 1)
_I32MAX = np.int32(0x7FFFFFFF)
_I32MIN = np.int32(-0x7FFFFFFF - 1)


@njit(nogil=True, cache=True)
def _bitmap_byte(bitmap, j, s):
    """The 8 bits from bit ``s`` of byte ``j`` on (the next byte's low bits past the first ``8 - s``)."""
    b = np.int64(bitmap[j]) >> s
    if s != 0 and j + 1 < bitmap.size:
        b |= (np.int64(bitmap[j + 1]) << (8 - s)) & 0xFF
    return b


@njit(nogil=True, cache=True)
def expand_validity(bitmap, first, n, mask):
    """``mask[i] = 0xFF`` where bit ``first + i`` of ``bitmap`` is set, else 0 (``i < n``); returns the nulls.

    ``mask`` holds a multiple of 8 bytes, at least ``n`` rounded up (bytes past ``n`` get any value).
    """
    if n == 0:
        return 0
    words = mask.view(np.uint64)
    j = first >> 3
    s = first & 7
    groups = (n + 7) >> 3
    valid = 0
    for g in range(groups - 1):  # every byte after these is still in the bitmap: no bounds check
        b = ((np.int64(bitmap[j + g]) >> s) | (np.int64(bitmap[j + g + 1]) << (8 - s))) & 0xFF
        words[g] = SPREAD[b]
        valid += POPCOUNT[b]
    b = _bitmap_byte(bitmap, j + groups - 1, s) & ((1 << (n - 8 * (groups - 1))) - 1)
    words[groups - 1] = SPREAD[b]
    valid += POPCOUNT[b]
    return n - valid


@njit(nogil=True, cache=True)
def _range_keys_masked(bits, mask, exp, mag, shift, key_max, key_min):
    """``_jit._range_keys`` of the valid slots only: their min and max key, and how many were finite."""
    lo = key_max
    hi = key_min
    valid = 0
    for i in range(bits.size):
        u = bits[i]
        finite = ((u & exp) != exp) & (mask[i] != 0)
        key = u ^ ((u >> shift) & mag)
        lo = min(lo, key if finite else key_max)
        hi = max(hi, key if finite else key_min)
        valid += finite
    return lo, hi, valid


@njit(nogil=True, cache=True)
def _range_floats_valid(values, bits, bitmap, offset, exp, mag, shift, key_max, key_min):
    """``_jit._range_floats`` over the valid slots (``bitmap`` from bit ``offset``): nulls are missing."""
    lo = key_max
    hi = key_min
    valid = 0
    mask = np.empty(BLOCK, np.uint8)
    for start in range(0, bits.size, BLOCK):
        block = bits[start : start + BLOCK]
        expand_validity(bitmap, offset + start, block.size, mask)
        a, b, n = _range_keys_masked(block, mask, exp, mag, shift, key_max, key_min)
        lo = min(lo, a)
        hi = max(hi, b)
        valid += n
    if valid == 0:
        return np.inf, -np.inf, 0, values.size
    keys = np.empty(2, bits.dtype)
    keys[0] = lo ^ ((lo >> shift) & mag)
    keys[1] = hi ^ ((hi >> shift) & mag)
    floats = keys.view(values.dtype)
    return np.float64(floats[0]), np.float64(floats[1]), valid, values.size - valid


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
def _int_range_masked(x, mask):
    lo = _I64MAX
    hi = _I64MIN
    valid = 0
    for i in range(x.size):
        ok = mask[i] != 0
        v = np.int64(x[i])
        lo = min(lo, v if ok else _I64MAX)
        hi = max(hi, v if ok else _I64MIN)
        valid += ok
    return lo, hi, valid


@njit(nogil=True, cache=True)
def range_integer_valid(values, bitmap, offset):
    """As ``range_float64_valid`` for signed integers, or unsigned ones of up to 32 bits (exact as int64)."""
    lo = _I64MAX
    hi = _I64MIN
    valid = 0
    mask = np.empty(BLOCK, np.uint8)
    for start in range(0, values.size, BLOCK):
        block = values[start : start + BLOCK]
        expand_validity(bitmap, offset + start, block.size, mask)
        a, b, n = _int_range_masked(block, mask)
        lo = min(lo, a)
        hi = max(hi, b)
        valid += n
    if valid == 0:
        return np.inf, -np.inf, 0, values.size
    return np.float64(lo), np.float64(hi), valid, values.size - valid
