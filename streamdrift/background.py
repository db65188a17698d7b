"""Reading ahead: an iterable consumed on a daemon thread, a few items ahead of its consumer."""

import contextvars
import queue
import threading
from collections.abc import Iterable


class Background:
    """Iterates ``items`` on a daemon thread, ``depth`` ahead, so reading overlaps counting.

    Waiting for the next item can be interrupted by a signal in the main thread; ``close``
    never waits on a reader blocked in ``read`` (standard input), it only asks it to stop.
    """

    def __init__(self, items: Iterable, depth: int = 2, stop: threading.Event | None = None):
        self._q: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = stop or threading.Event()
        self._done = object()
        context = contextvars.copy_context()  # errors raised there word options as the caller's do (errors.option)
        self._thread = threading.Thread(target=context.run, args=(self._run, iter(items)), name="streamdrift-read",
                                        daemon=True)
        self._thread.start()

    def _run(self, items):
        try:
            for item in items:
                if not self._put((item, None)):
                    return
            self._put((self._done, None))
        except BaseException as exc:  # handed to the consumer, raised there
            self._put((self._done, exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    def _put(self, entry) -> bool:
        while not self._stop.is_set():
            try:
                self._q.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self):
        while True:
            item, exc = self._q.get()
            if exc is not None:
                raise exc
            if item is self._done:
                return
            yield item

    def close(self):
        self._stop.set()
        self._thread.join(0.2)
