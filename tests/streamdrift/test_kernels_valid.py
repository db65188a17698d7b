"""Nullable columns counted and ranged through their validity bitmap (``_jit_linear.fill_linear_valid``, ``_jit_range.range_*_valid``)
against numpy on the valid values alone.

The arrays are built from our own buffers (``pa.Array.from_buffers``), so the null slots hold what
the test puts there: ``lo``, ``hi``, NaN, +-inf, values outside the edges, anything. Nulls are missing
whatever their slots hold. Arrays are sliced at every bit offset (an Arrow slice keeps the whole
bitmap and an offset into it), across blocks, in every dtype the kernels take.
"""

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamdrift import Histogram, Range, make_edges
from streamdrift import _kernels
from streamdrift._jit_linear import BLOCK, expand_validity, linear_plan
from streamdrift._kernels import fill_histogram, value_range
from streamdrift.convert import kernel_values, values_array
from streamdrift.stats import range_problem
from tests import strategies as sds
from tests.streamdrift.test_kernels_linear import expected, linspace, sprinkled

DTYPES = ["float64", "float32", "int64", "int32", "int16", "int8", "uint64", "uint32", "uint16", "uint8"]
SIZES = [1, 7, 8, 9, 255, BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK + 13]


@pytest.fixture(autouse=True, params=["jit", "numpy"])
def kernel_path(request, monkeypatch):
    """All inputs through the numba kernels, or all through the numpy path (small inputs)."""
    limit = 0 if request.param == "jit" else 1 << 62
    for name in ("SMALL", "SMALL_CALLS", "SMALL_VALUES"):
        monkeypatch.setattr(_kernels, name, limit)
    return request.param


def nullable(values: np.ndarray, valid: np.ndarray, offset: int) -> pa.Array:
    """An Arrow array of ``values`` (null slots keep their data) with nulls where ``valid`` is False,
    sliced so that it starts at bit ``offset`` of its bitmap and its data buffer."""
    pad = np.zeros(offset, values.dtype)
    data = np.concatenate([pad, values])
    bits = np.concatenate([np.ones(offset, bool), valid])
    bitmap = np.packbits(bits, bitorder="little")
    whole = pa.Array.from_buffers(pa.from_numpy_dtype(values.dtype), data.size,
                                  [pa.py_buffer(bitmap), pa.py_buffer(data)], null_count=-1)
    return whole.slice(offset)


def with_nulls(data, values: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    """``values`` as a nullable Arrow array with nulls at drawn places (none, few, or most), and the
    valid values."""
    density = data.draw(st.sampled_from([0.0, 0.01, 0.3, 0.97, 1.0]))
    chosen = data.draw(st.lists(st.integers(0, max(0, values.size - 1)), max_size=8))
    valid = np.array([(i * 2654435761 % 1000) >= density * 1000 for i in range(values.size)], bool)
    valid[chosen[: values.size]] = False
    offset = data.draw(st.integers(0, 17))
    return nullable(values, valid, offset), values[valid]


def assert_counts_like_numpy(arr, kept, edges):
    counts = np.zeros(edges.size - 1, np.int64)
    values, valid = kernel_values(arr)
    got = fill_histogram(values, edges, counts, valid)
    want_counts, want_tallies = expected(kept, edges)
    np.testing.assert_array_equal(counts, want_counts)
    missing = arr.null_count + want_tallies[1]
    assert tuple(int(t) for t in got) == (want_tallies[0], missing, *want_tallies[2:])


@settings(max_examples=sds.examples(200))
@given(st.data(), sds.ranges(), st.sampled_from([1, 3, 20, 22, 49]), st.sampled_from(SIZES), st.sampled_from(DTYPES))
def test_nullable_fill_counts_the_valid_values_only(data, rng, bins, size, dtype):
    """Valid values on edges and beside them, NaN, +-inf, outside the edges; null slots holding any of those."""
    lo, hi = rng
    edges = linspace(lo, hi, bins)
    if range_problem(lo, hi, bins) is not None:
        return  # numpy refuses such edges (tests/streamdrift/test_kernels.py)
    with np.errstate(over="ignore", invalid="ignore"):
        values = sprinkled(data, lo, hi, bins, size).astype(dtype)
    arr, kept = with_nulls(data, values)
    assert_counts_like_numpy(arr, kept, edges)


@settings(max_examples=sds.examples(150))
@given(st.data(), sds.feature_values(max_size=80), st.sampled_from([1, 20]))
def test_nullable_range_and_histogram_equal_those_of_the_valid_values(data, values, bins):
    """Range and Histogram of a nullable Arrow array equal those of its valid values as plain numpy."""
    if values.dtype == np.bool_:
        values = values.view(np.uint8)
    arr, kept = with_nulls(data, values)
    want = Range().update(kept)
    got = Range().update(arr)
    assert (got.lo, got.hi, got.count) == (want.lo, want.hi, want.count)
    assert got.missing == want.missing + arr.null_count
    if want.empty or range_problem(want.lo, want.hi, bins) is not None:
        return
    edges = linspace(want.lo, want.hi, bins)
    assert_counts_like_numpy(arr, kept, edges)
    h = Histogram(edges).update(arr)
    np.testing.assert_array_equal(h.counts, Histogram(edges).update(kept).counts)
    assert h.missing == Histogram(edges).update(kept).missing + arr.null_count


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("offset", [0, 1, 7, 8, 13])
def test_null_slots_holding_the_extremes_and_nan_are_missing(dtype, offset):
    """A null slot holding lo, hi, a value outside the edges or NaN is not counted, in blocks
    where such values also appear valid and where they do not."""
    edges = make_edges(-3.0, 7.0)
    info = np.finfo(dtype) if dtype.startswith("f") else np.iinfo(dtype)
    specials = [-3, 7, -100, 100, 2] + ([np.nan, np.inf, -np.inf] if dtype.startswith("f") else [])
    specials = [v for v in specials if info.min <= v <= info.max]
    values = np.resize(np.array(specials + [1] * 40, dtype=np.float64).astype(dtype), 3 * BLOCK + 5)
    valid = np.ones(values.size, bool)
    valid[: BLOCK] = np.resize([False] * len(specials) + [True] * 40, BLOCK)  # block 0: only the specials null
    valid[2 * BLOCK :] = False  # the last blocks: all null
    arr = nullable(values, valid, offset)
    assert_counts_like_numpy(arr, values[valid], edges)
    r = value_range(*kernel_values(arr))
    kept = values[valid].astype(np.float64)
    finite = kept[np.isfinite(kept)]
    assert r == (finite.min(), finite.max(), finite.size, values.size - finite.size)


def test_all_null_and_empty():
    for arr in (pa.array([None, None], pa.float64()), pa.array([None] * 5000, pa.int64()).slice(3),
                pa.array([], pa.float32())):
        values, valid = kernel_values(arr)
        assert value_range(values, valid) == (np.inf, -np.inf, 0, len(arr))
        counts = np.zeros(20, np.int64)
        assert fill_histogram(values, make_edges(0.0, 1.0), counts, valid)[:2] == (0, len(arr))
        assert counts.sum() == 0


@pytest.mark.parametrize("edges", [make_edges(2.0, 2.0), make_edges(0.0, 1.0, 23), make_edges(0.0, 1.0, 60)],
                         ids=["constant", "23 bins", "60 bins"])
def test_edges_the_arithmetic_fill_refuses_count_nullable_columns_too(edges):
    assert linear_plan(edges) == (0.0, 0.0)
    values = np.resize(np.array([*edges, np.nan, -1.0, 5.0]), 2 * BLOCK + 3)
    valid = np.arange(values.size) % 3 != 0
    arr = nullable(values, valid, 5)
    assert_counts_like_numpy(arr, values[valid], edges)


def test_values_array_still_gives_nan_for_nulls():
    arr = nullable(np.arange(20, dtype=np.int64), np.arange(20) % 4 != 1, 3)
    want = np.where(np.arange(20) % 4 != 1, np.arange(20.0), np.nan)
    np.testing.assert_array_equal(values_array(arr), want)
    np.testing.assert_array_equal(values_array(pa.chunked_array([arr, arr.slice(2)])), np.concatenate([want, want[2:]]))


@pytest.mark.parametrize("first", range(17))
def test_expand_validity_is_the_bitmap_bit_by_bit(first):
    bits = np.array([(i * 7919) % 5 != 0 for i in range(600)], bool)
    bitmap = np.packbits(bits, bitorder="little")
    mask = np.empty(BLOCK, np.uint8)
    for n in (0, 1, 7, 8, 9, 64, 583 - first):
        nulls = expand_validity(bitmap, first, n, mask)
        want = bits[first : first + n]
        np.testing.assert_array_equal(mask[:n], np.where(want, 255, 0))
        assert nulls == n - want.sum()


def test_no_kernel_calls_a_kernel_of_another_file():
    """Numba's cache checks only the file a kernel is defined in: a cached caller of another file's
    kernel would keep running the old callee after that file changed."""
    from numba.core.registry import CPUDispatcher

    from streamdrift import _jit, _jit_linear, _jit_range

    for module in (_jit, _jit_linear, _jit_range):
        for name, kernel in vars(module).items():
            if not isinstance(kernel, CPUDispatcher):
                continue
            for used in kernel.py_func.__code__.co_names:
                callee = vars(module).get(used)
                if isinstance(callee, CPUDispatcher):
                    assert callee.py_func.__module__ == module.__name__, (module.__name__, name, used)
            assert kernel.py_func.__module__ == module.__name__, f"{module.__name__} imports the kernel {name}"


def test_kernel_files_name_the_intrinsics_they_were_built_with():
    """The kernels inline ``_llvm``'s intrinsics, which numba's cache does not see change: each kernel file
    names the hash of ``_llvm.py``, so a change there must change (and so recompile) every kernel file.
    After editing ``_llvm.py``, set ``LLVM`` in each kernel file to the new ``_llvm.llvm_hash()``."""
    from numba.extending import _Intrinsic

    from streamdrift import _jit_linear, _jit_range, _llvm

    for module in (_jit_linear, _jit_range):
        used = {name for name, value in vars(module).items() if isinstance(value, _Intrinsic)}
        assert used, f"{module.__name__} uses no intrinsic: drop its LLVM hash, or this test"
        assert all(getattr(_llvm, name, None) is vars(module)[name] for name in used), (module.__name__, used)
        assert module.LLVM == _llvm.llvm_hash(), f"{module.__name__}.LLVM: set it to {_llvm.llvm_hash()!r}"


@settings(max_examples=sds.examples(60))
@given(st.data(), st.sampled_from(DTYPES), st.sampled_from([1, 127, 128, 129, 5 * 128 + 7, 3 * BLOCK + 1]),
       st.booleans())
def test_range_finds_the_extremes_in_any_group(data, dtype, size, nulls):
    """The range goes in groups of ``_jit_range.GROUP`` values: the extremes are found in any group, at
    either end of it, and a null slot holding a wider value is not one."""
    from streamdrift._jit_range import GROUP

    assert GROUP == 128  # the sizes above straddle it
    info = np.iinfo(dtype) if dtype[0] in "iu" else np.finfo(dtype)
    values = np.full(size, 5, dtype)
    where = st.integers(0, size - 1)
    low, high, wide = data.draw(where), data.draw(where), data.draw(where)
    values[low], values[high], values[wide] = 3, 90, info.max
    valid = np.ones(size, bool)
    if nulls:
        valid[wide] = False
    arr = nullable(values, valid, data.draw(st.integers(0, 9))) if nulls else pa.array(values)
    kept = values[valid].astype(np.float64)
    want = (kept.min(), kept.max()) if kept.size else (np.inf, -np.inf)
    assert value_range(*kernel_values(arr)) == (*want, kept.size, size - kept.size)
