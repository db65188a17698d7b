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

import numpy as np

from grader.cases import Case
from streamdrift.defaults import EPS

CORRECT = {"direction": "forward", "smoothing": "counts", "range": "combined", "log": "e", "bins": 20,
           "missing": "per_column"}
ALTERNATIVES = {
    "direction": ["reversed"],
    "smoothing": ["probabilities", "probabilities_renormalised", "none_raw", "none_drop_empty", "none_scipy"],
    "range": ["per_sample", "reference_only"],
    "log": ["2", "10"],
    "bins": [10, 19, 21],
    "missing": ["rows_dropped", "filled_with_zero"],
}
CODE_OF = {
    ("direction", "reversed"): "reversed_direction",
    ("smoothing", "probabilities"): "epsilon_on_probabilities",
    ("smoothing", "probabilities_renormalised"): "epsilon_on_probabilities",
    ("smoothing", "none_raw"): "no_smoothing",
    ("smoothing", "none_drop_empty"): "no_smoothing",
    ("smoothing", "none_scipy"): "no_smoothing",
    ("range", "per_sample"): "per_sample_range",
    ("range", "reference_only"): "reference_range_only",
    ("log", "2"): "wrong_log_base",
    ("log", "10"): "wrong_log_base",
    ("bins", 10): "wrong_bin_count",
    ("bins", 19): "wrong_bin_count",
    ("bins", 21): "wrong_bin_count",
    ("missing", "rows_dropped"): "nan_not_dropped",
    ("missing", "filled_with_zero"): "nan_not_dropped",
}
DETAIL_OF = {
    ("smoothing", "probabilities"): "adds epsilon to the probabilities, not to the counts",
    ("smoothing", "probabilities_renormalised"): "adds epsilon to the probabilities and renormalises",
    ("smoothing", "none_raw"): "no epsilon: empty bins give inf or nan",
    ("smoothing", "none_drop_empty"): "no epsilon: bins empty on either side are dropped",
    ("smoothing", "none_scipy"): "no epsilon: bins empty in old are dropped, empty in new give inf",
    ("log", "2"): "uses log2",
    ("log", "10"): "uses log10",
    ("bins", 10): "uses 10 bins",
    ("bins", 19): "uses 19 bins (linspace(lo, hi, 20) edges)",
    ("bins", 21): "uses 21 bins (linspace(lo, hi, 22) edges)",
    ("missing", "rows_dropped"): "drops whole rows with a NaN in any column (DataFrame.dropna())",
    ("missing", "filled_with_zero"): "fills missing values with 0",
}


def _finite(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    return a[np.isfinite(a)]


def _edges(lo: float, hi: float, bins: int) -> np.ndarray:
    return np.linspace(lo, hi, bins + 1)


def _counts(old: np.ndarray, new: np.ndarray, rng: str, bins: int) -> tuple[np.ndarray, np.ndarray]:
    if rng == "combined":
        e = _edges(min(old.min(), new.min()), max(old.max(), new.max()), bins)
        return np.histogram(old, e)[0], np.histogram(new, e)[0]
    if rng == "reference_only":
        e = _edges(old.min(), old.max(), bins)
        return np.histogram(old, e)[0], np.histogram(new, e)[0]
    return (np.histogram(old, _edges(old.min(), old.max(), bins))[0],
            np.histogram(new, _edges(new.min(), new.max(), bins))[0])


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
    """Values of variants on one case, with the bin counts shared between variants cached."""

    def __init__(self, case: Case):
        self.case = case
        self.counts: dict = {}
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
        key = (column, variant["missing"], variant["range"], variant["bins"])
        if key not in self.counts:
            rows = self.rows() if variant["missing"] == "rows_dropped" else None
            old, new = _column_inputs(self.case, column, variant["missing"], rows)
            self.counts[key] = (None if old.size == 0 or new.size == 0
                                else _counts(old, new, variant["range"], variant["bins"]))
        if self.counts[key] is None:
            return math.nan
        c_p, c_q = self.counts[key]
        if variant["direction"] == "reversed":
            c_p, c_q = c_q, c_p
        return _kl(c_p, c_q, variant["smoothing"], variant["log"])


def variant_kls(case: Case, variant: dict) -> dict[str, float]:
    """``{column: value}`` of one variant (a dict of axis -> choice) on a case."""
    v = _Variants(case)
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
    variants = _Variants(case)
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
            code = CODE_OF[(axis, value)]
            if code not in codes:
                codes.append(code)
            detail = DETAIL_OF.get((axis, value))
            if detail:
                details.append(f"{code}: {detail}")
        return codes, details
    return [], []
