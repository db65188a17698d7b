"""The JIT kernels: pure functions on plain numpy arrays, nothing else.

Every kernel releases the GIL, so callers fill several features at once from a thread
pool. Values of any integer or float dtype are compared as float64. NaN and +-inf are
*missing* (``v - v != 0``); Arrow nulls reach the kernels as NaN.
"""

import numpy as np
from numba import njit


@njit(nogil=True, cache=True)
def value_range(values):
    """Return ``(lo, hi, valid, missing)`` over the finite values of ``values``.

    With no finite value, ``lo`` is +inf and ``hi`` is -inf (the identity of min/max).
    """
    lo = np.inf
    hi = -np.inf
    valid = 0
    for i in range(values.size):
        v = np.float64(values[i])
        if v - v == 0.0:
            valid += 1
            lo = min(lo, v)
            hi = max(hi, v)
    return lo, hi, valid, values.size - valid


@njit(nogil=True, cache=True)
def fill_histogram(values, edges, counts):
    """Add ``values`` to ``counts`` with exactly ``numpy.histogram(values, bins=edges)``'s rule.

    A value ``v`` goes to bin ``i`` when ``edges[i] <= v < edges[i+1]``; the last bin also
    holds ``v == edges[-1]``. The bin index is estimated from the width, then corrected
    against the exact edges, so values on an edge or one ulp beside it land where numpy
    puts them, whatever rounding the estimate had. Values outside ``[edges[0], edges[-1]]``
    go to the end bins and are counted as below/above (numpy would drop them; callers
    that use the combined range never see one unless the range was wrong).

    Returns ``(valid, missing, below, above, vmin, vmax)``; ``vmin``/``vmax`` are the
    finite extremes actually seen, so a caller can verify the range it assumed.
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
    vmin = np.inf
    vmax = -np.inf
    for i in range(values.size):
        v = np.float64(values[i])
        if not (v - v == 0.0):
            continue
        valid += 1
        vmin = min(vmin, v)
        vmax = max(vmax, v)
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
    return valid, values.size - valid, below, above, vmin, vmax


@njit(nogil=True, cache=True)
def divergences(ref_counts, cur_counts, eps):
    """KL(ref || cur), KL(cur || ref), PSI and the Jensen-Shannon distance (all base e).

    ``eps`` is added to every bin's count before normalising (SPEC section 2).
    """
    n = ref_counts.size
    sp = 0.0
    sq = 0.0
    for i in range(n):
        sp += ref_counts[i] + eps
        sq += cur_counts[i] + eps
    kl = 0.0
    kl_rev = 0.0
    js = 0.0
    for i in range(n):
        p = (ref_counts[i] + eps) / sp
        q = (cur_counts[i] + eps) / sq
        m = 0.5 * (p + q)
        kl += p * np.log(p / q)
        kl_rev += q * np.log(q / p)
        js += 0.5 * p * np.log(p / m) + 0.5 * q * np.log(q / m)
    psi = kl + kl_rev
    return kl, kl_rev, psi, np.sqrt(max(js, 0.0))
