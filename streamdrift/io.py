"""Where the data comes from: every input (files, tables, DataFrames, Arrow streams) becomes a
``Source`` of Arrow record batches.

A source knows its name (for error messages), its schema, how to iterate its batches
(again, for a second pass), and, for Parquet, the exact min/max its column statistics
prove, when they can be trusted. Files are recognised by their magic bytes, not names.
"""

import math
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from streamdrift.convert import is_categorical, is_feature_type, is_numeric
from streamdrift.defaults import BATCH_SIZE
from streamdrift.errors import DriftError
from streamdrift.files import (
    PARQUET,
    Footers,
    check_columns,
    data_files,
    one_line,
    open_ipc,
    leaf_ranges,
    read_file,
    trusted_leaf,
)
from streamdrift.parts import formats_and_parts, scannable
from streamdrift.spool import Spool, spool_stdin
from streamdrift.tables import mapping_table, pandas_table


class Source:
    """Record batches of one dataset, re-iterable for a second pass."""

    name: str
    schema: pa.Schema

    def batches(self, columns: list[str], batch_size: int = BATCH_SIZE) -> Iterator[pa.RecordBatch]:
        raise NotImplementedError

    def statistics_range(self, column: str) -> tuple[float, float] | None:
        """The exact finite (min, max) of ``column`` from metadata, or None when unknown."""
        return None

    def statistics_ranges(self, columns: list[str]) -> dict:
        """``statistics_range`` of each of ``columns`` (a source may read them all in one pass)."""
        return {c: self.statistics_range(c) for c in columns}

    def rows(self) -> int | None:
        """How many rows a pass reads, when known before reading (from metadata), else None."""
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

    def rows(self):
        return self.table.num_rows


class DatasetSource(Source):
    """A ``pyarrow.dataset.Dataset``, scanned batch by batch."""

    def __init__(self, dataset, name: str):
        self.dataset = dataset
        self.schema = dataset.schema
        self.name = name

    def batches(self, columns, batch_size=BATCH_SIZE):
        yield from self.dataset.to_batches(columns=columns, batch_size=batch_size)


class StreamSource(Source):
    """An object with the Arrow PyCapsule stream interface (polars DataFrames, DuckDB relations, ...),
    exported again for every pass; a pass that gives other rows than the first is an error."""

    def __init__(self, obj, name: str):
        self.obj = obj
        self.name = name
        self._rows = None
        reader = self._reader()
        self.schema = reader.schema
        reader.close()

    def _reader(self) -> pa.RecordBatchReader:
        try:
            return pa.RecordBatchReader.from_stream(self.obj)
        except (pa.ArrowException, TypeError, ValueError) as exc:
            raise DriftError(f"{self.name}: cannot read its Arrow stream: {one_line(exc)}") from None

    def batches(self, columns, batch_size=BATCH_SIZE):
        rows = 0
        with self._reader() as reader:
            for batch in reader:
                rows += batch.num_rows
                yield batch.select(columns)
        if self._rows is None:
            self._rows = rows
        elif rows != self._rows:
            raise DriftError(
                f"{self.name}: its Arrow stream gave {self._rows} rows, then {rows} when read again; "
                "pass data that can be read twice (a DataFrame, a pyarrow Table)"
            )


class FileSource(Source):
    """Parquet and Arrow IPC files (one, a list, or directories of part files), in order."""

    def __init__(self, paths: list[Path], name: str, spool: Spool | None = None, accept=is_numeric):
        self.paths = paths
        self.name = name
        self._spool = spool
        self.accept = accept  # the column types read: numbers, or every feature type (compare)
        try:
            # part files: their footers are read as dataset fragments; many small ones are scanned as one
            self._formats, parts = formats_and_parts(paths)
            self._parts = parts if parts is not None and parts.small else None
            self._footers: dict[Path, pq.FileMetaData] = {}  # files are opened one at a time, when read
            footers = Footers(parts)
            schemas = [self._schema(p, f, footers) for p, f in zip(paths, self._formats)]
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

    def _schema(self, path: Path, fmt: str, footers: Footers) -> pa.Schema:
        try:
            if fmt == PARQUET:
                self._footers[path], schema = footers.read(path)
                return schema
            with open_ipc(path, fmt) as reader:
                return reader.schema
        except (pa.ArrowException, OSError) as exc:
            raise DriftError(f"cannot read '{path}': {one_line(exc)}") from exc

    def batches(self, columns, batch_size=BATCH_SIZE):
        """Every file's batches, in file order; many small Parquet files with the same numeric
        types for ``columns`` are scanned as one dataset instead (``Parts``: its own read-ahead
        across files and threads), and then the order of batches is not the files' order."""
        try:
            distinct = distinct_schemas(self.paths, self._schemas)
            if self._parts is not None and scannable(list(distinct.values()), columns):
                for path, schema in distinct.items():
                    check_columns(schema, columns, f"'{path}'", accept=self.accept)
                yield from self._dataset_batches(columns, batch_size)
                return
            for path, fmt, schema in zip(self.paths, self._formats, self._schemas):
                check_columns(schema, columns, f"'{path}'", accept=self.accept)
                strings = [c for c in columns if is_categorical(schema.field(c).type)]  # counted on indices
                yield from read_file(path, fmt, columns, batch_size, self._footers.get(path), strings)
        except DriftError as exc:
            raise self._renamed(exc) from None

    def _dataset_batches(self, columns, batch_size):
        try:
            yield from self._parts.batches(self.paths, pa.schema([self.schema.field(c) for c in columns]), batch_size)
        except (pa.ArrowException, OSError) as exc:
            raise DriftError(f"cannot read {self.name}: {one_line(exc)}") from exc

    @property
    def scans_ahead(self) -> bool:
        """True when the files are many small Parquet parts, scanned as one dataset with its own read-ahead."""
        return self._parts is not None

    def rows(self):
        if any(f != PARQUET for f in self._formats):
            return None
        return sum(self._footers[p].num_rows for p in self.paths)

    def statistics_range(self, column):
        return self.statistics_ranges([column])[column]

    def statistics_ranges(self, columns):
        """Every file's footer statistics of all ``columns`` at once (``leaf_ranges``): part files
        have thousands of footers, and their row groups are walked once, not once per column."""
        ranges = dict.fromkeys(columns, (math.inf, -math.inf))
        if any(f != PARQUET for f in self._formats):
            return dict.fromkeys(columns)
        leaves = {}  # per Arrow schema: part files written alike share one schema object
        for path, schema in zip(self.paths, self._schemas):
            meta = self._footers[path]
            if id(schema) not in leaves:
                leaves[id(schema)] = {c: trusted_leaf(meta, schema, c) for c in columns}
            wanted = {c: leaf for c, leaf in leaves[id(schema)].items() if ranges[c] is not None}
            if not wanted:
                break
            found = leaf_ranges(meta, {c: leaf for c, leaf in wanted.items() if leaf is not None})
            for c in wanted:
                f, r = found.get(c), ranges[c]
                ranges[c] = None if f is None else (min(r[0], f[0]), max(r[1], f[1]))
        return {c: r if r is not None and r[0] <= r[1] else None for c, r in ranges.items()}

    def close(self):
        if self._spool is not None:
            self._spool.close()
            self._spool = None


def distinct_schemas(paths: list[Path], schemas: list[pa.Schema]) -> dict:
    """The first path of each distinct schema object, with it, in path order: part files written alike
    share one schema object (``Footers``), checked once instead of once per file."""
    first = {}
    for path, schema in zip(paths, schemas):
        first.setdefault(id(schema), (path, schema))
    return dict(first.values())


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
        return TableSource(pandas_table(obj), role)
    if isinstance(obj, Mapping):
        return TableSource(mapping_table(obj, role), role)
    if isinstance(obj, pa.RecordBatchReader):  # one pass only: held in memory for the second
        return TableSource(obj.read_all(), role)
    if hasattr(obj, "__arrow_c_stream__"):
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
