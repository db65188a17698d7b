"""The range of a nullable column's valid values, from its Arrow validity bitmap, without a NaN copy.

A nullable column reaches the kernels as its data buffer (null slots hold any value) and its
validity bitmap: a uint8 view of Arrow's bitmap and the bit offset of the first value (bit
``offset + i``, least significant first, is 1 where value ``i`` is valid). Null slots are
*missing*, as NaN and +-inf are (SPEC 2.1), whatever their data holds. The fill of such a
column is ``_jit_linear.fill_linear_valid``.

Numba's cache checks only the file a kernel is defined in, so no kernel here calls one of
another file (a cached caller would keep the old callee): the bit test is this file's own.
"""

import numpy as np
from numba import njit

_EXP64 = np.int64(0x7FF0000000000000)
_MAG64 = np.int64(0x7FFFFFFFFFFFFFFF)
_EXP32 = np.int32(0x7F800000)
_MAG32 = np.int32(0x7FFFFFFF)
_I64MAX = np.int64(0x7FFFFFFFFFFFFFFF)
_I64MIN = np.int64(-0x7FFFFFFFFFFFFFFF - 1)
_I32MAX = np.int32(0x7FFFFFFF)
_I32MIN = np.int32(-0x7FFFFFFF - 1)


@njit(nogil=True, cache=True)
def _bit(bitmap, p):
    """Bit ``p`` of ``bitmap`` (1: value ``p - offset`` is valid), as an integer: summed and compared as one,
    LLVM vectorises the loops below (a bool kept from it made the integer range 3x slower)."""
    return (bitmap[p >> 3] >> (p & 7)) & 1


@njit(nogil=True, cache=True)
def _range_floats_valid(values, bits, bitmap, offset, exp, mag, shift, key_max, key_min):
    """``_jit._range_floats`` over the valid slots (``bitmap`` from bit ``offset``): nulls are missing."""
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
