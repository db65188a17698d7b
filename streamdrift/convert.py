"""Arrow, pandas and numpy columns to the plain numpy arrays the kernels take.

Everything that knows about Arrow types and nulls is here, so the kernels never see
anything but a 1-D ndarray of a float or integer dtype, with nulls as NaN (``values_array``)
or as Arrow's validity bitmap beside the data (``kernel_values``, no copy).
"""

import numpy as np
import pyarrow as pa

from streamdrift._kernels import Validity, null_as_nan
from streamdrift.errors import DriftError

_KERNEL_KINDS = "fiu"

_NUMPY_DTYPES = {
    pa.int8(): np.int8, pa.int16(): np.int16, pa.int32(): np.int32, pa.int64(): np.int64,
    pa.uint8(): np.uint8, pa.uint16(): np.uint16, pa.uint32(): np.uint32, pa.uint64(): np.uint64,
    pa.float32(): np.float32, pa.float64(): np.float64,
}


def is_numeric(arrow_type: pa.DataType) -> bool:
    """True for the column types that are features: integer, float, boolean, decimal."""
    if pa.types.is_dictionary(arrow_type):
        return is_numeric(arrow_type.value_type)
    return (
        pa.types.is_integer(arrow_type)
        or pa.types.is_floating(arrow_type)
        or pa.types.is_boolean(arrow_type)
        or pa.types.is_decimal(arrow_type)
        or pa.types.is_null(arrow_type)
    )


def holds_numbers(arrow_type: pa.DataType) -> bool:
    """Numeric and able to hold a value: not Arrow's ``null`` type (a column with no values at
    all, as pandas writes an all-None column), which makes no feature on its own."""
    return is_numeric(arrow_type) and not pa.types.is_null(arrow_type)


NUMERIC, CATEGORICAL = "numeric", "categorical"

_CATEGORICAL_TYPES = (pa.types.is_string, pa.types.is_large_string, pa.types.is_string_view, pa.types.is_dictionary)
_TEMPORAL_TYPES = (pa.types.is_timestamp, pa.types.is_date, pa.types.is_time, pa.types.is_duration)


def is_categorical(arrow_type: pa.DataType) -> bool:
    """Categorical by default (SPEC 2b): string, large_string, string_view and dictionary columns."""
    return any(is_kind(arrow_type) for is_kind in _CATEGORICAL_TYPES)


def is_temporal(arrow_type: pa.DataType) -> bool:
    """Timestamps, dates, times and durations: binned on their integer values when named as features."""
    return any(is_kind(arrow_type) for is_kind in _TEMPORAL_TYPES)


def default_kind(arrow_type: pa.DataType) -> str | None:
    """The kind of feature a column of this type is by default, or None (no feature unless named)."""
    if is_categorical(arrow_type):
        return CATEGORICAL
    if holds_numbers(arrow_type):
        return NUMERIC
    return None


def named_kind(arrow_type: pa.DataType, categorical: bool) -> str | None:
    """The kind of a column named as a feature (``categorical``: named as categorical), or None if it cannot be one."""
    if categorical:
        return CATEGORICAL if is_categorical(arrow_type) or pa.types.is_integer(arrow_type) or pa.types.is_null(arrow_type) else None
    if is_categorical(arrow_type):
        return CATEGORICAL
    return NUMERIC if is_numeric(arrow_type) or is_temporal(arrow_type) else None


def is_feature_type(arrow_type: pa.DataType) -> bool:
    """A type some kind of feature can have (numbers, categories, temporal values)."""
    return named_kind(arrow_type, False) is not None


_PLAIN = {t.id: np.dtype(dtype) for t, dtype in _NUMPY_DTYPES.items()}


def _arrow_chunk(arr: pa.Array) -> np.ndarray:
    values, valid = _arrow_values(arr)
    return values if valid is None else null_as_nan(values, valid)


def _arrow_values(arr: pa.Array) -> tuple[np.ndarray, Validity | None]:
    """``arr``'s values (null slots hold any value) and, when it has nulls, its validity bitmap."""
    if arr.type.id not in _PLAIN:  # (integers and floats, the common case, need no cast: checked first)
        arr = _plain(arr)
        if isinstance(arr, np.ndarray):
            return arr, None
    values = _primitive(arr)
    if not arr.null_count:
        return values, None
    return values, (np.frombuffer(arr.buffers()[0], dtype=np.uint8), arr.offset)


def _plain(arr: pa.Array) -> pa.Array | np.ndarray:
    """``arr`` as an array of integers or floats (an ndarray of NaN for Arrow's null type)."""
    t = arr.type
    if pa.types.is_dictionary(t):
        return _arrow_chunk(arr.dictionary_decode())
    if is_temporal(t):  # binned on its integer values (docs/statistic.md)
        t = pa.int32() if t.bit_width == 32 else pa.int64()
        arr = arr.view(t)
    if not is_numeric(t):
        raise DriftError(f"values of type {t} are not numeric; pass integer, float, boolean or decimal values")
    if pa.types.is_null(t):
        return np.full(len(arr), np.nan)
    # Array.cast imports pyarrow.compute (0.1-0.3 s) only when a column needs a cast.
    if pa.types.is_decimal(t):
        # Arrow's decimal -> float64 cast is not correctly rounded (0.3 becomes
        # 0.30000000000000004); its string -> float64 parse is, like float(Decimal).
        arr = arr.cast(pa.string()).cast(pa.float64())
    elif pa.types.is_boolean(t):
        arr = arr.cast(pa.float64())
    elif pa.types.is_float16(t):
        arr = arr.cast(pa.float32())
    return arr


def _primitive(arr: pa.Array) -> np.ndarray:
    """A read-only view of a primitive array's data buffer (null slots hold any value).

    ``Array.to_numpy`` and ``pc.fill_null`` would do this, but import pandas (≈0.4 s).
    """
    dtype = _PLAIN[arr.type.id]
    data = arr.buffers()[1]
    if data is None:
        return np.empty(0, dtype=dtype)
    view = np.frombuffer(data, dtype=dtype, count=len(arr), offset=arr.offset * dtype.itemsize)
    view.flags.writeable = False  # Arrow data is immutable, even when its buffer is not
    return view


def column_values(column) -> list[np.ndarray]:
    """The chunks of one column as kernel-ready arrays (nulls as NaN), without copying when possible."""
    if isinstance(column, pa.ChunkedArray):
        return [_arrow_chunk(c) for c in column.chunks]
    if isinstance(column, pa.Array):
        return [_arrow_chunk(column)]
    return [values_array(column)]


def kernel_values(values) -> tuple[np.ndarray, Validity | None]:
    """``values_array``, but an Arrow array's nulls as its validity bitmap (for the kernels'
    ``valid`` argument) instead of NaN in a copy: ``(values, None)`` when there are no nulls."""
    if isinstance(values, pa.ChunkedArray) and values.num_chunks == 1:
        values = values.chunk(0)
    if isinstance(values, pa.Array):
        return _arrow_values(values)
    return values_array(values), None


def values_array(values) -> np.ndarray:
    """One kernel-ready 1-D array from a numpy array, a list, a pandas Series or an Arrow array."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        chunks = column_values(values)
        return chunks[0] if len(chunks) == 1 else np.concatenate(chunks) if chunks else np.empty(0)
    if hasattr(values, "to_numpy") and not isinstance(values, np.ndarray):
        values = _pandas_values(values)
    arr = np.asarray(values)
    kind, size = arr.dtype.kind, arr.dtype.itemsize
    if kind == "b":
        arr = arr.view(np.uint8)
    elif kind not in _KERNEL_KINDS:
        raise DriftError(
            f"values of dtype {arr.dtype} are not numeric; pass integer, float or boolean values"
        )
    elif kind == "f" and size == 2:
        arr = arr.astype(np.float32)  # float16, either byte order
    elif kind == "f" and size > 8:
        arr = arr.astype(np.float64)  # long double: compared as float64, like every input
    elif not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))  # the kernels take native byte order only
    if arr.ndim != 1:
        arr = arr.reshape(-1)
    return arr


def _pandas_values(series) -> np.ndarray:
    dtype = getattr(series, "dtype", None)
    kind = getattr(dtype, "kind", "O")
    if kind in "mM":  # pandas would turn datetimes and timedeltas into nanosecond floats
        raise DriftError(f"values of dtype {dtype} are not numeric; pass integer, float or boolean values")
    if kind in _KERNEL_KINDS + "b" and not getattr(series, "hasnans", False):
        return series.to_numpy()
    try:
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise DriftError(f"values of dtype {dtype} are not numeric ({exc})") from None
