"""``Counter``: the local executor. A source's batches feed per-feature states, features in
parallel on a thread pool, while a background thread decodes files (``compare``, ``profile``,
``watch``; on a Dask worker, one partition on one thread)."""

import os
from concurrent.futures import Future, ThreadPoolExecutor

import pyarrow as pa

from streamdrift.background import READ_AHEAD_BYTES, Background, Interleaved
from streamdrift.executor import Executor, count_by_feature, in_memory
from streamdrift.executor import update_state as _update
from streamdrift.io import FileSource, Source


def thread_count(threads: int | None, decoding: bool = False) -> int:
    """Threads to count features on: as asked, else one per CPU, less one while pyarrow decodes files.

    Decoding and counting are both CPU-bound; on 2 cores, two counting threads beside the
    decoder are slower than one (measured in benchmarks/, compare group).
    """
    if threads:
        return max(1, threads)
    cpus = os.cpu_count() or 1
    return max(1, cpus - 1 if decoding else cpus)


class Counter(Executor):
    """The local executor: feeds a source's batches to per-feature states, features in parallel on a thread pool."""

    def __init__(self, threads: int | None, decoding: bool = False):
        self.threads = thread_count(threads, decoding)
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="streamdrift") if self.threads > 1 else None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def fill(self, source: Source, states: dict, batch_size: int) -> None:
        """``update`` every state with its column of every batch of ``source``."""
        self.fill_sides([(source, states)], batch_size)

    def count_features(self, sides: list, features: list[str], bins: int, others: dict | None = None):
        """In memory: each feature (range, then histograms) in one task on the pool; see ``Executor``."""
        if not in_memory(sides):
            return None
        return count_by_feature(sides, features, bins, others, self._pool.map if self._pool is not None else map)

    def read_ahead(self, sides: list, batch_size: int):
        """The batches of each ``(source, columns)``, as ``(index, batch)``: files are decoded from now
        on, ahead of the counting, each side on a reader thread of its own (one batch of each in
        turn), so that pyarrow always has a batch to decode while another's columns finish. Memory
        stays bounded in bytes: the sides share ``READ_AHEAD_BYTES``. Sides of many small part files
        (scanned ahead across files by pyarrow already) are read one after the other: read at the
        same time, they cost more CPU. Close it when done. A side may also be a ``Future`` of its
        ``(source, columns)``, known later (None: nothing to read)."""
        known = [side[0] for side in sides if isinstance(side, tuple)]
        if not any(isinstance(source, FileSource) for source in known):
            return _tagged(sides, batch_size)
        if any(isinstance(source, FileSource) and source.scans_ahead for source in known):
            return Background(_tagged(sides, batch_size), size=lambda item: item[1].nbytes)
        share = READ_AHEAD_BYTES // len(sides)
        return Interleaved([Background(_tagged([side], batch_size, i), max_bytes=share, size=lambda item: item[1].nbytes)
                            for i, side in enumerate(sides)])

    def fill_sides(self, sides: list, batch_size: int, ahead=None) -> None:
        """``fill`` of each ``(source, states)``, from ``ahead`` (``read_ahead`` of the same sources and
        the states' columns) or a new ``read_ahead``: the sides' files are decoded at the same time."""
        items = ahead if ahead is not None else self.read_ahead([(s, list(states)) for s, states in sides], batch_size)
        try:
            for i, batch in items:
                self._update(sides[i][1], batch)
        finally:
            items.close()

    def _update(self, states: dict, batch: pa.RecordBatch) -> None:
        """Every state updated with its column of ``batch``, features in parallel on the pool."""
        names = list(states)
        columns = [batch.column(name) for name in names]
        if self._pool is None or len(names) == 1:
            for name, column in zip(names, columns):
                _update(states[name], column)
        else:
            for fut in [self._pool.submit(_update, states[n], c) for n, c in zip(names, columns)]:
                fut.result()


def _tagged(sides: list, batch_size: int, first: int = 0):
    """``(index, batch)`` for every batch of each ``(source, columns)`` (or its ``Future``), in turn
    (the first side's index is ``first``)."""
    for i, side in enumerate(sides, first):
        if isinstance(side, Future):
            side = side.result()
            if side is None:
                return
        source, columns = side
        for batch in source.batches(columns, batch_size):
            yield i, batch
