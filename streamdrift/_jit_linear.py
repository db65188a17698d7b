"""The arithmetic exact fill: each value's bin from one branch-free vectorised formula.

For edges that are exactly ``numpy.linspace(lo, hi, bins + 1)`` (checked bit for bit once
per call by ``linear_plan``), a value's position ``f = v * inv - lo * inv`` (one multiply-add,
fused where the CPU has FMA) is rounded to the nearest integer ``r`` and compared once with
the edge ``e(r)``, recomputed the way linspace computes it (``e(k) = k * step + lo``, two
roundings, never fused):

    field = r + (v >= e(r))          (field = bin + 1)

``linear_plan`` admits only ranges where ``f`` is provably within a tiny fraction of a bin of
the exact position of ``v`` among the edges: with ``M = max(|lo|, |hi|) <= 2**40 * step``, an
ulp of ``M`` is at most ``2**-12`` of a bin; the edges sit within 8 such ulps of their ideal
places, the two products ``v * inv`` and ``lo * inv`` (at most ``2**40`` in magnitude) are rounded
by half an ulp each, the sum by a few ulps of ``bins`` (fused or not; the error of ``inv`` cancels
in the difference): under ``2**-8`` of a bin in all, far below the half bin that rounding tolerates. So for
``e(k) <= v < e(k+1)``, ``r`` is ``k`` or ``k + 1`` and the comparison picks ``k``. Other ranges (and edges
that are not linspace's) go to the comparison or search fill.

With ``f`` clamped to ``[0, bins]``, field 0 collects values below ``lo`` (and NaN, -inf),
field ``bins + 1`` values at or above ``e(bins)`` (+inf, and values above ``hi``, all of
which belong to the last bin). Values equal to or beyond ``lo`` land only in fields 0 and 1,
those equal to or beyond ``hi`` only in fields ``bins`` and ``bins + 1``: the exact tallies
(``v == lo``, ``v == hi``, ``v > hi``, NaN, +-inf) are counted only for blocks whose counts
in those fields grew, which for most data are the few blocks holding the extremes.

Work goes in blocks of ``BLOCK`` values: one pass writes each value's field as a byte (asking, every
``GROUP`` values, for the cache lines ``AHEAD`` values on: ``_fields``), then
the bytes are counted by comparison with 8 fields at a time, in 8-bit sums over spans of
``SPAN`` bytes, from the block's lowest field to its highest only (LLVM vectorises these loops:
4 values per instruction in the first, 32 in the others). Most blocks of real data fill about
half the fields: counting them costs two groups of 8 comparisons where all fields would cost three.

Values of any integer or float dtype are converted to float64 inside the first pass (numba
compiles it per dtype; the conversion vectorises with the rest). A nullable Arrow column comes
with its validity bitmap (``fill_linear_valid``): each block's bits are expanded into mask bytes
(``expand_validity``), null slots are written into one middle field whatever their data holds, and
their number is taken back out of that field after the count.
"""

import numpy as np
from numba import njit

from streamdrift._llvm import muladd, prefetch, wide

LLVM = "a7edf72414fe"
"""The hash of ``_llvm.py`` these kernels were built with (see there)."""

BLOCK = 2048
"""Values per block: fields computed, then counted, while both stay in L1 (16 KiB of float64, 2 KiB
of fields; half as many blocks as 1024 saved about 3% of the fill's time, their per-block work)."""

SPAN = 256
"""Bytes per 8-bit sum; only a span whose 256 values share one field wraps (to 0), and is redone."""

GROUP = 32
"""Values per step of the fields pass: one vectorised run, after asking for the cache lines of as many values
``AHEAD`` (a few prefetches at a time; bursts of a whole block's 256 lines stalled the core until they came)."""

AHEAD = 256
"""How far ahead (values) the fields pass asks for cache lines, into the next block near a block's end: far
enough for the memory's latency (512 to 2048 were no faster). On the Intel host where the hardware prefetcher
did not keep up with a loop this busy, it took the fill out of cache from 1.02 to 0.63 ns/value (0.55-0.57
in cache; ``np.sum`` 0.46); asking for the whole next block at once had taken it only from 1.42 to 1.02."""

MAX_BINS = 22
"""The most bins this fill takes (the fields are counted 8 at a time: up to three groups)."""

MAX_SCALE = 2.0**40
"""Largest ``max(|lo|, |hi|) / step`` for which the rounded position is proven within half a bin."""

FIELDS = MAX_BINS + 10
"""Room for every field, and for a group of 8 starting at the last one (the fields past it stay 0)."""

_TINY = np.finfo(np.float64).tiny

SPREAD = np.array([sum(0xFF << (8 * k) for k in range(8) if b >> k & 1) for b in range(256)], dtype=np.uint64)
"""For each bitmap byte, the 8 mask bytes it stands for (little-endian: bit k is byte k)."""

POPCOUNT = np.array([bin(b).count("1") for b in range(256)], dtype=np.int64)


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
def _field(v, lo, step, inv, shift, last):
    """The field of one float64 value: bin + 1; 0 below ``lo``, NaN and -inf; ``bins + 1`` from ``e(bins)`` on."""
    f = muladd(v, inv, shift)  # one instruction: a shorter chain of dependent ones per value
    f = f if f > 0.0 else 0.0  # NaN becomes 0
    f = f if f < last else last
    r = np.rint(f)
    e = r * step + lo
    r = r + 1.0 if v >= e else r  # a blend: one instruction after the comparison
    return np.uint8(np.int32(r))


@njit(nogil=True, cache=True, inline="always")
def _ask_ahead(values, at):
    """Ask for the cache lines of ``values[at + AHEAD :]``'s first ``GROUP`` values (clamped to the last one).
    Inlined by numba: called, it took the fill out of cache from 0.63 to 0.73 ns/value. One per kernel file,
    on purpose: numba's cache sees only a kernel's own file (and inlining copies the callee's code in)."""
    end = values.size - 1
    for i in range(at + AHEAD, at + AHEAD + GROUP, max(1, 64 // values.itemsize)):
        prefetch(values, min(i, end))


@njit(nogil=True, cache=True)
def _fields(values, start, x, lo, step, inv, last, out):
    """The field of each value of ``x`` (``values[start : start + out.size]``) into ``out``, the values of any
    integer or float dtype converted to float64 in the same vectorised loop (numba compiles this once per
    dtype), 512 bits at a time where the CPU has AVX-512 (``_llvm.wide``: 10% less time per value than 256
    bits; the counting passes gain nothing from it), the cache lines ``AHEAD`` asked for on the way. ``x``
    comes sliced by the caller: sliced here, the code loaded from numba's cache ran 1.5x slower than the same
    code freshly compiled (0.97 against 0.64 ns/value out of cache, every run; not explained)."""
    wide()
    shift = -lo * inv
    full = x.size - x.size % GROUP
    for g in range(0, full, GROUP):
        _ask_ahead(values, start + g)
        for i in range(g, g + GROUP):
            out[i] = _field(np.float64(x[i]), lo, step, inv, shift, last)
    for i in range(full, x.size):
        out[i] = _field(np.float64(x[i]), lo, step, inv, shift, last)


@njit(nogil=True, cache=True)
def _fields_valid(values, start, x, mask, lo, step, inv, last, out):
    """``_fields``, with the null slots (``mask`` 0) in the middle field (``_null_field``), whatever their data
    holds: the caller takes their number back out of it."""
    wide()
    shift = -lo * inv
    null = _null_field(last)
    full = x.size - x.size % GROUP
    for g in range(0, full, GROUP):
        _ask_ahead(values, start + g)
        for i in range(g, g + GROUP):
            f = _field(np.float64(x[i]), lo, step, inv, shift, last)
            out[i] = f if mask[i] != 0 else null
    for i in range(full, x.size):
        f = _field(np.float64(x[i]), lo, step, inv, shift, last)
        out[i] = f if mask[i] != 0 else null


@njit(nogil=True, cache=True)
def _null_field(last):
    """Where the null slots are counted (then taken out): a middle bin's, among the fields most blocks
    count anyway (field 0, below ``lo``, would add a group of 8 to the count of most blocks)."""
    return np.uint8(np.int32(last) // 2 + 1)


@njit(nogil=True, cache=True)
def _count8(buf, base, fields):
    """Add to ``fields[base + j]`` (j < 8) how many bytes of ``buf`` equal ``base + j``, in 8-bit sums per span."""
    b0, b1, b2, b3 = np.uint8(base), np.uint8(base + 1), np.uint8(base + 2), np.uint8(base + 3)
    b4, b5, b6, b7 = np.uint8(base + 4), np.uint8(base + 5), np.uint8(base + 6), np.uint8(base + 7)
    for s in range(0, buf.size, SPAN):
        span = buf[s : s + SPAN]
        c0 = c1 = c2 = c3 = c4 = c5 = c6 = c7 = np.uint8(0)
        for i in range(span.size):
            b = span[i]
            c0 = np.uint8(c0 + np.uint8(b == b0))
            c1 = np.uint8(c1 + np.uint8(b == b1))
            c2 = np.uint8(c2 + np.uint8(b == b2))
            c3 = np.uint8(c3 + np.uint8(b == b3))
            c4 = np.uint8(c4 + np.uint8(b == b4))
            c5 = np.uint8(c5 + np.uint8(b == b5))
            c6 = np.uint8(c6 + np.uint8(b == b6))
            c7 = np.uint8(c7 + np.uint8(b == b7))
        fields[base] += c0
        fields[base + 1] += c1
        fields[base + 2] += c2
        fields[base + 3] += c3
        fields[base + 4] += c4
        fields[base + 5] += c5
        fields[base + 6] += c6
        fields[base + 7] += c7


@njit(nogil=True, cache=True)
def _field_range(buf):
    """The lowest and the highest field in ``buf`` (not empty)."""
    low = np.uint8(255)
    high = np.uint8(0)
    for i in range(buf.size):
        b = buf[i]
        low = min(low, b)
        high = max(high, b)
    return np.int64(low), np.int64(high)


@njit(nogil=True, cache=True)
def _count(buf, nf, fields):
    """Add the counts of fields ``0..nf-1`` in ``buf`` to ``fields``; a span of one field (summed to 0) is added whole."""
    before = 0
    for j in range(nf):
        before += fields[j]
    low, high = _field_range(buf)
    for base in range(low, high + 1, 8):
        _count8(buf, base, fields)
    counted = -before
    for j in range(nf):
        counted += fields[j]
    if counted < buf.size:
        for s in range(0, buf.size, SPAN):
            span = buf[s : s + SPAN]
            if span.size == SPAN and np.all(span == span[0]):
                fields[span[0]] += SPAN


@njit(nogil=True, cache=True)
def _at(x, mask, edge):
    n = 0
    for i in range(x.size):
        n += (np.float64(x[i]) == edge) & (mask[i] != 0)
    return n


@njit(nogil=True, cache=True)
def _low_tallies(x, mask, lo, tallies):
    """``v == lo``, NaN and -inf of a block's valid slots (the values of field 0, and those of field 1 equal to ``lo``)."""
    at_lo = 0
    nan = 0
    neg = 0
    for i in range(x.size):
        v = np.float64(x[i])
        ok = mask[i] != 0
        at_lo += (v == lo) & ok
        nan += (v != v) & ok
        neg += (v == -np.inf) & ok
    tallies[0] += at_lo
    tallies[3] += nan
    tallies[5] += neg


@njit(nogil=True, cache=True)
def _high_tallies(x, mask, hi, tallies):
    """``v == hi``, finite ``v > hi`` and +inf of a block's valid slots (all in fields ``bins`` and ``bins + 1``)."""
    at_hi = 0
    gt = 0
    pos = 0
    for i in range(x.size):
        v = np.float64(x[i])
        ok = mask[i] != 0
        at_hi += (v == hi) & ok
        gt += (v > hi) & ok
        pos += (v == np.inf) & ok
    tallies[1] += at_hi
    tallies[2] += gt - pos
    tallies[4] += pos


@njit(nogil=True, cache=True)
def _block(values, start, mask, nulls, edges, step, inv, top, buf, fields, tallies):
    """Count the block of ``values`` from ``start`` into ``fields``, and into ``tallies`` where the fields that
    can hold them grew.

    ``mask`` is 0 at the block's ``nulls`` null slots (missing, like NaN), 0xFF elsewhere.
    Values ``>= hi`` land in fields ``top..bins+1``: ``top`` is ``bins + 1`` when ``e(bins) <= hi``.
    """
    bins = edges.size - 1
    x = values[start : start + BLOCK]
    out = buf[: x.size]
    if nulls:
        _fields_valid(values, start, x, mask, edges[0], step, inv, np.float64(bins), out)
    else:
        _fields(values, start, x, edges[0], step, inv, np.float64(bins), out)
    below, first = fields[0], fields[1]
    high = fields[top] + fields[bins + 1]
    _count(out, bins + 2, fields)
    fields[_null_field(np.float64(bins))] -= nulls  # missing: not in any field
    if fields[0] > below:
        _low_tallies(x, mask, edges[0], tallies)
    elif fields[1] > first:
        tallies[0] += _at(x, mask, edges[0])
    if fields[top] + fields[bins + 1] > high:
        _high_tallies(x, mask, edges[bins], tallies)


@njit(nogil=True, cache=True)
def _top(edges, step):
    """The first field that can hold values ``>= hi``: ``bins + 1`` when ``e(bins) <= hi``, else ``bins``."""
    bins = edges.size - 1
    return bins + 1 if np.float64(bins) * step + edges[0] <= edges[bins] else bins


@njit(nogil=True, cache=True)
def fill_linear(values, edges, counts, step, inv):
    """Count contiguous ``values`` (any integer or float dtype, compared as float64) into ``counts``, for a
    ``linear_plan`` ``(step, inv)`` of ``edges``.

    Same contract as ``fill_compare_float64``: returns ``(valid, missing, below, above, at_lo, at_hi)``.
    """
    fields = np.zeros(FIELDS, np.int64)
    tallies = np.zeros(6, np.int64)  # v == lo, v == hi, finite v > hi, NaN, +inf, -inf
    buf = np.empty(BLOCK, np.uint8)
    mask = np.full(BLOCK, 255, np.uint8)
    top = _top(edges, step)
    for start in range(0, values.size, BLOCK):
        n = min(BLOCK, values.size - start)
        _block(values, start, mask[:n], 0, edges, step, inv, top, buf, fields, tallies)
    return _finish(values.size, counts, fields, edges.size - 1, tallies)


@njit(nogil=True, cache=True)
def fill_linear_valid(values, bitmap, offset, edges, counts, step, inv):
    """``fill_linear`` of a nullable column: value ``i`` is null where bit ``offset + i`` of ``bitmap`` is
    clear (Arrow's validity bitmap); nulls are missing, whatever their slots hold."""
    fields = np.zeros(FIELDS, np.int64)
    tallies = np.zeros(6, np.int64)
    buf = np.empty(BLOCK, np.uint8)
    mask = np.empty(BLOCK, np.uint8)
    top = _top(edges, step)
    for start in range(0, values.size, BLOCK):
        n = min(BLOCK, values.size - start)
        nulls = expand_validity(bitmap, offset + start, n, mask)
        _block(values, start, mask[:n], nulls, edges, step, inv, top, buf, fields, tallies)
    return _finish(values.size, counts, fields, edges.size - 1, tallies)


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
def _finish(size, counts, fields, bins, tallies):
    """Fields into counts (below into the first bin, past the last edge into the last), minus NaN and +-inf."""
    fields[0] -= tallies[3] + tallies[5]
    fields[bins + 1] -= tallies[4]
    valid = 0
    for j in range(bins + 2):
        valid += fields[j]
    counts[0] += fields[0]
    for j in range(bins):
        counts[j] += fields[j + 1]
    counts[bins - 1] += fields[bins + 1]
    return valid, size - valid, fields[0], tallies[2], tallies[0], tallies[1]
