"""Prototype of faster exact kernels: a proposal measured by benchmarks/run.py, not used by streamdrift.

``python benchmarks/run.py --only kernel,compare`` shows them beside the shipped kernels
(same answers asserted); ``patched()`` swaps them into ``streamdrift.state`` for float64
arrays for the duration of a ``with`` block, to measure ``compare()`` end to end.

Loops run over slices (``chunk[i]`` for ``i in range(chunk.size)``): with a known
non-negative index numba drops its negative-index wraparound and LLVM vectorises.
"""
import contextlib

import numpy as np
from numba import njit

EXP = np.int64(0x7ff0000000000000)
MAG = np.int64(0x7fffffffffffffff)
IMAX = np.int64(0x7fffffffffffffff)
IMIN = np.int64(-0x7fffffffffffffff - 1)
CHUNK = 2048


@njit(nogil=True, cache=True)
def _key_range(bits, lo, hi):
    """Order-preserving int64 keys of the finite float64 values in ``bits``: min, max, count."""
    valid = 0
    for i in range(bits.size):
        u = bits[i]
        fin = (u & EXP) != EXP
        key = u ^ ((u >> 63) & MAG)
        lo = min(lo, key if fin else IMAX)
        hi = max(hi, key if fin else IMIN)
        valid += fin
    return lo, hi, valid


@njit(nogil=True, cache=True)
def _key_to_float(k):
    a = np.empty(1, np.int64)
    a[0] = k ^ ((k >> 63) & MAG)
    return a.view(np.float64)[0]


@njit(nogil=True, cache=True)
def value_range_f64(values):
    """Same result as _kernels.value_range for a contiguous float64 array, vectorised."""
    lo, hi, valid = _key_range(values.view(np.int64), IMAX, IMIN)
    if valid == 0:
        return np.inf, -np.inf, 0, values.size
    return _key_to_float(lo), _key_to_float(hi), valid, values.size - valid


@njit(nogil=True, cache=True)
def _count_ge(chunk, e):
    c = 0
    for i in range(chunk.size):
        c += chunk[i] >= e
    return c


@njit(nogil=True, cache=True)
def _count_gt_nonnan(chunk, hi):
    gt = 0
    nn = 0
    for i in range(chunk.size):
        v = chunk[i]
        gt += v > hi
        nn += v == v
    return gt, nn


@njit(nogil=True, cache=True)
def _infs(values):
    ninf = 0
    pinf = 0
    for i in range(values.size):
        v = values[i]
        ninf += v == -np.inf
        pinf += v == np.inf
    return ninf, pinf


@njit(nogil=True, cache=True)
def fill_histogram_f64(values, edges, counts, want_range=True):
    """Same contract as _kernels.fill_histogram (float64 values), by exact comparisons.

    Bin k holds #(v >= e_k) - #(v >= e_k+1); the last bin #(v >= e_last) - #(v > hi):
    numpy.histogram's own cumulative rule (searchsorted left, right on the last edge),
    so edges that are equal or one ulp apart agree with numpy by construction.
    """
    bins = edges.size - 1
    last = bins - 1
    lo = edges[0]
    hi = edges[bins]
    n = values.size
    bits = values.view(np.int64)
    ge = np.zeros(bins + 1, np.int64)
    gt = 0
    nonnan = 0
    klo = IMAX
    khi = IMIN
    for s in range(0, n, CHUNK):
        chunk = values[s:s + CHUNK]
        for k in range(bins + 1):
            ge[k] += _count_ge(chunk, edges[k])
        a, b = _count_gt_nonnan(chunk, hi)
        gt += a
        nonnan += b
        if want_range:
            klo, khi, _ = _key_range(bits[s:s + CHUNK], klo, khi)
    lt = nonnan - ge[0]
    ninf = 0
    pinf = 0
    if lt > 0 or gt > 0:  # infinities are rare: look for them only when something is out of range
        ninf, pinf = _infs(values)
    valid = nonnan - ninf - pinf
    below = lt - ninf
    above = gt - pinf
    for k in range(last):
        counts[k] += ge[k] - ge[k + 1]
    counts[last] += ge[last] - gt
    counts[0] += below
    counts[last] += above
    if not want_range or valid == 0:
        return valid, n - valid, below, above, np.inf, -np.inf
    return valid, n - valid, below, above, _key_to_float(klo), _key_to_float(khi)


def _fast_ok(values) -> bool:
    return isinstance(values, np.ndarray) and values.dtype == np.float64 and values.ndim == 1 and values.flags.c_contiguous


@contextlib.contextmanager
def patched():
    """Use the prototype kernels inside ``streamdrift.state`` for float64 arrays (others unchanged)."""
    import streamdrift.state as state

    old_fill, old_range = state.fill_histogram, state.value_range

    def fill(values, edges, counts):
        if _fast_ok(values) and edges.size <= 65:
            return fill_histogram_f64(values, edges, counts, True)
        return old_fill(values, edges, counts)

    def vrange(values):
        if _fast_ok(values):
            return value_range_f64(values)
        return old_range(values)

    state.fill_histogram, state.value_range = fill, vrange
    try:
        yield
    finally:
        state.fill_histogram, state.value_range = old_fill, old_range
