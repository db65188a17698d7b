"""The one seam between the work and where it runs: local threads, or a Dask cluster.

``compare`` and ``profile`` fill mergeable per-feature states (``Range``, ``Histogram``,
the profile's ``ColumnBuilder``) with the columns of a source; an ``Executor`` decides where:

* ``Counter`` (streamdrift.counting): this process, features in parallel on threads;
* ``DaskExecutor`` (streamdrift.cluster): each partition (a file or a run of row groups)
  fills fresh copies of the states on a worker, the copies are summed in a tree with
  ``+`` and only the sum comes back. Counts are integers, so the sum is the same whatever
  the order: the result is bit-identical to a local run.

The grader's batch uses the same seam through ``map_unordered`` (grade each submission,
results in completion order).

Nothing here imports dask, nor an executor: ``streamdrift.executors.executor_for`` picks one
(and imports dask only when asked for a cluster).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager

DASK_TIMEOUT = 10.0  # seconds to reach a scheduler before giving up (--dask-timeout)


class Executor(AbstractContextManager):
    """Where states are filled. States must support ``update(values)`` and ``+`` (merge)."""

    def open(self, obj, role: str, features: bool = False):
        """``obj`` as a ``Source`` this executor can fill from (``role`` names it in errors;
        ``features``: files may have columns of any feature type, not only numbers)."""
        from streamdrift.io import open_source

        return open_source(obj, role, features)

    def fill(self, source, states: dict, batch_size: int) -> None:
        """``update`` every state (feature name -> state) with its column of every batch of ``source``."""
        raise NotImplementedError

    def read_ahead(self, sides: list, batch_size: int):
        """Start reading the batches of each ``(source, columns)`` for a ``fill_sides`` of the same
        sources and columns, or None (here: each fill reads its own). Close what it returns."""
        return None

    def fill_sides(self, sides: list, batch_size: int, ahead=None) -> None:
        """``fill`` of each ``(source, states)`` pair, in turn (``ahead``: from ``read_ahead``)."""
        for source, states in sides:
            self.fill(source, states, batch_size)

    def count_features(self, sides: list, features: list[str], bins: int, others: dict | None = None):
        """``(combined ranges, [states of each side])`` of ``features`` (and of the ``others`` factories'
        states), each feature in one task: its range on every side, then its histograms, while its
        columns are hot. Only where every side is in memory; None otherwise, or where this executor
        has no such path (the caller then takes the two passes over every feature)."""
        return None

    def ranges(self, source, features: list[str], batch_size: int) -> dict:
        """The ``Range`` of each feature of ``source``."""
        from streamdrift.state import Range

        states = {f: Range() for f in features}
        self.fill(source, states, batch_size)
        return states

    def map_unordered(self, fn: Callable, items: Iterable, lost: Callable | None = None) -> Iterator[tuple[object, object]]:
        """``(item, fn(item))`` for every item, in completion order: here, on ``self.threads``
        threads (default one per CPU). Closing the iterator early (or Ctrl-C) drops what has
        not started. ``lost(item, message)``: the result of an item whose workers kept dying
        (on a cluster; default: raise), never called here."""
        from concurrent.futures import ThreadPoolExecutor, as_completed

        pool = ThreadPoolExecutor(max(1, getattr(self, "threads", None) or os.cpu_count() or 1))
        try:
            futures = {pool.submit(fn, item): item for item in items}
            for future in as_completed(futures):
                yield futures[future], future.result()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        pass

    def __exit__(self, *exc):
        self.close()


def is_dask_collection(obj) -> bool:
    """True for a dask DataFrame (or any dask collection), without importing dask."""
    return type(obj).__module__.split(".")[0] in ("dask", "dask_expr") and hasattr(obj, "__dask_graph__")


def reads_files(obj) -> bool:
    """True when ``open_source`` makes ``obj`` a source that decodes files (paths, '-')."""
    from streamdrift.io import FileSource

    if isinstance(obj, (list, tuple)):
        return bool(obj) and all(isinstance(p, (str, os.PathLike)) for p in obj)
    return isinstance(obj, (str, os.PathLike, FileSource))


def in_memory(sides: list) -> bool:
    """True when every side is an in-memory table (its columns can be read whole, any number of times)."""
    from streamdrift.io import TableSource

    return all(isinstance(side, TableSource) for side in sides)


def count_by_feature(sides: list, features: list[str], bins: int, others: dict | None, run: Callable) -> tuple:
    """``Executor.count_features`` over in-memory ``sides``, one task per feature, mapped with ``run``
    (``map``, or a thread pool's): states equal to the two passes' (exact merges, same values)."""
    tasks = [(f, None) for f in features] + list((others or {}).items())
    done = list(run(lambda task: _count_feature(sides, *task, bins), tasks))
    combined = {f: r for (f, _), (r, _) in zip(tasks, done) if r is not None}
    per_side = [{f: states[i] for (f, _), (_, states) in zip(tasks, done)} for i in range(len(sides))]
    return combined, per_side


def _count_feature(sides: list, feature: str, make, bins: int) -> tuple:
    """One feature over every side: ``(its combined Range, its Histogram on each side)``, or, for
    ``make`` (a state factory), ``(None, a state filled on each side)``."""
    from streamdrift.state import Histogram, Range
    from streamdrift.stats import binnable_edges

    columns = [side.table.column(feature) for side in sides]
    if make is not None:
        return None, [update_state(make(), column) for column in columns]
    combined = Range()
    for column in columns:
        update_state(combined, column)
    edges = binnable_edges(combined.lo, combined.hi, bins)[0]
    return combined, [update_state(Histogram(edges), column) for column in columns]


def update_state(state, column):
    """``state`` updated with every chunk of ``column`` (an Arrow array or chunked array)."""
    import pyarrow as pa

    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    for chunk in chunks:
        state.update(chunk)
    return state
