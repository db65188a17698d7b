"""The arithmetic fill (streamdrift/_jit_linear.py) against numpy, on every path it takes.

Its paths: blocks whose values all lie strictly inside the edges (counted from the field
bytes alone); blocks whose extreme fields grew, which take the exact tallies (``v == lo``,
``v == hi``, ``v > hi``, NaN, +-inf), with the recomputed last edge above ``hi`` or not; spans
of 256 values in one field (their 8-bit sum wraps to 0 and is added whole); other dtypes,
converted block by block. And its fallback: edges the plan refuses go to the comparison
fill, and both fills give the same answer wherever both apply.
"""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from streamdrift import make_edges
from streamdrift._jit import fill_compare_cast, fill_compare_float64
from streamdrift._jit_linear import BLOCK, SPAN, fill_linear, linear_plan
from streamdrift._kernels import fill_histogram
from tests import strategies as sds

SIZES = [SPAN - 1, SPAN, SPAN + 1, BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK + SPAN, 3 * BLOCK + 7]
LINEAR_BINS = [1, 2, 3, 7, 20, 21, 22]


def linspace(lo, hi, bins):
    """numpy.linspace's edges (its last product may overflow near float64's max: replaced by hi)."""
    with np.errstate(over="ignore"):
        return np.linspace(lo, hi, bins + 1)


def expected(values, edges):
    """numpy's counts, plus values below/above the edges in the first/last bin, and the six tallies."""
    x = values.astype(np.float64)
    x = x[np.isfinite(x)]
    lo, hi = edges[0], edges[-1]
    counts = np.histogram(x[(x >= lo) & (x <= hi)], bins=edges)[0]
    counts[0] += (x < lo).sum()
    counts[-1] += (x > hi).sum()
    tallies = (x.size, values.size - x.size, (x < lo).sum(), (x > hi).sum(), (x == lo).sum(), (x == hi).sum())
    return counts, tuple(int(t) for t in tallies)


def linear(values, edges):
    """The arithmetic fill's counts and tallies (the plan must take the edges)."""
    step, inv = linear_plan(edges)
    assert step > 0
    counts = np.zeros(edges.size - 1, np.int64)
    return counts, tuple(int(t) for t in fill_linear(values, edges, counts, step, inv))


def assert_linear_is_numpys(values, edges):
    counts, tallies = linear(values, edges)
    want_counts, want_tallies = expected(values, edges)
    np.testing.assert_array_equal(counts, want_counts)
    assert tallies == want_tallies


def test_linear_plan_takes_linspace_edges_of_ordinary_ranges_only():
    for lo, hi, bins in [(0.0, 1.0, 20), (-3.5, 1e6, 20), (1e12, 1e12 + 1e3, 20), (-1e300, 1e300, 22), (5.0, 6.0, 1)]:
        assert linear_plan(make_edges(lo, hi, bins))[0] > 0, (lo, hi, bins)
    for edges in refused_edges():
        assert linear_plan(edges) == (0.0, 0.0)


def refused_edges():
    nudged = make_edges(0.0, 1.0)
    nudged[7] = np.nextafter(nudged[7], 1.0)  # not linspace's edges, bit for bit
    too_fine = make_edges(1e15, 1e15 + 2.0)  # max(|lo|, |hi|) / step beyond 2**40
    return make_edges(2.0, 2.0), make_edges(0.0, 1.0, 23), nudged, too_fine, make_edges(0.0, 1e-310)


@settings(max_examples=sds.examples(300))
@given(st.data(), sds.ranges(), st.sampled_from(LINEAR_BINS), st.sampled_from(["float64", "float32", "int64"]))
@example(None, (0.0, 100.0), 20, "int64")  # integers on the edges
def test_linear_fill_is_numpys_rule_on_edges_beside_them_and_outside(data, rng, bins, dtype):
    """Values on every edge and up to 2 ulps beside it, outside the edges, NaN and +-inf, in one block."""
    lo, hi = rng
    edges = linspace(lo, hi, bins)
    if linear_plan(edges)[0] == 0.0:
        return  # not this kernel's range: the comparison fill counts it (tests/streamdrift/test_kernels.py)
    if data is None:
        values = np.arange(-5, 106)
    else:
        values = data.draw(sds.edge_values(lo, hi, bins, max_size=300)) + [np.nan, np.inf, -np.inf]
        values += data.draw(st.lists(sds.finite_floats, max_size=5))  # outside the edges, mostly
        values = np.array(data.draw(st.permutations(values)))
    with np.errstate(over="ignore", invalid="ignore"):
        values = values.astype(dtype)
    assert_linear_is_numpys(values, edges)


def sprinkled(data, lo, hi, bins, size):
    """``size`` values strictly inside ``(lo, hi)`` where the range has any, with a few of ``lo``,
    ``hi``, NaN, +-inf and values just outside put at drawn places: some blocks clean, some not."""
    pool = [v for v in data.draw(sds.edge_values(lo, hi, bins, max_size=40)) if lo < v < hi]
    values = np.resize(np.array(pool or [lo, hi]), size)
    specials = [lo, hi, np.nan, np.inf, -np.inf, sds.ulps(lo, -1), sds.ulps(hi, 1), sds.ulps(hi, 300)]
    for _ in range(data.draw(st.integers(0, 12))):
        values[data.draw(st.integers(0, size - 1))] = data.draw(st.sampled_from(specials))
    return values


def sprinkled_case(data, rng, bins, size, dtype):
    """``(values, edges)``: sprinkled values of ``dtype`` and linspace's edges, or None where the plan refuses the range."""
    lo, hi = rng
    edges = linspace(lo, hi, bins)
    if linear_plan(edges)[0] == 0.0:
        return None  # not this kernel's range: the comparison fill counts it (tests/streamdrift/test_kernels.py)
    with np.errstate(over="ignore", invalid="ignore"):
        return sprinkled(data, lo, hi, bins, size).astype(dtype), edges


@settings(max_examples=sds.examples(150))
@given(st.data(), sds.ranges(), st.sampled_from(LINEAR_BINS), st.sampled_from(SIZES),
       st.sampled_from(["float64", "float32", "int64"]))
def test_long_arrays_with_extremes_in_some_blocks(data, rng, bins, size, dtype):
    """Across spans and blocks: the exact tallies run only for blocks holding extreme values."""
    case = sprinkled_case(data, rng, bins, size, dtype)
    if case is not None:
        assert_linear_is_numpys(*case)


@pytest.mark.parametrize("size", [SPAN, 2 * SPAN, BLOCK, BLOCK + SPAN + 5])
@pytest.mark.parametrize("kind", ["lo", "edge", "inside", "hi", "below", "above", "nan", "inf", "-inf"])
def test_spans_of_one_field(kind, size):
    """256 values in one field sum to 0 in 8 bits: such spans are found and added whole."""
    edges = make_edges(-3.0, 7.0)
    value = {"lo": -3.0, "edge": edges[5], "inside": 0.1, "hi": 7.0, "below": -1e9, "above": 1e9,
             "nan": np.nan, "inf": np.inf, "-inf": -np.inf}[kind]
    values = np.full(size, value)
    assert_linear_is_numpys(values, edges)
    values[SPAN + 1 :: 7] = 2.5  # the first span stays one field, the others mix
    assert_linear_is_numpys(values, edges)


def last_edges():
    """Ranges where linspace's formula for the last edge, ``bins * step + lo``, lands above ``hi``,
    and where it does not."""
    above, not_above = [], []
    for lo, hi in [(0.1, 0.7), (0.3, 1.1), (-2.2, 5.3), (1e-3, 0.9), (0.0, 1.0), (-6.0, 6.5), (1.7, 9.1)]:
        for bins in LINEAR_BINS:
            step = (hi - lo) / bins
            (above if np.float64(bins) * step + lo > hi else not_above).append((lo, hi, bins))
    return above, not_above


@pytest.mark.parametrize("side", ["above", "not_above"])
def test_values_at_hi_whether_the_recomputed_last_edge_is_above_it_or_not(side):
    cases = last_edges()[side == "not_above"]
    assert cases, f"no range with the last edge {side} hi: pick others"
    for lo, hi, bins in cases:
        edges = linspace(lo, hi, bins)
        near = [sds.ulps(hi, k) for k in range(-3, 4)] + [np.float64(bins) * ((hi - lo) / bins) + lo, np.inf]
        values = np.resize(np.array([lo + (hi - lo) / 2] * 40 + near), 3 * BLOCK)
        assert_linear_is_numpys(values, edges)


@settings(max_examples=sds.examples(100))
@given(st.data(), sds.ranges(), st.sampled_from(LINEAR_BINS), st.sampled_from(SIZES),
       st.sampled_from(["float64", "float32", "uint8"]))
def test_linear_and_comparison_fills_agree(data, rng, bins, size, dtype):
    """The comparison fill is the fallback for edges the plan refuses: on the edges both take, the two agree."""
    case = sprinkled_case(data, rng, bins, size, dtype)
    if case is None:
        return
    values, edges = case
    counts, tallies = linear(values, edges)
    fallback = np.zeros(bins, np.int64)
    compare = fill_compare_float64 if values.dtype == np.float64 else fill_compare_cast
    assert tuple(int(t) for t in compare(values, edges, fallback)) == tallies
    np.testing.assert_array_equal(counts, fallback)


@pytest.mark.parametrize("edges", refused_edges(), ids=["constant", "23 bins", "nudged", "too fine", "subnormal"])
def test_edges_the_plan_refuses_are_counted_by_the_fallback(edges, monkeypatch):
    from streamdrift import _kernels

    monkeypatch.setattr(_kernels, "SMALL", 0)  # the numba kernels, whatever the size
    lo, hi = edges[0], edges[-1]
    values = np.resize(np.array([lo, hi, (lo + hi) / 2, np.nan, np.inf, lo - 1, hi + 1, *edges]), 2 * BLOCK + 3)
    counts = np.zeros(edges.size - 1, np.int64)
    got = fill_histogram(values, edges, counts)
    want_counts, want_tallies = expected(values, edges)
    np.testing.assert_array_equal(counts, want_counts)
    assert tuple(int(t) for t in got) == want_tallies


@pytest.mark.parametrize("bins", [7, 20, 22])
def test_blocks_whose_fields_fill_any_range(bins):
    """Only the fields from a block's lowest to its highest are counted, 8 at a time: every
    (lowest, highest) pair, on group boundaries and across them, with the values on the edges."""
    edges = make_edges(-3.0, 7.0, bins)
    # field 0: below lo; fields 1..bins: the bins (values on their left edges, hi in the last);
    # bins + 1: above hi
    by_field = np.concatenate([[-4.0], edges[:-1], [8.0]])
    by_field[bins] = edges[-1]
    for low in range(bins + 2):
        for high in range(low, bins + 2):
            block = np.resize(by_field[low : high + 1], BLOCK + 3)
            assert_linear_is_numpys(block, edges)


OLDER_CPU_CHECK = """
import numpy as np
from tests.streamdrift.test_kernels_linear import assert_linear_is_numpys, fields_asm, last_edges, linspace
from tests.strategies import ulps
from tests.streamdrift.test_kernels_valid import assert_counts_like_numpy, nullable
from streamdrift import _kernels
_kernels.SMALL = 0  # the numba kernels, whatever the size

for lo, hi, bins in last_edges()[0] + last_edges()[1] + [(1e12, 1e12 + 1e3, 20), (-1e300, 1e300, 22)]:
    edges = linspace(lo, hi, bins)
    near = [ulps(e, k) for e in edges for k in range(-2, 3)] + [np.nan, np.inf, -np.inf, lo - 1, hi * 2]
    for values in (np.array(near * 9), np.array(near * 9, np.float32)):
        assert_linear_is_numpys(values, edges)
        valid = np.arange(values.size) % 5 != 2  # nulls through the validity bitmap, at a bit offset
        assert_counts_like_numpy(nullable(values, valid, 3), values[valid], edges)
    if hi - lo < 1e4:  # integers on and beside the edges
        assert_linear_is_numpys(np.arange(np.floor(lo) - 2, np.ceil(hi) + 3).astype(np.int64), edges)
print(*fields_asm())
"""


def fields_asm(fn=None) -> tuple[str, str]:
    """Whether the fields pass (or ``fn``, of its arguments) is compiled here with a fused multiply-add,
    and its widest vector registers (cached code cannot be inspected)."""
    asm = _fields_asm(fn)
    width = next(r for r in ("zmm", "ymm", "xmm") if r in asm)
    return "fused" if "vfmadd" in asm else "unfused", width


def _fields_asm(fn=None) -> str:
    from numba import njit

    from streamdrift import _jit_linear

    fields = njit(fn or _jit_linear._fields.py_func)
    x = np.arange(40.0)
    step, inv = linear_plan(make_edges(0.0, 39.0))
    fields(x, 0, x, 0.0, step, inv, 20.0, np.empty(x.size, np.uint8))
    asm = "".join(fields.inspect_asm().values())
    assert "ret" in asm
    return asm


@pytest.mark.parametrize("cpu, built", [("generic", ["unfused", "xmm"]), ("haswell", ["fused", "ymm"])])
def test_linear_fill_compiled_for_older_cpus_is_numpys(tmp_path, cpu, built):
    """On a CPU without FMA (nor AVX: generic x86-64), the position's multiply-add takes two roundings; on
    one with AVX2 and FMA but no AVX-512 (Haswell), the fields pass asks for 512-bit vectors in vain:
    both builds still give numpy's counts. Here: numba compiling for that CPU in a fresh process."""
    import os
    import platform
    import subprocess
    import sys
    from pathlib import Path

    if platform.machine() not in ("x86_64", "AMD64"):
        pytest.skip("the x86-64 targets exist on x86-64 only")
    env = dict(os.environ, NUMBA_CPU_NAME=cpu, NUMBA_CPU_FEATURES="", NUMBA_CACHE_DIR=str(tmp_path))
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", OLDER_CPU_CHECK], env=env, cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == built


def test_linear_fill_fuses_the_position_where_the_cpu_has_fma():
    from llvmlite import binding

    if "+fma" not in binding.get_host_cpu_features().flatten():
        pytest.skip("this CPU has no FMA: the unfused build is tested above")
    assert fields_asm()[0] == "fused"


def test_fields_pass_takes_512_bit_vectors_where_the_cpu_has_them_and_nothing_else_does():
    """``_wide`` is an attribute of the kernels that call it: a loop of the same arithmetic compiled beside
    them keeps LLVM's default width (256 bits on AVX-512 CPUs)."""
    from llvmlite import binding

    if "+avx512f" not in binding.get_host_cpu_features().flatten():
        pytest.skip("this CPU has no AVX-512: the builds without it are tested above")
    assert fields_asm()[1] == "zmm"

    def plain(values, start, x, lo, step, inv, last, out):
        shift = -lo * inv
        for i in range(x.size):
            out[i] = np.uint8(min(max(x[i] * inv + shift, 0.0), last))

    assert fields_asm(plain)[1] == "ymm"


def test_fields_pass_asks_for_the_cache_lines_ahead():
    """The fields pass prefetches as it goes (``AHEAD``): where the hardware does not follow a loop this busy,
    the fill out of cache took the sum of its compute and its memory time without it."""
    import platform

    if platform.machine() not in ("x86_64", "AMD64"):
        pytest.skip("the prefetch instruction checked is x86-64's")
    assert "prefetcht0" in _fields_asm()
