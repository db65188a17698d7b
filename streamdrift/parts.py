"""Many small Parquet part files, read as one ``pyarrow.dataset`` of fragments.

For part files of a few thousand rows the work per file dominates: each footer read,
parsed and checked in Python, then read again by the scan. Here each footer is read once,
as a dataset fragment (in C++, kept in the fragment), and the scan over the same fragments
does not read it again; the scan reads ahead across files on pyarrow's own threads. Its
batches are joined into batches of the batch size, so the kernels are called per batch,
not per file and column.
"""

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from streamdrift.convert import is_numeric
from streamdrift.files import PARQUET, file_format

SMALL_PART_BYTES = 8 << 20
"""Parquet files up to this size on disk on average are read as ``Parts``."""

FOOTER_THREADS = min(4, os.cpu_count() or 1)
"""Threads that read the footers of part files (``Parts.read_all``)."""


def small_parts(paths: list[Path], parquet: bool) -> bool:
    """Several Parquet files (``parquet``: all of them are), small on average on disk."""
    return parquet and len(paths) >= 2 and sum(map(os.path.getsize, paths)) <= SMALL_PART_BYTES * len(paths)


def formats_and_parts(paths: list[Path]) -> tuple[list[str], "Parts | None"]:
    """The format of each file (``files.file_format``), and ``Parts`` with every footer read, when
    the files are all named ``.parquet`` or are many small Parquet files (scanned as one dataset
    when ``Parts.small``; otherwise their footers serve reading them file by file).

    Files named ``.parquet`` are taken for Parquet first, their footers read on threads: a
    footer that reads proves the file is Parquet, so thousands of part files are not opened
    once more each to read their first bytes. If a footer does not read, every file's magic
    bytes decide, as for other names: the first file that is not Parquet (nor Arrow IPC) is
    named, else the first footer that did not read (``Parts.read``)."""
    parts = None
    if len(paths) >= 2 and all(p.name.endswith(".parquet") for p in paths):
        parts = Parts()
        if parts.read_all(paths):
            return [PARQUET] * len(paths), parts
    formats = [file_format(p) for p in paths]
    parquet = all(f == PARQUET for f in formats)
    if not small_parts(paths, parquet):
        return formats, None
    if parts is None:
        parts = Parts()
        parts.read_all(paths)
    return formats, parts


class Parts:
    """Footers read as dataset fragments (``read``, for ``files.Footers``), then scanned as one dataset."""

    def __init__(self):
        import pyarrow.dataset as ds
        from pyarrow.fs import LocalFileSystem

        self._ds = ds
        self._format = ds.ParquetFileFormat()
        self._filesystem = LocalFileSystem()
        self._read: dict[Path, tuple | Exception] = {}  # (fragment, footer, schema), or what reading it raised
        self.bytes = 0  # on disk, of the files whose footers were read

    @property
    def small(self) -> bool:
        """Small enough on average (``SMALL_PART_BYTES``) to be scanned as one dataset."""
        return self.bytes <= SMALL_PART_BYTES * max(1, len(self._read))

    def read_all(self, paths: list[Path], threads: int = FOOTER_THREADS) -> bool:
        """Read the footers of ``paths`` now, on ``threads`` threads (pyarrow reads and parses a
        footer without the GIL), each a run of consecutive files at a time (``_read_run``: all the
        work per file is done there, beside the other threads' parsing); ``read`` then gives each,
        or raises what reading it raised. True when every footer was read."""
        step = max(1, -(-len(paths) // (4 * threads)))  # several runs per thread: they finish together
        with ThreadPoolExecutor(threads) as pool:
            for read, size in pool.map(self._read_run, [paths[i:i + step] for i in range(0, len(paths), step)]):
                self._read.update(read)
                self.bytes += size
        return not any(isinstance(f, Exception) for f in self._read.values())

    def _read_run(self, paths: list[Path]) -> tuple[dict, int]:
        """Each file's fragment, footer and Arrow schema (files written alike, one after the other,
        share one schema object), and the bytes of these files."""
        out, size, last = {}, 0, None
        for path in paths:
            name = str(path)
            fragment = self._format.make_fragment(name, self._filesystem)
            try:
                fragment.ensure_complete_metadata()
                size += os.path.getsize(name)
            except (pa.ArrowException, OSError) as exc:  # worded as pyarrow.parquet words it: read names the file
                out[path] = type(exc)(str(exc).replace(f"Could not open Parquet input source '{path}': ", ""))
                continue
            schema = fragment.physical_schema
            if last is not None and schema.equals(last, check_metadata=True):
                schema = last
            out[path], last = (fragment, fragment.metadata, schema), schema
        return out, size

    def read(self, path: Path) -> tuple[pq.FileMetaData, pa.Schema]:
        """The footer of the Parquet file at ``path`` and the Arrow schema it describes."""
        read = self._read.get(path) or self._read_run([path])[0][path]
        if isinstance(read, Exception):
            raise read
        self._read[path] = read
        return read[1], read[2]

    def batches(self, paths: list[Path], schema: pa.Schema, batch_size: int) -> Iterator[pa.RecordBatch]:
        """The columns of ``schema`` in every file, in batches of ``batch_size`` rows or more
        (the last may hold fewer); the order of rows is not the files' order."""
        dataset = self._ds.FileSystemDataset([self._read[p][0] for p in paths], schema, self._format,
                                             self._filesystem)
        yield from coalesced(dataset.to_batches(columns=schema.names, batch_size=batch_size, batch_readahead=4,
                                                fragment_readahead=8), batch_size)


def scannable(schemas: list[pa.Schema], columns: list[str]) -> bool:
    """True when every schema has ``columns`` as numbers of the first schema's types: then the
    files are scanned as one dataset (strings are read as dictionaries, file by file)."""
    first = schemas[0]
    return all(
        s.get_field_index(c) >= 0 and first.get_field_index(c) >= 0 and s.field(c).type == first.field(c).type
        and is_numeric(s.field(c).type) for s in schemas for c in columns
    )


def coalesced(batches, rows: int) -> Iterator[pa.RecordBatch]:
    """``batches`` joined into batches of at least ``rows`` rows (the last may hold fewer): one
    batch per small part file would cost a call into the kernels per file and column."""
    pending, held = [], 0
    for batch in batches:
        pending.append(batch)
        held += batch.num_rows
        if held >= rows:
            yield _joined(pending)
            pending, held = [], 0
    if pending:
        yield _joined(pending)


def _joined(batches: list[pa.RecordBatch]) -> pa.RecordBatch:
    if len(batches) == 1:
        return batches[0]
    return pa.Table.from_batches(batches).combine_chunks().to_batches()[0]
