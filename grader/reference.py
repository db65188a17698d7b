"""The expected values of a case, computed in the grading process with the streamdrift kernels.

This is the only place the grader computes the statistic, and it does so with the same
Range/Histogram/divergence state classes the monitor uses (SPEC section 2).
"""

from __future__ import annotations

from functools import lru_cache

from streamdrift import Histogram, Range, divergence
from streamdrift.defaults import BINS
from streamdrift.stats import range_problem

from grader.cases import Case, make_cases


def column_kl(old, new, bins: int = BINS) -> float:
    """KL(old || new) of one column: combined finite range, linspace edges, eps on counts."""
    r_old, r_new = Range().update(old), Range().update(new)
    if r_old.empty or r_new.empty:
        raise ValueError("a hidden case has a column without a finite value on one side")
    r = r_old + r_new
    problem = range_problem(r.lo, r.hi, bins)
    if problem:
        raise ValueError(problem)
    h_old = Histogram.for_range(r.lo, r.hi, bins=bins).update(old)
    h_new = Histogram.for_range(r.lo, r.hi, bins=bins).update(new)
    return divergence(h_old.counts, h_new.counts).kl


def expected_kls(case: Case) -> dict[str, float]:
    """``{column: KL}`` for a case, in the case's column order."""
    return {c: column_kl(case.old[c], case.new[c]) for c in case.columns}


@lru_cache(maxsize=8)
def expected_for_seed(seed: int) -> tuple[tuple[Case, dict[str, float]], ...]:
    """Every case of ``seed`` with its expected values (cached: references are pure)."""
    return tuple((case, expected_kls(case)) for case in make_cases(seed))
