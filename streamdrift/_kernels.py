"""The kernels' entry points: named results, and the path each input takes.

Large inputs go to the numba kernels (``_jit_range``: the range; ``_jit_linear``: the arithmetic
fill; ``_jit``: the exact fills by comparison or search), imported on first use. Inputs of fewer than
``SMALL`` values take plain numpy instead, up to a budget of calls and values, so that a
small or medium comparison never pays for importing numba and its first dispatch (about
half a second); past the budget numba is cheaper, and takes every input. Both paths give identical
results (tests/streamdrift/test_kernels.py checks them against each other on the same
hypothesis data): the range is an exact min/max, the counts are integers by numpy's rule.
"""

from typing import NamedTuple

import numpy as np

SMALL = 1 << 20
"""Inputs of fewer values may take the numpy path (while its budget lasts)."""

SMALL_CALLS = 20_000
SMALL_VALUES = 16_000_000
"""The numpy path's budget in inputs and values: past it, the numba kernels (imported then,
once, for about half a second) are cheaper than numpy's per-call and per-value cost."""

_small_calls = 0
_small_values = 0

COMPARISON_MAX_BINS = 48
"""Up to this many bins, counting by comparison with every edge beats a per-value search."""


Validity = tuple[np.ndarray, int]
"""A nullable column's validity: Arrow's bitmap as uint8 and the bit of the first value (1: valid)."""


class ValueRange(NamedTuple):
    """The finite min/max of some values (+inf/-inf when none is finite), and how many were valid and missing."""

    lo: float
    hi: float
    valid: int
    missing: int


class FillCounts(NamedTuple):
    """What a fill saw besides the bin counts.

    ``below``/``above`` count finite values outside the edges (counted into the end bins);
    ``at_lo``/``at_hi`` values equal to the first/last edge, so that a caller can verify that
    the edges span exactly the data's range (all inside, and both ends hit).
    """

    valid: int
    missing: int
    below: int
    above: int
    at_lo: int
    at_hi: int


_jit_modules = None


def _jit():
    """The numba kernel modules, imported on first use."""
    global _jit_modules, _small_calls
    if _jit_modules is None:
        from streamdrift import _jit as exact
        from streamdrift import _jit_linear as linear
        from streamdrift import _jit_range as ranges

        _jit_modules = exact, linear, ranges
        _small_calls = SMALL_CALLS  # loaded anyway: small inputs take the kernels from now on
    return _jit_modules


def expect(values: int) -> None:
    """Note that about ``values`` values are about to be counted (the rows of files whose footers
    say so): when the numpy path's budget cannot cover them, the numba kernels are loaded now,
    so that none of them take the slower path first."""
    if _jit_modules is None and _small_values + values > SMALL_VALUES:
        _jit()


def value_range(values: np.ndarray, valid: Validity | None = None) -> ValueRange:
    """The finite min/max of a 1-D integer or float array, and its valid and missing counts.

    ``valid``: the nulls' ``(bitmap, offset)`` (``Validity``), missing like NaN; None: no nulls.
    """
    small = _small(values)
    if valid is not None and (small or values.dtype == np.uint64):
        values, valid = null_as_nan(values, valid), None  # small, or rare: the numpy or plain kernels
    if small:
        return ValueRange(*_numpy_range(values))
    _, _, ranges = _jit()
    values = np.ascontiguousarray(values)
    if valid is not None:
        return ValueRange(*_range_valid(values, valid))
    if values.dtype == np.float64:
        return ValueRange(*ranges.range_float64(values))
    if values.dtype == np.float32:
        return ValueRange(*ranges.range_float32(values))
    return ValueRange(*ranges.range_integer(values))


def _range_valid(values: np.ndarray, valid: Validity) -> tuple:
    _, _, ranges = _jit()
    if values.dtype == np.float64:
        return ranges.range_float64_valid(values, *valid)
    if values.dtype == np.float32:
        return ranges.range_float32_valid(values, *valid)
    return ranges.range_integer_valid(values, *valid)


def fill_histogram(values: np.ndarray, edges: np.ndarray, counts: np.ndarray, valid: Validity | None = None) -> FillCounts:
    """Add ``values`` to ``counts`` with ``numpy.histogram(values, bins=edges)``'s rule.

    Values outside the edges are counted into the end bins (and as below/above). ``valid``: the
    nulls' ``(bitmap, offset)`` (``Validity``), counted as missing like NaN; None: no nulls.
    """
    if _small(values) and _ordered(edges):
        values = values if valid is None else null_as_nan(values, valid)
        return FillCounts(*_numpy_fill(values, edges, counts))
    exact, linear, _ = _jit()
    values = np.ascontiguousarray(values)
    step, inv = linear.linear_plan(edges)
    if step > 0.0 and valid is not None:
        return FillCounts(*linear.fill_linear_valid(values, *valid, edges, counts, step, inv))
    if valid is not None:  # edges the arithmetic fill refuses: rare, the NaN copy is fine there
        values = null_as_nan(values, valid)
    if step > 0.0:
        return FillCounts(*linear.fill_linear(values, edges, counts, step, inv))
    if edges.size - 1 > COMPARISON_MAX_BINS:
        return FillCounts(*exact.fill_search(values, edges, counts))
    fill = exact.fill_compare_float64 if values.dtype == np.float64 else exact.fill_compare_cast
    return FillCounts(*fill(values, edges, counts))


def null_as_nan(values: np.ndarray, valid: Validity) -> np.ndarray:
    """A float copy of ``values`` with NaN in the null slots (float64 for integers): for the paths
    that take no bitmap."""
    bitmap, offset = valid
    bits = np.unpackbits(bitmap, count=offset + values.size, bitorder="little")[offset:]
    out = values.astype(np.float64 if values.dtype.kind != "f" else values.dtype)
    out[bits == 0] = np.nan  # (a boolean mask: twice as fast as np.putmask here)
    return out


# ------------------------------------------------------------------- the numpy path


def _small(values: np.ndarray) -> bool:
    """True for an input that takes the numpy path: small, and the numba kernels not needed yet."""
    global _small_calls, _small_values
    if values.size >= SMALL or _small_calls >= SMALL_CALLS or _small_values + values.size > SMALL_VALUES:
        return False
    _small_calls += 1
    _small_values += values.size
    return True


def _ordered(edges: np.ndarray) -> bool:
    """Non-decreasing edges without NaN: where ``searchsorted`` is numpy.histogram's rule."""
    e = edges.tolist()  # a few edges: Python is quicker than numpy's call overhead
    return all(a <= b for a, b in zip(e, e[1:]))


def _numpy_range(values: np.ndarray) -> tuple:
    if values.dtype.kind in "iu":  # integers are all valid; min/max before converting is exact
        if values.size == 0:
            return np.inf, -np.inf, 0, 0
        return float(values.min()), float(values.max()), values.size, 0
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.inf, -np.inf, 0, values.size
    return float(finite.min()), float(finite.max()), finite.size, values.size - finite.size


def _numpy_fill(values: np.ndarray, edges: np.ndarray, counts: np.ndarray) -> tuple:
    x = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(x)
    if not finite.all():
        x = x[finite]
    bins = counts.size
    # position = 1 + the last edge e with e <= v: 0 below lo, bins + 1 at or above hi.
    seen = np.bincount(np.searchsorted(edges, x, side="right"), minlength=bins + 2)
    counts[0] += seen[0]  # below lo: the first bin
    counts += seen[1:-1]
    counts[-1] += seen[-1]  # hi, and above it: the last bin
    lo, hi = edges[0], edges[-1]
    above = int(np.count_nonzero(x > hi)) if seen[-1] else 0
    at_lo = int(np.count_nonzero(x == lo)) if seen[0] < x.size else 0
    return x.size, values.size - x.size, int(seen[0]), above, at_lo, int(seen[-1]) - above
