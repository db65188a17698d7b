"""The slow, obvious numpy implementation of SPEC section 2: the oracle the kernels must match.

Nothing clever here on purpose: every step is one numpy call that a reader can check
against the SPEC text. Counts come from ``numpy.histogram`` itself, so "equal to numpy"
means equal to this module.
"""

import numpy as np

from streamdrift.defaults import BINS, EPS


def finite_float64(values) -> np.ndarray:
    """SPEC 2.1 and 2.4: the values as float64, without NaN, +inf and -inf (the missing ones)."""
    x = np.asarray(values)
    if x.dtype == object:  # None (a null) is missing too
        x = np.array([np.nan if v is None else v for v in x.ravel()], dtype=np.float64)
    x = x.astype(np.float64).ravel()
    return x[np.isfinite(x)]


def oracle_range(values) -> dict:
    """Finite min/max, valid and missing counts of one sample (None for min/max when empty)."""
    x = np.asarray(values).ravel()
    f = finite_float64(x)
    return {
        "lo": float(f.min()) if f.size else None,
        "hi": float(f.max()) if f.size else None,
        "count": int(f.size),
        "missing": int(x.size - f.size),
    }


def oracle_probabilities(ref_counts, cur_counts, eps: float = EPS):
    """SPEC 2.5: eps added to every bin's count, then normalised."""
    c_ref = np.asarray(ref_counts, dtype=np.float64) + eps
    c_cur = np.asarray(cur_counts, dtype=np.float64) + eps
    return c_ref / c_ref.sum(), c_cur / c_cur.sum()


def oracle_divergences(ref_counts, cur_counts, eps: float = EPS) -> dict:
    """KL(p||q) (SPEC 2.6), KL(q||p), PSI and the Jensen-Shannon distance, all natural log."""
    p, q = oracle_probabilities(ref_counts, cur_counts, eps)
    m = (p + q) / 2
    js_divergence = 0.5 * np.sum(p * np.log(p / m)) + 0.5 * np.sum(q * np.log(q / m))
    return {
        "p": p,
        "q": q,
        "kl": float(np.sum(p * np.log(p / q))),
        "kl_reversed": float(np.sum(q * np.log(q / p))),
        "psi": float(np.sum((p - q) * np.log(p / q))),
        "js": float(np.sqrt(max(js_divergence, 0.0))),
    }


def oracle_feature(ref, cur, bins: int = BINS, eps: float = EPS) -> dict:
    """SPEC section 2 for one feature.

    Returns lo, hi, edges, ref_counts, cur_counts, missing_reference, missing_current,
    reference_count, current_count, p, q, kl, kl_reversed, psi, js. When either side has no
    finite value the statistic is undefined (SPEC 2.8): the statistics and edges are None.
    """
    x = finite_float64(ref)
    y = finite_float64(cur)
    out = {
        "reference_count": int(x.size),
        "current_count": int(y.size),
        "missing_reference": int(np.asarray(ref).size - x.size),
        "missing_current": int(np.asarray(cur).size - y.size),
    }
    if x.size == 0 or y.size == 0:
        none = dict.fromkeys(["lo", "hi", "edges", "ref_counts", "cur_counts", "p", "q",
                              "kl", "kl_reversed", "psi", "js"])
        return out | none
    lo = min(x.min(), y.min())
    hi = max(x.max(), y.max())
    with np.errstate(over="ignore", invalid="ignore"):  # numpy.histogram refuses bad edges below
        edges = np.linspace(lo, hi, bins + 1)
    ref_counts, _ = np.histogram(x, bins=edges)
    cur_counts, _ = np.histogram(y, bins=edges)
    return out | {
        "lo": float(lo),
        "hi": float(hi),
        "edges": edges,
        "ref_counts": ref_counts,
        "cur_counts": cur_counts,
    } | oracle_divergences(ref_counts, cur_counts, eps)


def utf8_order(value):
    """SPEC 2b.2: categories sorted by value, strings by their UTF-8 bytes."""
    return value.encode("utf-8") if isinstance(value, str) else value


def oracle_categorical(ref: list, cur: list, eps: float = EPS) -> dict:
    """SPEC section 2b for one categorical feature, with pandas ``value_counts`` (None is missing).

    Returns categories (sorted union), ref_counts, cur_counts, reference_count, current_count,
    missing_reference, missing_current, new_categories (in current only, sorted) and the
    statistics of ``oracle_divergences`` (None when a side has no value).
    """
    import pandas as pd

    counts = [pd.Series(side, dtype=object).value_counts(dropna=True) for side in (ref, cur)]
    categories = sorted(set(counts[0].index) | set(counts[1].index), key=utf8_order)
    ref_counts = np.array([int(counts[0].get(k, 0)) for k in categories], dtype=np.int64)
    cur_counts = np.array([int(counts[1].get(k, 0)) for k in categories], dtype=np.int64)
    out = {
        "categories": categories,
        "ref_counts": ref_counts,
        "cur_counts": cur_counts,
        "reference_count": int(ref_counts.sum()),
        "current_count": int(cur_counts.sum()),
        "missing_reference": len(ref) - int(ref_counts.sum()),
        "missing_current": len(cur) - int(cur_counts.sum()),
        "new_categories": [k for k, r in zip(categories, ref_counts) if r == 0],
    }
    if out["reference_count"] == 0 or out["current_count"] == 0:
        return out | dict.fromkeys(["p", "q", "kl", "kl_reversed", "psi", "js"])
    return out | oracle_divergences(ref_counts, cur_counts, eps)
