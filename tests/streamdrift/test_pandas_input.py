"""pandas DataFrames into compare: numeric columns without copies, and the same answer as numpy arrays."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import streamdrift
from streamdrift.tables import pandas_table


def frame(n=5000, seed=3):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "f64": rng.normal(0, 1, n),
        "f32": rng.normal(5, 2, n).astype(np.float32),
        "i64": rng.integers(-50, 50, n),
        "u8": rng.integers(0, 255, n).astype(np.uint8),
    })
    df.loc[::97, "f64"] = np.nan
    df.loc[::101, "f64"] = np.inf
    return df


def address(column) -> int:
    chunk = column.chunk(0) if isinstance(column, pa.ChunkedArray) else column
    return chunk.buffers()[1].address


def test_numpy_backed_numeric_columns_are_wrapped_not_copied():
    df = frame()
    table = pandas_table(df)
    for name in df.columns:
        assert address(table.column(name)) == df[name].to_numpy().ctypes.data, name
        assert table.column(name).null_count == 0  # NaN stays NaN: no null mask computed


def test_arrow_backed_and_unmasked_nullable_columns_are_not_copied():
    df = frame()
    arrow = pa.Table.from_pandas(df).to_pandas(types_mapper=pd.ArrowDtype)
    table = pandas_table(arrow)
    for name in df.columns:
        assert address(table.column(name)) == address(arrow[name].array._pa_array), name
    nullable = df[["i64", "u8"]].astype({"i64": "Int64", "u8": "UInt8"})
    table = pandas_table(nullable)
    for name in nullable.columns:
        assert address(table.column(name)) == nullable[name].array._data.ctypes.data, name


@pytest.mark.parametrize("kind", ["numpy", "nullable", "arrow"])
def test_every_pandas_flavour_gives_the_answer_of_the_numpy_arrays(kind):
    ref, cur = frame(seed=1), frame(seed=2)
    cur["i64"] += 3
    want = streamdrift.compare({c: ref[c].to_numpy() for c in ref}, {c: cur[c].to_numpy() for c in cur})

    def flavour(df):
        if kind == "nullable":
            out = df.convert_dtypes()
            out.loc[::89, "i64"] = pd.NA  # a masked value: missing, like NaN
            return out
        if kind == "arrow":
            return pa.Table.from_pandas(df).to_pandas(types_mapper=pd.ArrowDtype)
        return df

    got = streamdrift.compare(flavour(ref), flavour(cur))
    if kind == "nullable":
        ref2, cur2 = ref.astype({"i64": float}), cur.astype({"i64": float})
        ref2.loc[::89, "i64"] = np.nan
        cur2.loc[::89, "i64"] = np.nan
        want = streamdrift.compare({c: ref2[c].to_numpy() for c in ref2}, {c: cur2[c].to_numpy() for c in cur2})
    assert [f.to_dict() for f in got] == [f.to_dict() for f in want]
