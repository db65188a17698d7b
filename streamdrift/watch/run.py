"""``watch()``: the one loop from sources through the ``Watcher`` to windows, with hooks for a front end.

Reading runs on a background thread, a few batches ahead of counting. The loop ends at the
end of the input or when ``stop`` is set (between batches, after standard input has handed
on what had arrived); the partial last window is yielded either way.
"""

import os
from collections.abc import Callable, Iterator

from streamdrift.defaults import BATCH_SIZE, BINS, THRESHOLD, WINDOW
from streamdrift.background import Background
from streamdrift.watch.reference import Reference, load_reference
from streamdrift.watch.sources import Problem, Stop, batches, check_sources
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
    batch_size: int = BATCH_SIZE,
    threads: int | None = None,
    follow: bool = False,
    poll_interval: float = 1.0,
    give_up_after: float = 600.0,
    on_problem: Callable[[Problem], None] | None = None,
    on_batch: Callable[[Watcher], None] | None = None,
    stop: Stop | None = None,
    stdin=None,
) -> Iterator[Window]:
    """Windows of ``sources`` (paths, directories, ``'-'``) scored against ``reference``, as they complete.

    ``reference`` is a saved profile, a ``Profile``, a loaded ``Reference``, or any input
    ``compare`` accepts. An unreadable file raises its DriftError unless ``on_problem`` is
    given (then it is passed there and skipped). ``on_batch(watcher)`` is called after each
    batch is counted (progress). ``stop`` ends the watch early (a signal handler may set it).
    """
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    sources = check_sources([str(s) for s in sources], follow)
    if not isinstance(reference, Reference):
        reference = load_reference(reference, columns=columns, edges=edges, bins=bins, batch_size=batch_size,
                                   threads=threads)
    stop = stop or Stop()
    items = Background(batches(sources, reference.features, batch_size=batch_size, follow=follow,
                               poll_interval=poll_interval, give_up_after=give_up_after, stop=stop, stdin=stdin))
    try:
        with Watcher(reference, window=window, edges=edges, bins=bins, threshold=threshold, threads=threads) as watcher:
            for item in items:
                if isinstance(item, Problem):
                    if on_problem is None:
                        raise item.error
                    on_problem(item)
                    continue
                yield from watcher.feed(item)
                if on_batch is not None:
                    on_batch(watcher)
            last = watcher.finish()
            if last is not None:
                yield last
    finally:
        stop.set()  # wakes a reader waiting on standard input or a directory
        items.close()
