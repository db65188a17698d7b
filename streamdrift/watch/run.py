"""``watch()``: the one loop from sources through the ``Watcher`` to windows, with hooks for a front end.

Reading runs on a background thread, a few batches ahead of counting. The loop ends at the
end of the input or when ``stop`` is set (between batches, after standard input has handed
on what had arrived); the partial last window is yielded either way.
"""

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from streamdrift.background import Background
from streamdrift.defaults import BATCH_SIZE, BINS, MAX_CATEGORIES, THRESHOLD, WINDOW
from streamdrift.convert import CATEGORICAL
from streamdrift.errors import DriftError
from streamdrift.files import listing
from streamdrift.watch.checkpoint import Checkpoint, Position
from streamdrift.watch.reference import STDIN, Reference, load_reference
from streamdrift.watch.sources import (STDIN_NAME, Closed, Opened, Problem, Resume, Stop, batches, check_sources,
                                       data_batches)
from streamdrift.watch.windows import Watcher, Window


def watch(
    reference,
    sources,
    *,
    window: int = WINDOW,
    edges: str = "combined",
    bins: int = BINS,
    threshold: float = THRESHOLD,
    columns: list[str] | None = None,
    categorical: list[str] | None = None,
    max_categories: int = MAX_CATEGORIES,
    batch_size: int = BATCH_SIZE,
    threads: int | None = None,
    follow: bool = False,
    poll_interval: float = 1.0,
    give_up_after: float = 600.0,
    state=None,
    on_problem: Callable[[Problem], None] | None = None,
    on_batch: Callable[[Watcher], None] | None = None,
    stop: Stop | None = None,
    stdin=None,
) -> Iterator[Window]:
    """Windows of ``sources`` (paths, directories, ``'-'``) scored against ``reference``, as they complete.

    ``reference`` is a saved profile, a ``Profile``, a loaded ``Reference``, or any input
    ``compare`` accepts; so may ``sources`` be, instead of paths: one in-memory dataset (a
    pyarrow Table or RecordBatchReader, a pandas or polars DataFrame, a DuckDB relation).
    Features are chosen as ``compare`` chooses them; ``categorical`` names integer columns
    to count as categories, and a categorical feature with more than ``max_categories``
    categories (in the reference or a window) has no KL. An unreadable file raises its DriftError unless ``on_problem`` is
    given (then it is passed there and skipped). ``on_batch(watcher)`` is called after each
    batch is counted (progress). ``stop`` ends the watch early (a signal handler may set it).
    ``state`` is a file where the watch saves its place after each window (``checkpoint.py``)
    and continues from when restarted.
    """
    data, sources = _data_or_paths(sources, follow, state)
    _expect(sources)
    if not isinstance(reference, Reference):
        reference = load_reference(reference, columns=columns, categorical=categorical, max_categories=max_categories,
                                   edges=edges, bins=bins, batch_size=batch_size, threads=threads)
    settings = dict(window=window, edges=edges, bins=bins, threshold=threshold, max_categories=max_categories)
    place = None if state is None else Place(open_state(state, reference, sources, **settings))
    start = place.checkpoint.position if place is not None else Position()
    stop = stop or Stop()
    resume = place.resume() if place is not None else None
    items = Background(data_batches(data, reference.features, batch_size, reference.check) if data is not None else
                       batches(sources, reference.features, check=reference.check, batch_size=batch_size,
                               follow=follow, poll_interval=poll_interval, give_up_after=give_up_after, stop=stop,
                               stdin=stdin, resume=resume))
    try:
        with Watcher(reference, **settings, threads=threads, first_row=start.row, first_window=start.window) as watcher:
            problems = yield from _windows(items, watcher, place, on_problem, on_batch)
            if watcher.rows == 0 and not problems and not stop.is_set():
                names = ", ".join(_named(s) for s in sources) if data is None else "current"
                raise DriftError(f"no rows in {names}; a watch needs at least one row")
    finally:
        stop.set()  # wakes a reader waiting on standard input or a directory
        items.close()


def _data_or_paths(sources, follow: bool, state) -> tuple[object, list[str]]:
    """``(None, checked paths)``, or ``(data, [])`` for one in-memory dataset."""
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    if isinstance(sources, (list, tuple)) and all(isinstance(s, (str, os.PathLike)) for s in sources):
        return None, check_sources([str(s) for s in sources], follow)
    if follow or state is not None:
        raise DriftError("follow=True and state= watch files; pass paths, not in-memory data")
    return sources, []


def _expect(sources: list[str]) -> None:
    """Start importing the numba kernels now, on a thread of their own, when the files already there
    hold more values than the numpy path's budget (``_kernels.expect``; about one per 8 bytes of
    Parquet): the reference loads and the first batches are counted meanwhile, with identical results."""
    size = 0
    for s in sources:
        path = Path(s)
        if s != STDIN and (path.is_file() or path.is_dir()):
            size += sum(_size(p) for p in (listing(path) if path.is_dir() else [path]))
    if size:
        from streamdrift._kernels import expect

        threading.Thread(target=expect, args=(size // 8,), name="streamdrift-kernels", daemon=True).start()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _named(source: str) -> str:
    return STDIN_NAME if source == STDIN else f"'{source}'"


def _windows(items, watcher: Watcher, place, on_problem, on_batch):
    """Yields each window as it completes; returns how many problems were passed to ``on_problem``."""
    problems = 0
    for item in items:
        if isinstance(item, (Opened, Closed)):
            place.mark(item, watcher.rows)
        elif isinstance(item, Problem):
            if on_problem is None:
                raise item.error
            on_problem(item)
            problems += 1
        else:
            for done in watcher.feed(item):
                yield done
                if place is not None:
                    place.save(done)  # after the window is out: a crash before that repeats it
            if on_batch is not None:
                on_batch(watcher)
    last = watcher.finish()
    if last is not None:
        yield last
    return problems


def open_state(path, reference: Reference, sources, window, edges, bins, threshold, max_categories) -> Checkpoint:
    """The saved place of a watch of exactly these settings (a new one when ``path`` does not exist)."""
    if STDIN in sources:
        raise DriftError("--state keeps a watch's place in files and directories; standard input cannot be "
                         "read again: name the files, or leave out --state")
    settings = dict(reference=reference.fingerprint(), features=reference.features, window=window, edges=edges,
                    bins=bins, threshold=threshold, sources=[str(Path(s).resolve()) for s in sources])
    if CATEGORICAL in reference.kinds.values():  # (a key only then: numeric watches keep their saved places)
        settings["max_categories"] = max_categories
    return Checkpoint.open(path, settings)


class Place:
    """Where the watch stands in its files (from ``Opened``/``Closed`` marks), saved after each window."""

    def __init__(self, checkpoint: Checkpoint):
        self.checkpoint = checkpoint
        self.done = list(checkpoint.done)
        position = checkpoint.position
        self.file, self.first_row = position.file, position.row - position.offset

    def resume(self) -> Resume:
        position = self.checkpoint.position
        return Resume(set(self.done), position.file, position.offset)

    def mark(self, item, rows: int) -> None:
        """Note a file opened (its row 0 is row ``rows - skipped`` of the stream) or read to its end."""
        if isinstance(item, Opened):
            self.file, self.first_row = item.path, rows - item.skipped
        else:
            self.done.append(item.path)

    def save(self, window: Window) -> None:
        """The next window begins where ``window`` ends: in the file being read (every file done is before it)."""
        self.checkpoint.done = list(self.done)
        self.checkpoint.position = Position(window.index + 1, window.end_row, self.file, window.end_row - self.first_row)
        self.checkpoint.save()
