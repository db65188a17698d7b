"""``DaskExecutor``: fill states on a Dask cluster (``--dask ADDRESS``, ``compare(..., dask=...)``).

How a source of files is counted (docs/scale.md):
1. a worker lists each input path (directories of part files) and, per file, reads the
   footer: schema, rows per row group, trusted min/max statistics;
2. each partition (a file, or a run of its row groups) becomes one task that fills fresh
   copies of the states; what comes back is the states, a few hundred bytes per feature;
3. the partitions' states are summed in a tree (``SPLIT_EVERY`` at a time) on the workers
   and only the root travels to the client.
A dask DataFrame is counted the same way, one task per partition. Data that is already in
this process (tables, pandas frames, standard input) is counted here, on threads.

Errors are one line (``DriftError``): a scheduler that cannot be reached within the timeout,
a worker that cannot read a path (named with the path), workers that keep dying. Ctrl-C
(or any exception while waiting) cancels the futures before it propagates.
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace

from streamdrift.convert import is_categorical, is_feature_type, is_numeric
from streamdrift.errors import DriftError
from streamdrift.executor import DASK_TIMEOUT, Executor, is_dask_collection, reads_files
from streamdrift.files import check_columns
from streamdrift.io import Source, paths_name
from streamdrift.partitions import PARTITION_ROWS, FileInfo, Partition, fill_frame, fill_partition, list_files, merge, read_footer, split

SPLIT_EVERY = 8  # partitions' states summed per reduction task


def _dask_modules():
    try:
        import dask
        import distributed
    except ImportError:
        raise DriftError(
            "--dask needs dask and distributed: pip install 'streamdrift[dask]' (on the workers too)"
        ) from None
    return dask, distributed


class ClusterFiles(Source):
    """Files read by the workers: the client holds only their ``FileInfo`` (footers)."""

    def __init__(self, infos: list[FileInfo], name: str, partition_rows: int = PARTITION_ROWS, accept=is_numeric):
        self.infos = infos
        self.name = name
        self.schema = infos[0].schema
        self.accept = accept
        self.partition_rows = partition_rows

    def partitions(self, columns: list[str]) -> list[Partition]:
        """Every file's partitions for reading ``columns``, after checking that every file has them
        with a type this source accepts (``FileSource`` checks the same while reading)."""
        out = []
        for info in self.infos:
            check_columns(info.schema, columns, f"'{info.path}'", accept=self.accept)
            strings = tuple(c for c in columns if is_categorical(info.schema.field(c).type))  # read as dictionaries
            out.extend(replace(part, dictionary=strings) for part in split(info, self.partition_rows))
        return out

    def statistics_range(self, column):
        lo, hi = float("inf"), float("-inf")
        for info in self.infos:
            found = info.statistics.get(column)
            if found is None:
                return None
            lo, hi = min(lo, found[0]), max(hi, found[1])
        return (lo, hi) if lo <= hi else None


class FrameSource(Source):
    """A dask DataFrame: its schema from its metadata, its partitions counted on the cluster."""

    def __init__(self, frame, role: str):
        from streamdrift.io import open_source

        self.frame = frame
        self.name = role
        self.schema = open_source(frame._meta, role).schema


class DaskExecutor(Executor):
    """Fills states on a Dask cluster through ``client`` (None: dask's own scheduler, for
    dask DataFrames when no distributed client exists)."""

    def __init__(self, client, *, owned=(), threads: int | None = None, partition_rows: int = PARTITION_ROWS):
        self.client = client
        self._owned = list(owned)  # what close() closes: a client and cluster we started
        self.threads = threads
        self.partition_rows = partition_rows

    @classmethod
    def connect(cls, dask=None, *, timeout: float = DASK_TIMEOUT, threads: int | None = None) -> "DaskExecutor":
        """``dask``: a ``distributed.Client``, ``"local"``/``"local:N"`` (a LocalCluster started here
        and closed with the executor), a scheduler address, or None (the default client, if any)."""
        _, distributed = _dask_modules()
        if isinstance(dask, distributed.Client):
            return cls(dask, threads=threads)
        if dask is None:
            try:
                return cls(distributed.default_client(), threads=threads)
            except ValueError:
                return cls(None, threads=threads)
        address = str(dask)
        if address == "local" or address.startswith("local:"):
            return cls._local(address, timeout, threads, distributed)
        try:
            client = distributed.Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise DriftError(
                f"cannot reach the Dask scheduler at {address} within {timeout:g} s ({_one_line(exc)}); "
                "check the address (tcp://host:8786) or use --dask local"
            ) from None
        return cls(client, owned=[client], threads=threads)

    @classmethod
    def _local(cls, address: str, timeout: float, threads, distributed) -> "DaskExecutor":
        count = address.partition(":")[2]
        if count and not (count.isdigit() and int(count) >= 1):
            raise DriftError(f"--dask {address}: the number of local workers must be a whole number >= 1, e.g. local:2")
        cluster = distributed.LocalCluster(
            n_workers=int(count) if count else (os.cpu_count() or 1), threads_per_worker=1, processes=True,
            host="127.0.0.1", dashboard_address=":0", silence_logs=logging.CRITICAL,
        )
        try:
            client = distributed.Client(cluster, timeout=timeout, set_as_default=False)
        except BaseException:
            cluster.close()
            raise
        return cls(client, owned=[client, cluster], threads=threads)

    def describe(self) -> str:
        """``4 threads of 2 Dask workers at tcp://...``: how much runs at once, and where."""
        if self.client is None:
            return "dask's own scheduler"
        threads = self.client.nthreads()
        return (f"{sum(threads.values())} threads of {len(threads)} Dask worker{'s' * (len(threads) != 1)} "
                f"at {self.client.scheduler.address}")

    def close(self) -> None:
        while self._owned:
            self._owned.pop(0).close()

    def open(self, obj, role: str, features: bool = False):
        if is_dask_collection(obj):
            return FrameSource(obj, role)
        if self.client is None or isinstance(obj, Source) or not reads_files(obj) or str(obj) == "-":
            return super().open(obj, role, features)  # data on this machine is counted here
        paths = [str(obj)] if isinstance(obj, (str, os.PathLike)) else [str(p) for p in obj]
        files = [f for listed in self._wait(self.client.map(list_files, paths, pure=False)) for f in listed]
        infos = self._wait(self.client.map(read_footer, files, pure=False))
        return ClusterFiles(infos, paths_name(obj), self.partition_rows, is_feature_type if features else is_numeric)

    def fill(self, source, states: dict, batch_size: int) -> None:
        """Fill ``states`` (fresh ones, as their constructors make them: each partition starts
        from a copy) from ``source``, partitions on the cluster, the sum added here."""
        self.fill_sides([(source, states)], batch_size)

    def fill_sides(self, sides: list, batch_size: int, ahead=None) -> None:
        """``fill`` of every ``(source, states)`` pair in one graph: the cluster runs the sides'
        partitions together, with no wait for one side's last tasks and sum before the next starts."""
        graphs = []
        for source, states in sides:
            tasks = self._tasks(source, states)
            if tasks is None:
                from streamdrift.counting import Counter

                with Counter(self.threads, decoding=reads_files(source)) as counter:
                    counter.fill(source, states, batch_size)
            elif tasks:
                graphs.append((states, self._tree(tasks, dict(states), batch_size)))
        if not graphs:
            return
        totals = self._compute([root for _, root in graphs])
        for (states, _), total in zip(graphs, totals):
            for name in states:
                states[name] += total[name]

    def _tasks(self, source, states: dict) -> list | None:
        """``(function, partition)`` per task of ``source``; None for a source counted here."""
        if isinstance(source, ClusterFiles):
            return [(fill_partition, part) for part in source.partitions(list(states))]
        if isinstance(source, FrameSource):
            columns = [c for c in source.frame.columns if str(c) in states]  # labels may be numbers
            return [(fill_frame, part) for part in source.frame[columns].to_delayed()]
        return None

    def map_unordered(self, fn, items, lost=None):
        """``(item, fn(item))`` with ``fn`` run on the workers, in completion order. A task whose
        worker dies is run again on another (Dask's retries); one whose workers kept dying is
        ``lost(item, message)``, or an error without ``lost``. The futures left are cancelled on
        any error, Ctrl-C, or when the iterator is closed early."""
        from distributed import KilledWorker, as_completed

        if self.client is None:
            yield from super().map_unordered(fn, items, lost)
            return
        items = list(items)
        futures = self.client.map(fn, items, pure=False)
        index = {future.key: i for i, future in enumerate(futures)}
        try:
            with self.client.as_current():  # as_completed looks for the default client
                for future in as_completed(futures):
                    item = items[index[future.key]]
                    if lost is not None and future.status == "error" and isinstance(future.exception(), KilledWorker):
                        yield item, lost(item, _died(future.exception()))
                        continue
                    yield item, self._wait(future)
        finally:
            pending = [f for f in futures if not f.done()]
            if pending:
                self.client.cancel(pending, force=True)

    @staticmethod
    def _tree(tasks, template: dict, batch_size: int):
        """The delayed sum of the tasks' states, ``SPLIT_EVERY`` at a time, on the workers."""
        import dask

        level = [dask.delayed(fn, pure=False)(part, template, batch_size) for fn, part in tasks]
        while len(level) > 1:
            level = [dask.delayed(merge, pure=False)(*level[i:i + SPLIT_EVERY]) for i in range(0, len(level), SPLIT_EVERY)]
        return level[0]

    def _compute(self, roots: list) -> list:
        if self.client is None:
            import dask

            return list(dask.compute(*roots))
        return self._wait(self.client.compute(roots))

    def _wait(self, futures):
        """The results of ``futures`` (one or a list); on any error or Ctrl-C they are cancelled first."""
        from distributed import CancelledError, KilledWorker

        try:
            return self.client.gather(futures)
        except KilledWorker as exc:
            raise DriftError(f"{_died(exc)}; nothing was counted twice or lost, "
                             "but the run stopped: check the workers' memory and logs, then run again") from None
        except CancelledError:
            raise DriftError("the Dask scheduler cancelled the work (was it restarted?); run again") from None
        finally:
            pending = [f for f in (futures if isinstance(futures, list) else [futures]) if not f.done()]
            if pending:
                self.client.cancel(pending, force=True)


def _died(exc: BaseException) -> str:
    return f"Dask workers died running {_one_line(exc)}"


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
