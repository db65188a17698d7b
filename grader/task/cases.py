"""The hidden datasets a submission is graded on, generated deterministically from a seed.

Only data lives here (no expected values): this module is imported in the sandboxed child
to build the DataFrames. The expected values are computed in the grading process by
``grader.task.reference`` with the streamdrift kernels.

Every case keeps its KL defined (each column has a finite value on both sides) and, except
where a case tests the threshold on purpose, far from the threshold, so that a correct
submission passes whatever its summation order.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

DEFAULT_THRESHOLD = 0.1


@dataclass(frozen=True)
class Case:
    """One hidden dataset: ``old`` and ``new`` columns (same names, same order) and the call.

    ``pass_threshold`` False means ``detect_drift(old, new)`` is called without a threshold,
    so the submission's default (0.1) is what decides.
    """

    name: str
    columns: tuple[str, ...]
    old: dict
    new: dict
    threshold: float = DEFAULT_THRESHOLD
    pass_threshold: bool = True
    about: str = ""


def _case(name: str, old: dict, new: dict, about: str, **call) -> Case:
    """A case whose columns are ``old``'s keys, in their order (``new`` has the same keys)."""
    return Case(name, tuple(old), old, new, about=about, **call)


def spec_example() -> tuple[dict, dict]:
    """The original task's example data (SPEC section 2), exactly as it drew it."""
    rs = np.random.RandomState(42)  # the same stream as numpy.random.seed(42), without global state
    age = rs.normal(40, 10, 2000)
    income = rs.normal(60000, 8000, 2000)
    height = rs.normal(170, 7, 2000)
    old = {"age": age, "income": income, "height": height}
    new = {"age": age + rs.normal(5, 2, 2000), "income": income * 1.1, "height": height.copy()}
    return old, new


def _spec(rng) -> Case:
    old, new = spec_example()
    return _case("spec_example", old, new, pass_threshold=False,
                 about="the original task's example, default threshold")


def _nans(rng) -> Case:
    n = 1500
    a_old, a_new = rng.normal(0, 1, n), rng.normal(0.6, 1.2, n)
    b_old, b_new = rng.exponential(2.0, n), rng.exponential(2.6, n)
    c_old, c_new = rng.uniform(0, 10, n), rng.uniform(0, 10, n)
    a_old[rng.choice(n, 300, replace=False)] = np.nan   # many on one side only
    b_old[rng.choice(n, 50, replace=False)] = np.nan
    b_new[rng.choice(n, 400, replace=False)] = np.nan   # different rows on each side
    c_new[rng.choice(n, 100, replace=False)] = np.nan
    c_new[:5] = np.nan
    # a NaN beyond the other values' range must not widen the range
    return _case("nans", {"a": a_old, "b": b_old, "c": c_old},
                 {"a": a_new, "b": b_new, "c": c_new}, about="NaN on both sides, different rows per column")


def _infinities(rng) -> Case:
    n = 800
    x_old, x_new = rng.normal(5, 2, n), rng.normal(5.8, 2, n)
    y_old, y_new = rng.gamma(2.0, 1.0, n), rng.gamma(2.0, 1.4, n)
    x_old[[3, 50, 400]] = [np.inf, -np.inf, np.nan]
    x_new[[7, 8]] = [np.inf, np.inf]
    y_new[[0, 1, 2]] = [-np.inf, np.nan, np.inf]
    return _case("infinities", {"x": x_old, "y": y_old}, {"x": x_new, "y": y_new},
                 about="+inf and -inf are missing like NaN")


def _constant(rng) -> Case:
    n = 400
    return _case(
        "constant_columns",
        {"same_constant": np.full(n, 3.5), "constant_old": np.full(n, 10.0),
         "two_constants": np.full(n, 1.0), "varying": rng.normal(0, 1, n)},
        {"same_constant": np.full(300, 3.5), "constant_old": rng.uniform(8, 12, 300),
         "two_constants": np.full(300, 2.0), "varying": rng.normal(0.1, 1, 300)},
        about="constant columns: lo == hi, one side constant, two different constants",
    )


def _dtypes(rng) -> Case:
    n = 1000
    return _case(
        "integer_and_float32",
        {"count": rng.poisson(4.0, n).astype(np.int64), "small_int": rng.integers(-5, 6, n).astype(np.int32),
         "ratio32": rng.beta(2, 5, n).astype(np.float32), "score32": rng.normal(100, 15, n).astype(np.float32)},
        {"count": rng.poisson(5.0, n).astype(np.int64), "small_int": rng.integers(-3, 8, n).astype(np.int32),
         "ratio32": rng.beta(2.5, 5, n).astype(np.float32), "score32": rng.normal(103, 15, n).astype(np.float32)},
        about="int64, int32 and float32 columns (compared as float64)",
    )


def _heavy_tails(rng) -> Case:
    n = 2000
    return _case(
        "heavy_tails",
        {"cauchy": rng.standard_cauchy(n), "pareto": rng.pareto(1.2, n), "lognormal": rng.lognormal(0, 2, n)},
        {"cauchy": rng.standard_cauchy(n) * 1.5, "pareto": rng.pareto(1.0, n), "lognormal": rng.lognormal(0.3, 2, n)},
        about="a few huge values put most data in one bin and leave many bins empty",
    )


def _bimodal(rng) -> Case:
    n = 1200
    def modes(n, a, b, w):
        k = rng.random(n) < w
        return np.where(k, rng.normal(a, 0.5, n), rng.normal(b, 0.5, n))
    return _case(
        "bimodal_empty_bins",
        {"modes": modes(n, 0, 20, 0.5), "gap": np.concatenate([rng.uniform(0, 1, n // 2), rng.uniform(9, 10, n - n // 2)])},
        {"modes": modes(n, 0, 20, 0.8), "gap": rng.uniform(0, 10, n)},
        about="bimodal data: bins empty on one side or both, where smoothing matters",
    )


def _large_offset(rng) -> Case:
    n = 1000
    return _case(
        "large_offset",
        {"epoch_ms": 1.7e12 + rng.normal(0, 5e4, n), "tiny": rng.normal(1e-9, 1e-10, n),
         "negative": -1e9 + rng.normal(0, 1, n)},
        {"epoch_ms": 1.7e12 + rng.normal(2e4, 5e4, n), "tiny": rng.normal(1.05e-9, 1e-10, n),
         "negative": -1e9 + rng.normal(0.4, 1.1, n)},
        about="large offsets and tiny scales: the exact linspace edges matter",
    )


def _few_rows(rng) -> Case:
    return _case(
        "few_rows",
        {"u": rng.normal(0, 1, 7).round(3), "v": np.array([1.0, 2.0, 2.0, 3.0, 10.0, 4.0, 5.0])},
        {"u": rng.normal(0.5, 1, 4).round(3), "v": np.array([1.0, 9.0, 10.0, 10.0])},
        about="a handful of rows, different lengths on each side",
    )


def _many_rows(rng) -> Case:
    n_old, n_new = 100_000, 80_000
    return _case(
        "many_rows",
        {"latency_ms": rng.gamma(2.0, 50.0, n_old), "clicks": rng.poisson(3.0, n_old).astype(np.int64)},
        {"latency_ms": rng.gamma(3.0, 50.0, n_new), "clicks": rng.poisson(3.4, n_new).astype(np.int64)},
        about="100,000 and 80,000 rows",
    )


def _many_columns(rng) -> Case:
    n, k = 600, 40
    cols = tuple(f"f{i:02d}" for i in range(k))
    shift = rng.choice([0.0, 0.05, 0.4, 1.0], k)
    old = {c: rng.normal(0, 1, n) for c in cols}
    new = {c: rng.normal(s, 1, n - 100) for c, s in zip(cols, shift)}
    return _case("many_columns", old, new, threshold=0.25,
                 about="40 columns, threshold 0.25 passed explicitly")


def _bin_edges(rng) -> Case:
    edges = np.linspace(0.0, 1.0, 21)
    on_edges = np.concatenate([edges, edges[5:9], edges[15:]])
    near = np.concatenate([np.nextafter(edges[1:-1], -np.inf), np.nextafter(edges[1:-1], np.inf)])
    odd = np.linspace(-3.7, 11.3, 21)
    n_old, n_new = 40, 30  # np.resize repeats each list cyclically to the frame's length
    return _case(
        "values_on_bin_edges",
        {"on_edges": np.resize(on_edges, n_old),
         "one_ulp_either_side": np.resize(np.concatenate([edges[[0, -1]], near]), n_old),
         "odd_edges": np.resize(np.concatenate([odd, odd[::3]]), n_old)},
        {"on_edges": np.resize(np.concatenate([edges[::2], edges[10:]]), n_new),
         "one_ulp_either_side": np.resize(np.concatenate([edges, edges[3:12]]), n_new),
         "odd_edges": np.resize(np.concatenate([odd[[0, -1]], odd[4:14], odd[4:14]]), n_new)},
        about="values exactly on the linspace edges and one ulp beside them",
    )


def _threshold_boundary(rng) -> Case:
    n = 500
    same = rng.normal(0, 1, n)
    ident = rng.integers(0, 50, n).astype(np.float64)
    return _case(
        "threshold_boundary",
        {"identical": same, "identical_ints": ident, "shifted": rng.normal(0, 1, n)},
        {"identical": same.copy(), "identical_ints": ident[::-1].copy(), "shifted": rng.normal(0.3, 1, n)},
        threshold=0.0,
        about="threshold 0.0 and columns whose KL is exactly 0.0: only a strict > leaves them out",
    )


_BUILDERS = (
    _spec, _nans, _infinities, _constant, _dtypes, _heavy_tails, _bimodal,
    _large_offset, _few_rows, _many_columns, _bin_edges, _threshold_boundary, _many_rows,
)

CASE_NAMES = ("spec_example", "nans", "infinities", "constant_columns", "integer_and_float32", "heavy_tails",
              "bimodal_empty_bins", "large_offset", "few_rows", "many_columns", "values_on_bin_edges",
              "threshold_boundary", "many_rows")


@lru_cache(maxsize=8)
def make_cases(seed: int = 0) -> tuple[Case, ...]:
    """Every hidden case for ``seed``; the same seed gives bit-identical data in any process."""
    cases = []
    for index, build in enumerate(_BUILDERS):
        case = build(np.random.default_rng([int(seed) & 0xFFFFFFFF, index]))
        for arrays in (case.old, case.new):
            lengths = {len(arrays[c]) for c in case.columns}
            if len(lengths) != 1 or list(arrays) != list(case.columns):
                raise AssertionError(f"case {case.name}: columns must match and share one length, got {lengths}")
            for a in arrays.values():
                a.flags.writeable = False
        cases.append(case)
    return tuple(cases)
