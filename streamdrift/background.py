"""Reading ahead: an iterable consumed on a daemon thread, ahead of its consumer, in bounded memory."""

import contextvars
import threading
from collections import deque
from collections.abc import Iterable

READ_AHEAD_BYTES = 64 << 20
"""Decoded data the reader may hold ahead of its consumer: the next row groups are decoded while
this one is counted, whatever the batch size, and memory stays bounded in bytes."""

READ_AHEAD_ITEMS = 64
"""Items (batches) the reader may hold ahead, whatever their size."""


class Background:
    """Iterates ``items`` on a daemon thread ahead of the consumer, so reading overlaps counting.

    The reader holds at most ``depth`` items not yet consumed, and at most ``max_bytes`` of them
    (an item's ``size(item)``, by default its ``nbytes``, such as a record batch's; one item
    always fits, however large).
    Waiting for the next item can be interrupted by a signal in the main thread; ``close``
    never waits on a reader blocked in ``read`` (standard input), it only asks it to stop.
    """

    def __init__(self, items: Iterable, depth: int = READ_AHEAD_ITEMS, stop: threading.Event | None = None,
                 max_bytes: int = READ_AHEAD_BYTES, size=None):
        self._depth = max(1, depth)
        self._max_bytes = max_bytes
        self._size = size or (lambda item: getattr(item, "nbytes", 0))  # an item's bytes
        self._held = 0  # bytes of the items waiting in _ready
        self._ready: deque = deque()
        self._changed = threading.Condition()
        self._stop = stop or threading.Event()
        self._done = object()
        context = contextvars.copy_context()  # errors raised there word options as the caller's do (errors.option)
        self._thread = threading.Thread(target=context.run, args=(self._run, iter(items)), name="streamdrift-read",
                                        daemon=True)
        self._thread.start()

    def _run(self, items):
        try:
            for item in items:
                if not self._put(item, None):
                    return
            self._put(self._done, None)
        except BaseException as exc:  # handed to the consumer, raised there
            self._put(self._done, exc)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    def _full(self, size: int) -> bool:
        return bool(self._ready) and (len(self._ready) >= self._depth or self._held + size > self._max_bytes)

    def _put(self, item, exc) -> bool:
        """Queue ``item`` once there is room; False when asked to stop first."""
        size = self._size(item) if exc is None and item is not self._done else 0
        with self._changed:
            while self._full(size):
                if self._stop.is_set():
                    return False
                self._changed.wait(0.1)
            if self._stop.is_set():
                return False
            self._ready.append((item, exc, size))
            self._held += size
            self._changed.notify_all()
        return True

    @property
    def ahead(self) -> int:
        """Items read and not yet consumed."""
        with self._changed:
            return len(self._ready)

    def __iter__(self):
        while True:
            with self._changed:
                while not self._ready:
                    self._changed.wait()
                item, exc, size = self._ready.popleft()
                self._held -= size
                self._changed.notify_all()
            if exc is not None:
                raise exc
            if item is self._done:
                return
            yield item

    def close(self):
        self._stop.set()
        with self._changed:
            self._changed.notify_all()
        self._thread.join(0.2)


class Interleaved:
    """The items of several iterables (``Background`` readers, each on its own thread), one of each
    in turn, until every one is exhausted; ``close`` closes them all."""

    def __init__(self, readers: list):
        self._readers = readers

    def __iter__(self):
        pending = [iter(r) for r in self._readers]
        while pending:
            for it in list(pending):
                item = next(it, _END)
                if item is _END:
                    pending.remove(it)
                else:
                    yield item

    def close(self):
        for reader in self._readers:
            reader.close()


_END = object()
