"""In-memory inputs as Arrow tables: pandas DataFrames and mappings of column name to array.

Numbers are never copied when Arrow can wrap them (numpy-backed and Arrow-backed pandas
columns); what must be converted is converted once, column by column.
"""

from collections.abc import Mapping

import numpy as np
import pyarrow as pa

from streamdrift.errors import DriftError


def pandas_table(df) -> pa.Table:
    return pa.Table.from_arrays([_pandas_column(df[name]) for name in df.columns], names=[str(n) for n in df.columns])


def _pandas_column(series):
    """One pandas column as Arrow, without copying numpy-backed numbers or Arrow-backed columns."""
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "fiu" and dtype.isnative and dtype.itemsize <= 8:
        # Arrow wraps the same memory: no copy, and no NaN-to-null pass (NaN is missing all the same).
        return pa.array(series.to_numpy(copy=False))
    arrow_backed = getattr(series.array, "_pa_array", None)  # pd.ArrowDtype: its own Arrow chunks
    if isinstance(arrow_backed, pa.ChunkedArray):
        return arrow_backed
    data, mask = getattr(series.array, "_data", None), getattr(series.array, "_mask", None)
    if isinstance(data, np.ndarray) and isinstance(mask, np.ndarray) and data.dtype.kind in "fiu":
        # a nullable dtype (Float64, Int64, ...): its values as they are when none is missing,
        # else one copy with NaN where they are (compared as float64 all the same)
        return pa.array(data if not mask.any() else series.to_numpy(dtype=np.float64, na_value=np.nan))
    try:
        return pa.array(series, from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError):
        try:  # e.g. a Sparse column: its dense values
            return pa.array(series.to_numpy(), from_pandas=True)
        except (pa.ArrowException, TypeError, ValueError):
            return pa.array(series.astype(str))


def mapping_table(mapping: Mapping, role: str) -> pa.Table:
    arrays, names = [], []
    for name, values in mapping.items():
        if not isinstance(values, (pa.Array, pa.ChunkedArray)):
            values = np.asarray(values)
            if values.ndim != 1:
                raise DriftError(f"{role}: column '{name}' must be 1-D, got shape {values.shape}")
            if values.dtype.kind == "f" and values.dtype.itemsize > 8:
                values = values.astype(np.float64)  # long double: compared as float64, like every input
            elif values.dtype.kind in "fiub" and not values.dtype.isnative:
                values = values.astype(values.dtype.newbyteorder("="))  # Arrow takes native byte order only
        arrays.append(values)
        names.append(str(name))
    lengths = {len(a) for a in arrays}
    if len(lengths) > 1:
        raise DriftError(f"{role}: columns have different lengths {sorted(lengths)}; pass columns of one length")
    return pa.table(dict(zip(names, arrays)))
