"""What runs on a Dask worker: listing inputs, reading footers, filling states from one partition.

Each function takes and returns small picklable things (paths, ``FileInfo``, dicts of
states): the data is read where the worker is and never travels. A ``DriftError`` raised
on a worker names the worker, so "cannot read 'x'" says where it could not be read.
Nothing here imports dask, except to learn the worker's address for such a message.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from streamdrift.errors import DriftError
from streamdrift.files import PARQUET, data_files, file_format, open_parquet, parquet_statistics_ranges, read_file
from streamdrift.io import Source, open_source

PARTITION_ROWS = 1_000_000  # consecutive row groups of a file are counted together up to this many rows


@dataclass(frozen=True)
class FileInfo:
    """What a file's footer says: format, schema, rows per row group, trusted column ranges."""

    path: str
    fmt: str
    schema: pa.Schema
    row_groups: tuple[int, ...] = ()
    statistics: dict = field(default_factory=dict)  # column -> (lo, hi) or None (Parquet only)


@dataclass(frozen=True)
class Partition:
    """One task's share of a file: the whole file (``row_groups`` None) or some of its row groups."""

    path: str
    fmt: str
    row_groups: tuple[int, ...] | None = None
    dictionary: tuple[str, ...] = ()  # string columns read as dictionaries, as FileSource reads them


def worker_address() -> str | None:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return None


def on_worker(fn):
    """Run ``fn``; a DriftError it raises is re-raised naming the worker it ran on."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except DriftError as exc:
            where = worker_address()
            if where is None:
                raise
            raise DriftError(f"on worker {where}: {exc}") from None

    return wrapper


@on_worker
def list_files(path: str) -> list[str]:
    """The data files of one input path, as ``open_source`` would list them."""
    return [str(p) for p in data_files(Path(path))]


@on_worker
def read_footer(path: str) -> FileInfo:
    """A file's ``FileInfo``: Parquet footers give row groups and trusted ranges; IPC files a schema."""
    fmt = file_format(Path(path))
    try:
        if fmt != PARQUET:
            return FileInfo(path, fmt, open_source([path], "file", True).schema)
        with open_parquet(Path(path)) as pf:
            meta, schema = pf.metadata, pf.schema_arrow
    except (pa.ArrowException, OSError) as exc:
        raise DriftError(f"cannot read '{path}': {str(exc).strip().splitlines()[0]}") from None
    rows = tuple(meta.row_group(g).num_rows for g in range(meta.num_row_groups))
    stats = parquet_statistics_ranges(meta, schema, schema.names)
    return FileInfo(path, fmt, schema, rows, stats)


def split(info: FileInfo, rows: int = PARTITION_ROWS) -> list[Partition]:
    """A file's partitions: runs of consecutive row groups of at least ``rows`` rows (the last may
    be smaller); a whole IPC file; none for a Parquet file without rows."""
    if info.fmt != PARQUET:
        return [Partition(info.path, info.fmt)]
    parts, run, size = [], [], 0
    for g, n in enumerate(info.row_groups):
        if n == 0:
            continue
        run.append(g)
        size += n
        if size >= rows:
            parts.append(Partition(info.path, info.fmt, tuple(run)))
            run, size = [], 0
    if run:
        parts.append(Partition(info.path, info.fmt, tuple(run)))
    return parts


class PartitionSource(Source):
    """The batches of one partition, read where this runs."""

    def __init__(self, part: Partition):
        self.part = part
        self.name = f"'{part.path}'"

    def batches(self, columns, batch_size):
        rgs = list(self.part.row_groups) if self.part.row_groups is not None else None
        yield from read_file(Path(self.part.path), self.part.fmt, columns, batch_size,
                             dictionary=list(self.part.dictionary), row_groups=rgs)


def _fill(source: Source, states: dict, batch_size: int) -> dict:
    from streamdrift.counting import Counter

    with Counter(1) as counter:  # one task, one thread: the cluster's parallelism is its tasks
        counter.fill(source, states, batch_size)
    return states


@on_worker
def fill_partition(part: Partition, states: dict, batch_size: int) -> dict:
    """``states`` (fresh copies, shipped with the task) filled with one file partition."""
    return _fill(PartitionSource(part), states, batch_size)


@on_worker
def fill_frame(frame, states: dict, batch_size: int) -> dict:
    """``states`` filled with one partition of a dask DataFrame (a pandas DataFrame here)."""
    return _fill(open_source(frame, "partition"), states, batch_size)


def merge(*parts: dict) -> dict:
    """The sum of partitions' states, feature by feature, in the order given (new objects)."""
    out = dict(parts[0])
    for part in parts[1:]:
        for name, state in part.items():
            out[name] = out[name] + state
    return out
