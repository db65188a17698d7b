"""The parent's read loop: a child's output pipes, capped as they arrive, until it has ended."""

from __future__ import annotations

import os
import selectors
import time

EXIT_GRACE_S = 1.0
KILL_WAIT_S = 10.0


def collect(streams: dict[str, int], exit_fd: int, on_exit, deadline: float, kill, limits: dict[str, int]):
    """Read ``streams`` (name -> fd) until they close and the child has ended.

    Keeps ``limits[name]`` bytes of each stream and discards the rest as it arrives.
    ``exit_fd`` becomes readable when the child has ended; ``on_exit()`` is then called
    (it must kill what the child left). At ``deadline`` ``kill()`` is called. After the
    child ended, pipes still held open elsewhere are abandoned after a short grace.
    Returns ``(buffers, truncated, timed_out, exited)``; ``exited`` is False only when the
    end was never signalled even after the kill. Closes the stream fds, not ``exit_fd``.
    """
    sel = selectors.DefaultSelector()
    bufs = {name: bytearray() for name in streams}
    truncated = timed_out = False
    ended_at = killed_at = None
    try:
        _register(sel, streams, exit_fd)
        open_streams = len(streams)
        while open_streams or ended_at is None:
            now = time.monotonic()
            limit = _limit(ended_at, killed_at, deadline)
            if now >= limit:
                if ended_at is not None or killed_at is not None:
                    break
                timed_out = True
                kill()
                killed_at = now
                continue
            for key, _ in sel.select(timeout=limit - now):
                if key.data is None:
                    sel.unregister(exit_fd)
                    on_exit()
                    ended_at = time.monotonic()
                    continue
                closed, cut = _take(key, bufs, limits)
                truncated = truncated or cut
                if closed:
                    sel.unregister(key.fd)
                    open_streams -= 1
    finally:
        sel.close()
        for fd in streams.values():
            try:
                os.close(fd)
            except OSError:
                pass
    return bufs, truncated, timed_out, ended_at is not None


def _register(sel, streams: dict[str, int], exit_fd: int) -> None:
    """Watch each stream (non-blocking, keyed by its name) and the end signal (keyed by None)."""
    for name, fd in streams.items():
        os.set_blocking(fd, False)
        sel.register(fd, selectors.EVENT_READ, name)
    sel.register(exit_fd, selectors.EVENT_READ, None)


def _take(key, bufs: dict[str, bytearray], limits: dict[str, int]) -> tuple[bool, bool]:
    """Read what the stream of ``key`` has, keeping at most its limit: ``(closed, truncated)``."""
    chunk = _read(key.fd)
    if chunk is None:
        return False, False
    if not chunk:
        return True, False
    buf = bufs[key.data]
    room = limits[key.data] - len(buf)
    if len(chunk) > room:
        buf += chunk[: max(room, 0)]
        return False, True
    buf += chunk
    return False, False


def _limit(ended_at, killed_at, deadline: float) -> float:
    """Until when to wait now: a short grace once ended, a while after a kill, else the deadline."""
    if ended_at is not None:
        return ended_at + EXIT_GRACE_S
    if killed_at is not None:
        return killed_at + KILL_WAIT_S
    return deadline


def _read(fd: int) -> bytes | None:
    try:
        return os.read(fd, 65536)
    except BlockingIOError:
        return None
    except OSError:
        return b""
