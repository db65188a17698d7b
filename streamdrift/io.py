"""Where the data comes from: every input becomes a ``Source`` of Arrow record batches.

A source knows its name (for error messages), its schema, how to iterate its batches
(again, for a second pass), and, for Parquet, the exact min/max its column statistics
prove, when they can be trusted. Files are recognised by their magic bytes, not names.
"""

import math
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from streamdrift.convert import is_categorical, is_feature_type, is_numeric
from streamdrift.defaults import BATCH_SIZE
from streamdrift.errors import DriftError
from streamdrift.spool import Spool, spool_stdin

PARQUET_BUFFER = 1 << 20

PARQUET, IPC_FILE, IPC_STREAM = "parquet", "arrow-file", "arrow-stream"


def sniff(head: bytes) -> str | None:
    """The format of data that starts with ``head``: Parquet, Arrow IPC file or stream, or None."""
    if head[:4] == b"PAR1":
        return PARQUET
    if head[:6] == b"ARROW1":
        return IPC_FILE
    if head[:4] == b"\xff\xff\xff\xff":
        return IPC_STREAM
    return None


def data_files(path: Path) -> list[Path]:
    """A file itself, or a directory's data files (``listing``); a DriftError when there are none."""
    if path.is_dir():
        files = listing(path)
        if not files:
            raise DriftError(f"directory '{path}' has no data files; point at Parquet files or a folder of them")
        return files
    if not path.exists():
        raise DriftError(f"cannot read '{path}': no such file or directory")
    return [path]


def listing(folder: Path) -> list[Path]:
    """A directory's data files, recursively, in name order.

    Hidden files and names starting with ``_`` (``_SUCCESS``, ``_metadata``, ``.crc``, a
    writer's temporary name) are skipped, at any depth below ``folder``.
    """
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith((".", "_")) for part in p.relative_to(folder).parts)
    )


class Source:
    """Record batches of one dataset, re-iterable for a second pass."""

    name: str
    schema: pa.Schema

    def batches(self, columns: list[str], batch_size: int = BATCH_SIZE) -> Iterator[pa.RecordBatch]:
        raise NotImplementedError

    def statistics_range(self, column: str) -> tuple[float, float] | None:
        """The exact finite (min, max) of ``column`` from metadata, or None when unknown."""
        return None

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class TableSource(Source):
    """An in-memory Arrow table; batches are its chunks, unsplit (no copy, nothing to bound)."""

    def __init__(self, table: pa.Table, name: str):
        self.table = table
        self.schema = table.schema
        self.name = name

    def batches(self, columns, batch_size=BATCH_SIZE):
        yield from self.table.select(columns).to_batches()


class DatasetSource(Source):
    """A ``pyarrow.dataset.Dataset``, scanned batch by batch."""

    def __init__(self, dataset, name: str):
        self.dataset = dataset
        self.schema = dataset.schema
        self.name = name

    def batches(self, columns, batch_size=BATCH_SIZE):
        yield from self.dataset.to_batches(columns=columns, batch_size=batch_size)


class FileSource(Source):
    """Parquet and Arrow IPC files (one, a list, or directories of part files), in order."""

    def __init__(self, paths: list[Path], name: str, spool: Spool | None = None, accept=is_numeric):
        self.paths = paths
        self.name = name
        self._spool = spool
        self.accept = accept  # the column types read: numbers, or every feature type (compare)
        try:
            self._formats = [file_format(p) for p in paths]
            self._footers: dict[Path, pq.FileMetaData] = {}  # files are opened one at a time, when read
            schemas = [self._schema(p, f) for p, f in zip(paths, self._formats)]
        except DriftError as exc:
            error = self._renamed(exc)
            self.close()
            raise error from None
        self.schema = schemas[0]
        self._schemas = schemas

    def _renamed(self, exc: DriftError) -> DriftError:
        """A spooled copy's errors name what it is a copy of (standard input), not the copy."""
        if self._spool is None:
            return exc
        return DriftError(str(exc).replace(f"'{self.paths[0]}'", self.name))

    def _schema(self, path: Path, fmt: str) -> pa.Schema:
        try:
            if fmt == PARQUET:
                with open_parquet(path) as pf:
                    self._footers[path] = pf.metadata
                    return pf.schema_arrow
            with _open_ipc(path, fmt) as reader:
                return reader.schema
        except (pa.ArrowException, OSError) as exc:
            raise DriftError(f"cannot read '{path}': {_one_line(exc)}") from exc

    def batches(self, columns, batch_size=BATCH_SIZE):
        """Every file's batches, in file order; many small Parquet files of one schema are
        scanned as one ``pyarrow.dataset`` instead (its own read-ahead across files and
        threads), and then the order of batches is not the files' order."""
        try:
            if self._small_parquet_parts(columns):
                for path, schema in zip(self.paths, self._schemas):
                    check_columns(schema, columns, f"'{path}'", accept=self.accept)
                yield from self._dataset_batches(columns, batch_size)
                return
            for path, fmt, schema in zip(self.paths, self._formats, self._schemas):
                check_columns(schema, columns, f"'{path}'", accept=self.accept)
                strings = [c for c in columns if is_categorical(schema.field(c).type)]  # counted on indices
                yield from read_file(path, fmt, columns, batch_size, self._footers.get(path), strings)
        except DriftError as exc:
            raise self._renamed(exc) from None

    def _small_parquet_parts(self, columns) -> bool:
        """Several Parquet files, small on average, with the same numeric types for ``columns``
        (string columns are read as dictionaries, file by file)."""
        if len(self.paths) < 2 or any(f != PARQUET for f in self._formats):
            return False
        if sum(self._footers[p].serialized_size + _data_bytes(self._footers[p]) for p in self.paths) > \
                SMALL_PART_BYTES * len(self.paths):
            return False
        first = self._schemas[0]
        return all(
            s.get_field_index(c) >= 0 and first.get_field_index(c) >= 0 and s.field(c).type == first.field(c).type
            and is_numeric(s.field(c).type) for s in self._schemas for c in columns
        )

    def _dataset_batches(self, columns, batch_size):
        import pyarrow.dataset as ds

        schema = pa.schema([self.schema.field(c) for c in columns])
        try:
            dataset = ds.dataset([str(p) for p in self.paths], schema=schema, format="parquet")
            yield from dataset.to_batches(columns=columns, batch_size=batch_size, batch_readahead=4,
                                          fragment_readahead=8)
        except (pa.ArrowException, OSError) as exc:
            raise DriftError(f"cannot read {self.name}: {_one_line(exc)}") from exc

    def statistics_range(self, column):
        lo, hi = math.inf, -math.inf
        for path, fmt, schema in zip(self.paths, self._formats, self._schemas):
            if fmt != PARQUET:
                return None
            found = parquet_statistics_range(self._footers[path], schema, column)
            if found is None:
                return None
            lo, hi = min(lo, found[0]), max(hi, found[1])
        return (lo, hi) if lo <= hi else None

    def close(self):
        if self._spool is not None:
            self._spool.close()
            self._spool = None


SMALL_PART_BYTES = 8 << 20
"""Part files up to this size on average are read as one dataset (see ``FileSource.batches``)."""


def _data_bytes(meta: pq.FileMetaData) -> int:
    return sum(meta.row_group(g).total_byte_size for g in range(meta.num_row_groups))


def file_format(path: Path) -> str:
    """The format of the file at ``path`` by its magic bytes; a DriftError when unknown."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except IsADirectoryError:
        raise DriftError(f"cannot read '{path}': is a directory") from None
    except OSError as exc:
        raise DriftError(f"cannot read '{path}': {exc.strerror or exc}") from None
    fmt = sniff(head)
    if fmt is None:
        what = "is empty" if not head else f"starts with {head[:4]!r}"
        raise DriftError(
            f"'{path}' is not a Parquet or Arrow IPC file (it {what}); pass Parquet files, "
            "a directory of them, or an Arrow IPC stream"
        )
    return fmt


def open_parquet(path: Path, footer: pq.FileMetaData | None = None, dictionary=None) -> pq.ParquetFile:
    """A Parquet file read page by page: memory bounded by pages, not row groups or the file.

    pyarrow's default (``pre_buffer=True``) fetches every row group requested up front,
    which for ``iter_batches`` over a whole file is the whole file. ``dictionary``: columns
    read as Arrow dictionaries (indices into the page dictionary, strings decoded once).
    """
    return pq.ParquetFile(path, metadata=footer, pre_buffer=False, buffer_size=PARQUET_BUFFER,
                          read_dictionary=dictionary or None)


def _open_ipc(path: Path, fmt: str):
    source = pa.memory_map(str(path))
    return pa.ipc.open_file(source) if fmt == IPC_FILE else pa.ipc.open_stream(source)


def read_file(path: Path, fmt: str, columns: list[str], batch_size: int, footer: pq.FileMetaData | None = None,
              dictionary=None, row_groups: list[int] | None = None):
    """Batches of one file, with read errors turned into a DriftError naming the file.

    ``footer``: a Parquet file's metadata when already read, so it is not parsed again;
    ``dictionary``: Parquet columns to read as dictionaries (``open_parquet``);
    ``row_groups``: only these row groups of a Parquet file (a partition of it).
    """
    try:
        if fmt == PARQUET:
            with open_parquet(path, footer, dictionary) as pf:
                yield from pf.iter_batches(batch_size=batch_size, columns=columns, row_groups=row_groups)
        elif fmt == IPC_FILE:
            with _open_ipc(path, fmt) as reader:
                for i in range(reader.num_record_batches):
                    yield reader.get_batch(i).select(columns)
        else:
            yield from _stream_to_its_end(path, columns)
    except (pa.ArrowException, OSError) as exc:
        raise DriftError(f"cannot read '{path}': {_one_line(exc)}") from exc


def _stream_to_its_end(path: Path, columns: list[str]):
    """An Arrow IPC stream file's batches, then a DriftError if it has no end-of-stream marker.

    After the last batch the reader either reads the marker (4 or 8 bytes) or meets the end
    of the file (reads nothing): a stream that simply stops was cut short.
    """
    with pa.memory_map(str(path)) as source:
        reader = pa.ipc.open_stream(source)
        rows, end = 0, source.tell()
        for batch in reader:
            rows += batch.num_rows
            end = source.tell()
            yield batch.select(columns)
        if source.tell() == end:
            raise DriftError(cut_stream(f"'{path}'", rows))


def cut_stream(where: str, rows: int) -> str:
    """The error for an Arrow IPC stream without its end-of-stream marker (its writer died between batches)."""
    return (f"{where} ends without its end-of-stream marker after {rows} rows: the Arrow IPC stream was cut "
            "short (its writer stopped before closing it)")


def check_columns(schema: pa.Schema, columns: list[str], where: str, accept=is_numeric) -> None:
    """Every column is present in ``schema`` and of a type ``accept`` takes (numeric), or a DriftError naming it."""
    for name in columns:
        idx = schema.get_field_index(name)
        if idx < 0:
            raise DriftError(f"column '{name}' is missing from {where}; every file must have the compared columns")
        if not accept(schema.field(idx).type):
            raise DriftError(
                f"column '{name}' in {where} has type {schema.field(idx).type}, not a number; "
                "compare numeric columns only (--columns)"
            )


def parquet_statistics_range(meta: pq.FileMetaData, schema: pa.Schema, column: str) -> tuple[float, float] | None:
    """The exact finite (min, max) of a column from a Parquet footer, or None if it cannot be trusted.

    Trusted only for signed integers, booleans, float32 and float64 (unsigned and decimal
    orderings have had writer bugs), and only when every non-empty row group carries
    finite min/max statistics (writers leave NaN out; an inf or NaN bound, a missing
    statistic, or a row group with values but no min/max means: scan instead).
    """
    idx = schema.get_field_index(column)
    if idx < 0:
        return None
    t = schema.field(idx).type
    if not (pa.types.is_signed_integer(t) or pa.types.is_boolean(t) or t in (pa.float32(), pa.float64())):
        return None
    col = _leaf_index(meta, idx, column)
    if col is None:
        return None
    lo, hi = math.inf, -math.inf
    for g in range(meta.num_row_groups):
        rg = meta.row_group(g)
        if rg.num_rows == 0:
            continue
        st = rg.column(col).statistics
        if st is None:
            return None
        if st.has_min_max:
            mn, mx = float(st.min), float(st.max)
            if not (math.isfinite(mn) and math.isfinite(mx)):
                return None
            lo, hi = min(lo, mn), max(hi, mx)
        elif not (st.has_null_count and st.null_count == rg.num_rows):
            return None
    return (lo, hi) if lo <= hi else None


def _leaf_index(meta: pq.FileMetaData, field_index: int, column: str) -> int | None:
    """The Parquet leaf column of a top-level field: the field's own index in a flat schema."""
    if field_index < meta.num_columns and meta.schema.column(field_index).path == column:
        return field_index
    return next((j for j in range(meta.num_columns) if meta.schema.column(j).path == column), None)
def open_source(obj, role: str, features: bool = False) -> Source:
    """Any supported input as a Source; ``role`` ('reference'/'current') names it in errors.

    Files check that the columns read are numbers, or with ``features`` of any feature type
    (categories and times too)."""
    if isinstance(obj, Source):
        return obj
    accept = is_feature_type if features else is_numeric
    if isinstance(obj, (str, os.PathLike)):
        if str(obj) == "-":
            spool = spool_stdin()
            if spool.size == 0:
                spool.close()
                raise DriftError(f"{role} '-': standard input is empty; pipe Parquet or an Arrow IPC stream into it")
            return FileSource([spool.path], name="standard input", spool=spool, accept=accept)
        return FileSource(data_files(Path(obj)), name=paths_name(obj), accept=accept)
    if isinstance(obj, (list, tuple)) and obj and all(isinstance(p, (str, os.PathLike)) for p in obj):
        files = [f for p in obj for f in data_files(Path(p))]
        return FileSource(files, name=paths_name(obj), accept=accept)
    if isinstance(obj, pa.Table):
        return TableSource(obj, role)
    if isinstance(obj, pa.RecordBatch):
        return TableSource(pa.Table.from_batches([obj]), role)
    if type(obj).__module__.startswith("pyarrow") and hasattr(obj, "to_batches") and hasattr(obj, "schema"):
        return DatasetSource(obj, role)
    if type(obj).__module__.startswith("pandas") and hasattr(obj, "columns"):
        return TableSource(_pandas_table(obj), role)
    if isinstance(obj, Mapping):
        return TableSource(_mapping_table(obj, role), role)
    if isinstance(obj, pa.RecordBatchReader):  # one pass only: held in memory for the second
        return TableSource(obj.read_all(), role)
    if hasattr(obj, "__arrow_c_stream__"):
        from streamdrift.capsule import StreamSource

        return StreamSource(obj, role)
    raise DriftError(
        f"{role}: cannot read a {type_name(obj)}; pass Parquet or "
        "Arrow IPC paths, a pyarrow Table/RecordBatch/RecordBatchReader/Dataset, a pandas DataFrame, a mapping "
        "of column name to array, or an object with the Arrow PyCapsule stream interface "
        "(__arrow_c_stream__: polars, DuckDB)"
    )


def paths_name(obj) -> str:
    """How paths are named in messages: ``'a.parquet'``, or ``'a.parquet' (+2 more)`` for a list."""
    if isinstance(obj, (list, tuple)):
        return f"'{obj[0]}'" + (f" (+{len(obj) - 1} more)" if len(obj) > 1 else "")
    return f"'{obj}'"


def type_name(obj) -> str:
    package = type(obj).__module__.split(".")[0]
    return type(obj).__name__ if package == "builtins" else f"{package}.{type(obj).__name__}"


def _pandas_table(df) -> pa.Table:
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


def _mapping_table(mapping: Mapping, role: str) -> pa.Table:
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


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
