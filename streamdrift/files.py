"""Data files: their format by magic bytes, directory listings, and reading one file's batches.

Parquet is read page by page (memory bounded by pages, not row groups); Arrow IPC files are
memory-mapped; an Arrow IPC stream file without its end-of-stream marker is an error. A
Parquet footer's column statistics give a column's exact range when they can be trusted.
Read errors become a ``DriftError`` naming the file.
"""

import math
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from streamdrift.convert import is_numeric
from streamdrift.errors import DriftError

PARQUET_BUFFER = 64 << 10
"""Bytes a Parquet column reader buffers ahead: its page headers are read through this buffer, and a
page larger than it is read straight into the page's own memory (no copy through the buffer). With
1 MiB, about the size of a page, almost every page went through the buffer: 7% more CPU to decode."""

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
    """A directory's data files, recursively, in name order (``Path`` order: part by part).

    Hidden files and names starting with ``_`` (``_SUCCESS``, ``_metadata``, ``.crc``, a
    writer's temporary name) are skipped, at any depth below ``folder``; so are directories
    that are symbolic links, and those that cannot be read. One ``scandir`` per directory:
    a folder of thousands of part files is listed without a ``stat`` per file.
    """
    found, pending = [], [(str(folder), ())]
    while pending:
        where, parts = pending.pop()
        try:
            with os.scandir(where) as entries:
                for entry in entries:
                    if entry.name.startswith((".", "_")):
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        pending.append((entry.path, (*parts, entry.name)))
                    elif entry.is_file():
                        found.append(((*parts, entry.name), entry.path))
        except PermissionError:
            continue
    return [Path(path) for _, path in sorted(found)]


def file_format(path: Path) -> str:
    """The format of the file at ``path`` by its magic bytes; a DriftError when unknown."""
    try:
        head = _head(path)
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


def _head(path: Path) -> bytes:
    """The first 8 bytes of a file (without Python's buffered file object: part files are many)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, 8)
    finally:
        os.close(fd)


def open_parquet(path: Path, footer: pq.FileMetaData | None = None, dictionary=None) -> pq.ParquetFile:
    """A Parquet file read page by page: memory bounded by pages, not row groups or the file.

    pyarrow's default (``pre_buffer=True``) fetches every row group requested up front,
    which for ``iter_batches`` over a whole file is the whole file. ``dictionary``: columns
    read as Arrow dictionaries (indices into the page dictionary, strings decoded once).
    """
    return pq.ParquetFile(path, metadata=footer, pre_buffer=False, buffer_size=PARQUET_BUFFER,
                          read_dictionary=dictionary or None)


class Footers:
    """Parquet footers read file after file, each with the Arrow schema it describes.

    Part files written alike have equal footer schemas and key-value metadata, and then
    equal Arrow schemas: the schema is worked out once for such a run of files, and the
    files share one schema object. ``fragments`` (a ``parts.Parts``): footers are read as
    its dataset fragments instead, kept there for its scan.
    """

    def __init__(self, fragments=None):
        self._last: tuple[pq.FileMetaData, pa.Schema] | None = None
        self._fragments = fragments

    def read(self, path: Path) -> tuple[pq.FileMetaData, pa.Schema]:
        if self._fragments is not None:
            footer, schema = self._fragments.read(path)
            return footer, self._same(schema)
        with pa.OSFile(str(path)) as source, pq.ParquetFile(source) as pf:
            footer = pf.metadata
            return footer, self._shared(footer, lambda: pf.schema_arrow)

    def _shared(self, footer: pq.FileMetaData, schema) -> pa.Schema:
        """The previous file's schema when ``footer`` describes the same, else ``schema()``."""
        last = self._last
        if last is not None and footer.schema.equals(last[0].schema) and footer.metadata == last[0].metadata:
            shared = last[1]
        else:
            shared = schema()
        self._last = footer, shared
        return shared

    def _same(self, schema: pa.Schema) -> pa.Schema:
        """The previous file's schema when equal to ``schema`` (a fragment's, already worked out), else
        ``schema``. Arrow schemas are compared, not the footers' (``FileMetaData.schema`` makes a
        reference cycle: thousands of footers then wait for the garbage collector, which runs often)."""
        last = self._last
        same = last is not None and (schema is last[1] or schema.equals(last[1], check_metadata=True))
        shared = last[1] if same else schema
        self._last = None, shared
        return shared


def open_ipc(path: Path, fmt: str):
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
            with open_ipc(path, fmt) as reader:
                for i in range(reader.num_record_batches):
                    yield reader.get_batch(i).select(columns)
        else:
            yield from _stream_to_its_end(path, columns)
    except (pa.ArrowException, OSError) as exc:
        raise DriftError(f"cannot read '{path}': {one_line(exc)}") from exc


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
    """The exact finite (min, max) of a column from a Parquet footer, or None if it cannot be trusted."""
    return parquet_statistics_ranges(meta, schema, [column])[column]


def parquet_statistics_ranges(meta: pq.FileMetaData, schema: pa.Schema, columns: list[str]) -> dict:
    """``parquet_statistics_range`` of each of ``columns``, the row groups walked once for all
    (``trusted_leaf``, then ``leaf_ranges``)."""
    leaves = {c: trusted_leaf(meta, schema, c) for c in columns}
    found = leaf_ranges(meta, {c: leaf for c, leaf in leaves.items() if leaf is not None})
    return {c: found.get(c) for c in columns}


def trusted_leaf(meta: pq.FileMetaData, schema: pa.Schema, column: str) -> int | None:
    """The Parquet leaf column whose statistics may give ``column``'s range, or None.

    Trusted only for signed integers, booleans, float32 and float64 (unsigned and decimal
    orderings have had writer bugs). Files with equal Arrow schemas have the same answer.
    """
    idx = schema.get_field_index(column)
    if idx < 0:
        return None
    t = schema.field(idx).type
    if not (pa.types.is_signed_integer(t) or pa.types.is_boolean(t) or t in (pa.float32(), pa.float64())):
        return None
    return _leaf_index(meta, len(schema), idx, column)


def leaf_ranges(meta: pq.FileMetaData, leaves: dict) -> dict:
    """The finite (min, max) of several leaf columns (key -> leaf index) from their row groups'
    statistics, in one pass over the row groups: for each key, None unless every non-empty row
    group carries finite min/max statistics (writers leave NaN out; an inf or NaN bound, a missing
    statistic, or a row group with values but no min/max means: scan instead).

    Trusted columns (``trusted_leaf``) hold numbers whose raw Parquet statistics are the values
    themselves, so the raw min/max are read (no conversion by logical type: part files have
    thousands of these)."""
    inf = math.inf
    groups = [(rg, rg.num_rows) for rg in map(meta.row_group, range(meta.num_row_groups))]
    out = {}
    for key, leaf in leaves.items():
        lo, hi = inf, -inf
        for rg, rows in groups:
            if rows == 0:
                continue
            st = rg.column(leaf).statistics
            if st is None:
                break
            if st.has_min_max:
                mn, mx = float(st.min_raw), float(st.max_raw)
                if not -inf < mn <= mx < inf:
                    break
                lo, hi = min(lo, mn), max(hi, mx)
            elif not (st.has_null_count and st.null_count == rows):
                break
        else:
            out[key] = (lo, hi) if lo <= hi else None
            continue
        out[key] = None
    return out


def _leaf_index(meta: pq.FileMetaData, fields: int, field_index: int, column: str) -> int | None:
    """The Parquet leaf column of a top-level field: the field's own index in a flat schema
    (as many leaves as the Arrow schema has ``fields``: each field is one leaf, in order)."""
    if meta.num_columns == fields or (field_index < meta.num_columns and
                                      meta.schema.column(field_index).path == column):
        return field_index
    return next((j for j in range(meta.num_columns) if meta.schema.column(j).path == column), None)


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
