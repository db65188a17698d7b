"""``--follow``: a directory polled for new data files, each handed on once, in name order, when complete.

A file is complete when its size and modification time did not change since the previous
poll and its format's trailer is there (the Parquet footer, the Arrow file magic, the Arrow
stream's end marker). Which files count is ``files.listing``'s rule, as for any directory.
"""

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from streamdrift.errors import DriftError
from streamdrift.files import IPC_FILE, IPC_STREAM, PARQUET, listing, sniff


class Follower:
    """Polls a directory for new data files and hands each on once, in name order, when complete.

    A file still being written is waited for, and later files wait behind it, so the order
    holds; one that stays incomplete and unchanged for ``give_up_after`` seconds is handed on
    with its error, to be skipped. ``stop`` (anything with ``is_set()`` and ``wait(timeout)``,
    such as a ``threading.Event``) ends the polling.
    """

    def __init__(self, folder: Path, poll_interval: float = 1.0, give_up_after: float = 600.0, stop=None,
                 done: set[Path] | None = None):
        self.folder = folder
        self.poll_interval = poll_interval
        self.give_up_after = give_up_after
        self.stop = stop if stop is not None else threading.Event()
        self.done: set[Path] = set(done or ())  # handed on already (or by an earlier watch)
        self._seen: dict[Path, tuple[int, int, float]] = {}

    def files(self) -> Iterator[tuple[Path, DriftError | None]]:
        """``(path, None)`` for every complete file, ``(path, error)`` for one given up on, until ``stop``."""
        while not self.stop.is_set():
            pending = [p for p in listing(self.folder) if p not in self.done]
            states = [self.ready(p) for p in pending]  # every file's size is watched at every poll
            for path, state in zip(pending, states):
                if state is None or self.stop.is_set():
                    break
                self.done.add(path)
                self._seen.pop(path, None)
                yield path, (state if isinstance(state, DriftError) else None)
            self.stop.wait(self.poll_interval)

    def ready(self, path: Path):
        """True when complete, None to wait, a DriftError to skip it."""
        try:
            st = path.stat()
        except OSError:
            return None
        now = time.monotonic()
        key = (st.st_size, st.st_mtime_ns)
        before = self._seen.get(path)
        if before is None or before[:2] != key:
            self._seen[path] = (*key, now)
            return None
        if complete(path):
            return True
        if now - before[2] >= self.give_up_after:
            return DriftError(
                f"'{path}' is still incomplete (no Parquet footer or Arrow end marker) after "
                f"{self.give_up_after:g} s without change"
            )
        return None


def complete(path: Path) -> bool:
    """True when a file's format trailer is present (a writer has finished it)."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            f.seek(0, os.SEEK_END)
            size = f.tell()
            if size < 12:
                return False
            f.seek(size - 8)
            tail = f.read(8)
    except OSError:
        return False
    fmt = sniff(head)
    if fmt == PARQUET:
        if tail[4:] != b"PAR1" or int.from_bytes(tail[:4], "little") > size - 12:
            return False
        try:
            pq.read_metadata(path)
        except (pa.ArrowException, OSError):
            return False
        return True
    if fmt == IPC_FILE:
        return tail[2:] == b"ARROW1"
    if fmt == IPC_STREAM:
        return _stream_ended(path, size)
    return True  # not a data file: reading it reports the problem


_END_OF_STREAM = (b"\xff\xff\xff\xff\x00\x00\x00\x00", b"\x00\x00\x00\x00")  # current, pre-1.0


def _stream_ended(path: Path, size: int) -> bool:
    """True when an Arrow IPC stream file's messages are whole and followed by the end-of-stream marker.

    The last bytes alone cannot tell: a batch body may end with the marker's bytes. The
    messages are walked (memory-mapped, bodies not read) to where the last one ends.
    """
    try:
        with pa.memory_map(str(path)) as f:
            reader = pa.ipc.MessageReader.open_stream(f)
            end = 0
            while True:
                try:
                    reader.read_next_message()
                except StopIteration:
                    break
                end = f.tell()
            f.seek(end)
            rest = f.read(size - end)
    except (pa.ArrowException, OSError, ValueError):
        return False
    return end > 0 and rest in _END_OF_STREAM
