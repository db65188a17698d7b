"""Hypothesis strategies for feature data: the hard cases of SPEC section 2, reusable.

Every strategy draws its data through hypothesis (never ``np.random``), so failures shrink
and replay. The main entry points:

* ``feature_values()``: one 1-D numpy array of any supported dtype, from a mix of families
  (generic floats with NaN/inf, values on/next to the edges, huge offsets, tiny ranges,
  constant columns, integers of every width including int64 beyond 2**53, float32).
* ``feature_pairs()``: a (reference, current) pair, possibly of different dtypes, where the
  current side is often built on the reference's range so values hit its edges.
* ``splits(n)``: cut points for chunking ``n`` rows.
* ``memory_layouts(arr)``: the same values as a read-only, strided, reversed or
  byte-swapped array (what Arrow buffers and views hand the kernels).
* ``examples(n)``: ``n`` scaled by the active hypothesis profile (see tests/conftest.py).
"""

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

MAX_ROWS = 60
MISSING = (np.nan, np.inf, -np.inf)
FLOAT_MAX = float(np.finfo(np.float64).max)
INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")

# Centres for clustered data: huge offsets, subnormals, powers of two, zero.
OFFSETS = (0.0, 1.0, -1.0, 1e12, -1e12, 1e15, 2.0**53, 1e300, -1e300, 1e-300, 5e-324, 1e-5, 0.1, 170.0)


def examples(n: int) -> int:
    """``n`` examples in the default "ci" profile, scaled up or down by the active profile."""
    return max(1, round(n * settings.default.max_examples / 100))


# ---------------------------------------------------------------------------- helpers


def ulps(x: float, k: int) -> float:
    """``x`` moved ``k`` ulps (k may be negative), never past +-max."""
    x = np.float64(x)
    direction = np.inf if k > 0 else -np.inf
    with np.errstate(over="ignore"):
        for _ in range(abs(k)):
            x = np.nextafter(x, direction)
    return float(np.clip(x, -FLOAT_MAX, FLOAT_MAX))


def binnable_range(lo: float, hi: float) -> bool:
    """True when ``hi - lo`` is finite, i.e. ``numpy.linspace`` gives finite edges."""
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(np.float64(hi) - np.float64(lo)))


def _with_missing(draw, values: list) -> list:
    """Sprinkle NaN/+-inf into ``values`` at drawn positions."""
    if values and draw(st.booleans()):
        n_missing = draw(st.integers(1, max(1, len(values) // 3)))
        for _ in range(n_missing):
            i = draw(st.integers(0, len(values) - 1))
            values[i] = draw(st.sampled_from(MISSING))
    return values


def _shuffle(draw, values: list) -> list:
    return draw(st.permutations(values)) if len(values) > 1 else values


# ---------------------------------------------------------------------------- ranges and edges

finite_floats = st.floats(allow_nan=False, allow_infinity=False)
# 20 is the default; 48/49 straddle the kernels' switch from comparison to search.
bins_st = st.one_of(st.just(20), st.sampled_from([1, 2, 3, 7, 20, 48, 49, 100]))


@st.composite
def ranges(draw, *, binnable: bool = True):
    """A finite ``(lo, hi)`` with ``lo <= hi``; ``binnable`` keeps ``hi - lo`` finite."""
    kind = draw(st.sampled_from(["any", "cluster", "ulps", "constant"]))
    if kind == "any":
        a, b = sorted([draw(finite_floats), draw(finite_floats)])
    elif kind == "cluster":
        centre = draw(st.sampled_from(OFFSETS))
        spread = abs(centre) * draw(st.sampled_from([1e-15, 1e-12, 1e-9, 1e-6, 1e-3, 1.0])) or 1e-300
        a, b = sorted([centre + spread * draw(st.floats(-1, 1)), centre + spread * draw(st.floats(-1, 1))])
    elif kind == "ulps":
        a = draw(st.one_of(st.sampled_from(OFFSETS), finite_floats))
        b = ulps(a, draw(st.integers(0, 40)))
    else:
        a = b = draw(st.one_of(st.sampled_from(OFFSETS), finite_floats))
    if binnable and not binnable_range(a, b):
        # Halve both ends towards their midpoint until the width fits (never assume() it away).
        a, b = a / 2, b / 2
    return float(a), float(b)


@st.composite
def edge_values(draw, lo: float, hi: float, bins: int, *, max_size: int = MAX_ROWS) -> list:
    """Values on the exact ``linspace`` edges of ``[lo, hi]`` and up to 2 ulps either side.

    Values that would fall outside ``[lo, hi]`` are clamped to it, so the combined range
    (and with it the edges) stays what was drawn.
    """
    with np.errstate(over="ignore"):  # linspace's last product may overflow; it is replaced by hi
        edges = np.linspace(lo, hi, bins + 1)
    picks = draw(st.lists(st.tuples(st.integers(0, bins), st.integers(-2, 2)), max_size=max_size))
    return [min(max(ulps(edges[i], k), lo), hi) for i, k in picks]


# ---------------------------------------------------------------------------- arrays

@st.composite
def float_values(draw, *, max_size: int = MAX_ROWS) -> np.ndarray:
    """A float64 array from one of the families that stress SPEC section 2."""
    family = draw(st.sampled_from(["generic", "pool", "edges", "cluster", "constant", "empty"]))
    if family == "generic":
        values = draw(st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=max_size))
    elif family == "pool":  # many duplicates
        pool = draw(st.lists(finite_floats, min_size=1, max_size=4))
        values = draw(st.lists(st.sampled_from(pool), max_size=max_size))
    elif family == "edges":
        lo, hi = draw(ranges())
        bins = draw(bins_st)
        values = [lo, hi] + draw(edge_values(lo, hi, bins, max_size=max_size))
    elif family == "cluster":
        centre = draw(st.sampled_from(OFFSETS))
        values = [ulps(centre, k) for k in draw(st.lists(st.integers(-30, 30), max_size=max_size))]
    elif family == "constant":
        c = draw(st.one_of(st.sampled_from(OFFSETS), finite_floats))
        values = [c] * draw(st.integers(1, max_size))
    else:
        values = []
    values = _with_missing(draw, _shuffle(draw, values))
    return np.array(values, dtype=np.float64)


@st.composite
def int_values(draw, dtype: str | None = None, *, max_size: int = MAX_ROWS) -> np.ndarray:
    """An integer array of any width; int64/uint64 often beyond 2**53 (inexact as float64)."""
    dtype = np.dtype(dtype or draw(st.sampled_from(INT_DTYPES)))
    info = np.iinfo(dtype)
    if dtype.itemsize == 8 and draw(st.booleans()):
        base = draw(st.sampled_from([2**53, 2**62, info.max - 100, info.min + 100] if dtype.kind == "i"
                                    else [2**53, 2**63, info.max - 100]))
        elements = st.integers(max(info.min, base - 100), min(info.max, base + 100))
    else:
        elements = st.integers(int(info.min), int(info.max))
    return draw(hnp.arrays(dtype, st.integers(0, max_size), elements=elements))


@st.composite
def float32_values(draw, *, max_size: int = MAX_ROWS) -> np.ndarray:
    """A float32 array, NaN/inf included (compared as float64, SPEC 2.4)."""
    return draw(hnp.arrays(np.float32, st.integers(0, max_size),
                           elements=st.floats(width=32, allow_nan=True, allow_infinity=True)))


@st.composite
def missing_values(draw, *, max_size: int = MAX_ROWS) -> np.ndarray:
    """Only NaN/+-inf (at least one): a side with nothing valid, so KL is undefined."""
    return np.array(draw(st.lists(st.sampled_from(MISSING), min_size=1, max_size=max_size)), dtype=np.float64)


def feature_values(*, max_size: int = MAX_ROWS):
    """One feature column: any supported numeric dtype and any family."""
    return st.one_of(
        float_values(max_size=max_size),
        float_values(max_size=max_size),
        int_values(max_size=max_size),
        float32_values(max_size=max_size),
        missing_values(max_size=max_size),
        hnp.arrays(np.bool_, st.integers(0, max_size)),
    )


@st.composite
def feature_pairs(draw, *, max_size: int = MAX_ROWS):
    """A (reference, current) pair; often the current side sits on the reference's edges."""
    ref = draw(feature_values(max_size=max_size))
    mode = draw(st.sampled_from(["independent", "on_edges", "shifted"]))
    finite = ref[np.isfinite(ref.astype(np.float64))].astype(np.float64)
    if mode == "on_edges" and finite.size:
        lo, hi = float(finite.min()), float(finite.max())
        bins = draw(bins_st)
        cur = np.array(draw(edge_values(lo, hi, bins, max_size=max_size)), dtype=np.float64)
        cur = np.array(_with_missing(draw, list(cur)), dtype=np.float64)
    elif mode == "shifted" and finite.size and ref.dtype.kind == "f":
        shift = draw(st.sampled_from([0.0, 1e-300, 1.0, -1.0])) * (1 + abs(float(finite.max())) * 1e-3)
        with np.errstate(over="ignore", invalid="ignore"):
            cur = ref.astype(np.float64) + shift
    else:
        cur = draw(feature_values(max_size=max_size))
    return ref, cur


@st.composite
def splits(draw, n: int) -> list[int]:
    """Sorted cut points in ``[0, n]`` (repeats allowed: empty chunks are a valid split)."""
    return sorted(draw(st.lists(st.integers(0, n), max_size=6)))


def chunks(arr, cuts):
    """``arr`` cut at ``cuts`` (from ``splits``)."""
    return np.split(arr, cuts)


def memory_layouts(arr: np.ndarray) -> dict[str, np.ndarray]:
    """The same values in layouts the kernels must accept and treat identically."""
    readonly = arr.copy()
    readonly.flags.writeable = False
    strided = np.repeat(arr, 3)[1::3]
    reversed_ = arr[::-1].copy()[::-1]
    swapped = arr.astype(arr.dtype.newbyteorder())
    readonly_strided = np.repeat(arr, 2)[::2]
    readonly_strided.flags.writeable = False
    return {
        "readonly": readonly,
        "strided": strided,
        "negative_stride": reversed_,
        "readonly_strided": readonly_strided,
        "byteswapped": swapped,
    }
