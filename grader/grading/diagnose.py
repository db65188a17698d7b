"""Name the mistake: recompute the known wrong variants of the statistic and find the one that
explains a submission's values.

Each variant changes one or two "axes" of the correct computation (SPEC section 2): the
direction, where epsilon goes, the range the edges span, the log base, the bin count, the
handling of missing values. Counts come from ``numpy.histogram`` on explicit edges (the
semantics the kernels reproduce exactly); single changes are tried before pairs, and the
first level with a variant that matches every returned value (to the grading tolerance)
names the mistake.
"""

from __future__ import annotations

import itertools
import math
import threading

import numpy as np
from streamdrift.defaults import EPS

from grader.task.cases import Case

CORRECT = {"direction": "forward", "smoothing": "counts", "range": "combined", "log": "e", "bins": 20,
           "missing": "per_column", "closed": "left"}
ALTERNATIVES = {
    "direction": ["reversed"],
    "smoothing": ["probabilities", "probabilities_renormalised", "none_raw", "none_drop_empty", "none_scipy"],
    "range": ["per_sample", "reference_only"],
    "log": ["2", "10"],
    "bins": [10, 19, 21],
    "missing": ["rows_dropped", "filled_with_zero"],
    "closed": ["right"],
}
MISTAKES = {  # (axis, choice): (reason code, what the submission does, or None when the code says it)
    ("direction", "reversed"): ("reversed_direction", None),
    ("smoothing", "probabilities"): ("epsilon_on_probabilities", "adds epsilon to the probabilities, not to the counts"),
    ("smoothing", "probabilities_renormalised"): ("epsilon_on_probabilities",
                                                  "adds epsilon to the probabilities and renormalises"),
    ("smoothing", "none_raw"): ("no_smoothing", "no epsilon: empty bins give inf or nan"),
    ("smoothing", "none_drop_empty"): ("no_smoothing", "no epsilon: bins empty on either side are dropped"),
    ("smoothing", "none_scipy"): ("no_smoothing", "no epsilon: bins empty in old are dropped, empty in new give inf"),
    ("range", "per_sample"): ("per_sample_range", None),
    ("range", "reference_only"): ("reference_range_only", None),
    ("log", "2"): ("wrong_log_base", "uses log2"),
    ("log", "10"): ("wrong_log_base", "uses log10"),
    ("bins", 10): ("wrong_bin_count", "uses 10 bins"),
    ("bins", 19): ("wrong_bin_count", "uses 19 bins (linspace(lo, hi, 20) edges)"),
    ("bins", 21): ("wrong_bin_count", "uses 21 bins (linspace(lo, hi, 22) edges)"),
    ("missing", "rows_dropped"): ("nan_not_dropped", "drops whole rows with a NaN in any column (DataFrame.dropna())"),
    ("missing", "filled_with_zero"): ("nan_not_dropped", "fills missing values with 0"),
    ("closed", "right"): ("right_closed_bins",
                          "bins are (a, b] (pd.cut): a value on an inner edge is counted in the lower bin"),
}


def _finite(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    return a[np.isfinite(a)]


def _edges(lo: float, hi: float, bins: int) -> np.ndarray:
    return np.linspace(lo, hi, bins + 1)


def _histogram(values: np.ndarray, edges: np.ndarray, closed: str) -> np.ndarray:
    """Counts per bin: numpy's [a, b) bins (the last closed), or pd.cut's (a, b] (the first closed)."""
    if closed == "left":
        return np.histogram(values, edges)[0]
    index = np.clip(np.searchsorted(edges, values, side="left") - 1, 0, len(edges) - 2)
    return np.bincount(index, minlength=len(edges) - 1)


def _counts(old: np.ndarray, new: np.ndarray, rng: str, bins: int, closed: str = "left") -> tuple[np.ndarray, np.ndarray]:
    if rng == "combined":
        e = _edges(min(old.min(), new.min()), max(old.max(), new.max()), bins)
        return _histogram(old, e, closed), _histogram(new, e, closed)
    if rng == "reference_only":
        e = _edges(old.min(), old.max(), bins)
        return np.histogram(old, e)[0], np.histogram(new, e)[0]
    return (_histogram(old, _edges(old.min(), old.max(), bins), closed),
            _histogram(new, _edges(new.min(), new.max(), bins), closed))


def _kl(c_p: np.ndarray, c_q: np.ndarray, smoothing: str, log: str) -> float:
    c_p = c_p.astype(np.float64)
    c_q = c_q.astype(np.float64)
    with np.errstate(all="ignore"):
        if smoothing == "counts":
            p, q = (c_p + EPS) / np.sum(c_p + EPS), (c_q + EPS) / np.sum(c_q + EPS)
        elif smoothing == "probabilities":
            p, q = c_p / c_p.sum() + EPS, c_q / c_q.sum() + EPS
        elif smoothing == "probabilities_renormalised":
            p, q = c_p / c_p.sum() + EPS, c_q / c_q.sum() + EPS
            p, q = p / p.sum(), q / q.sum()
        else:
            p, q = c_p / c_p.sum(), c_q / c_q.sum()
        terms = p * np.log(p / q)
        if smoothing == "none_drop_empty":
            terms = terms[(p > 0) & (q > 0)]
        elif smoothing == "none_scipy":
            terms = terms[p > 0]
        value = float(np.sum(terms))
    if log == "2":
        value /= math.log(2)
    elif log == "10":
        value /= math.log(10)
    return value


def _column_inputs(case: Case, column: str, missing: str, rows) -> tuple[np.ndarray, np.ndarray]:
    old = np.asarray(case.old[column], dtype=np.float64)
    new = np.asarray(case.new[column], dtype=np.float64)
    if missing == "rows_dropped":
        keep_old, keep_new = rows
        return _finite(old[keep_old]), _finite(new[keep_new])
    if missing == "filled_with_zero":
        return np.where(np.isfinite(old), old, 0.0), np.where(np.isfinite(new), new, 0.0)
    return _finite(old), _finite(new)


class _Variants:
    """Values of variants on one case, cached: the bin counts shared between variants, and each
    variant's value (they depend on the case only, never on a submission)."""

    def __init__(self, case: Case):
        self.case = case
        self.counts: dict = {}
        self.values: dict = {}
        self._rows = None

    def rows(self):
        """The rows ``DataFrame.dropna()`` keeps on each side (no NaN in any column)."""
        if self._rows is None:
            self._rows = tuple(
                np.all([~np.isnan(np.asarray(side[c], dtype=np.float64)) for c in self.case.columns], axis=0)
                for side in (self.case.old, self.case.new)
            )
        return self._rows

    def value(self, column: str, variant: dict) -> float:
        full = (column, *(variant[axis] for axis in CORRECT))
        if full not in self.values:
            self.values[full] = self._value(column, variant)
        return self.values[full]

    def _value(self, column: str, variant: dict) -> float:
        key = (column, variant["missing"], variant["range"], variant["bins"], variant["closed"])
        if key not in self.counts:
            rows = self.rows() if variant["missing"] == "rows_dropped" else None
            old, new = _column_inputs(self.case, column, variant["missing"], rows)
            self.counts[key] = (None if old.size == 0 or new.size == 0
                                else _counts(old, new, variant["range"], variant["bins"], variant["closed"]))
        if self.counts[key] is None:
            return math.nan
        c_p, c_q = self.counts[key]
        if variant["direction"] == "reversed":
            c_p, c_q = c_q, c_p
        return _kl(c_p, c_q, variant["smoothing"], variant["log"])


CACHED_CASES = 8 * 16
"""Cases whose variants are kept (a few seeds' worth): grading many submissions on the same
cases computes each variant once, not once per submission."""
_cache: dict[int, tuple[Case, _Variants]] = {}
_cache_lock = threading.Lock()


def variants_of(case: Case) -> _Variants:
    """The (cached) variants of ``case``. Thread-safe: two threads may compute a value twice,
    never a different one."""
    with _cache_lock:
        hit = _cache.get(id(case))
        if hit is not None and hit[0] is case:
            return hit[1]
        if len(_cache) >= CACHED_CASES:
            del _cache[next(iter(_cache))]
        variants = _Variants(case)
        _cache[id(case)] = (case, variants)  # the case is kept, so its id is not reused meanwhile
        return variants


def variant_kls(case: Case, variant: dict) -> dict[str, float]:
    """``{column: value}`` of one variant (a dict of axis -> choice) on a case."""
    v = variants_of(case)
    return {c: v.value(c, variant) for c in case.columns}


def _close(got: float, want: float, tolerance: float) -> bool:
    if math.isnan(want) or math.isnan(got):
        return math.isnan(want) and math.isnan(got)
    if math.isinf(want) or math.isinf(got):
        return want == got
    return abs(got - want) <= max(tolerance, 1e-9 * abs(want))


def _variants(level: int):
    axes = list(ALTERNATIVES)
    for chosen in itertools.combinations(axes, level):
        for values in itertools.product(*(ALTERNATIVES[a] for a in chosen)):
            yield dict(zip(chosen, values))


def _distance(got: float, want: float) -> float:
    return abs(got - want) if math.isfinite(got) and math.isfinite(want) else math.inf


def diagnose(case: Case, got: dict[str, float], expected: dict[str, float], tolerance: float,
             found: list | None = None) -> tuple[list[str], list[str]]:
    """The reason codes (and one-line details) of the wrong variant that explains ``got``.

    ``got`` holds the submission's float values by column (missing or non-numeric ones
    left out). Returns ``([], [])`` when no variant of one or two mistakes explains them.
    Each variant is first tried on the column that is furthest from the reference, and
    only a variant that explains that one is computed for every column. ``found`` (one
    list per submission) remembers the variants that explained earlier cases and tries
    them first, so a case where two variants coincide gets the submission's mistake.
    """
    columns = [c for c in case.columns if isinstance(got.get(c), float)]
    if not columns:
        return [], []
    probe = max(columns, key=lambda c: _distance(got[c], expected[c]))
    variants = variants_of(case)
    found = [] if found is None else found
    for change in itertools.chain(list(found), _variants(1), _variants(2)):
        variant = {**CORRECT, **change}
        try:
            if not _close(got[probe], variants.value(probe, variant), tolerance):
                continue
            values = {c: variants.value(c, variant) for c in columns}
        except (ValueError, FloatingPointError):
            continue
        if not all(_close(got[c], values[c], tolerance) for c in columns):
            continue
        if all(_close(values[c], expected[c], tolerance) for c in columns):
            continue  # indistinguishable from the correct values here: explains nothing
        if change not in found:
            found.append(change)
        codes, details = [], []
        for axis, value in change.items():
            code, detail = MISTAKES[(axis, value)]
            if code not in codes:
                codes.append(code)
            if detail:
                details.append(f"{code}: {detail}")
        return codes, details
    return [], []
