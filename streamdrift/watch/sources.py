"""Where a watch's rows come from: files, directories and standard input, as one stream of batches.

A directory is read in name order (with ``follow``, then polled for new files: see
``follow.py``). Standard input is an Arrow IPC stream read batch by batch as it arrives, or
Parquet / Arrow file bytes copied to an unlinked temporary file (``io.spool_stdin``). A file
that cannot be read becomes a ``Problem`` item in the stream; the caller decides to skip or
stop. A ``Stop`` ends the stream between batches: standard input first hands on every byte
already in its pipe, so every row that arrived before the stop is counted.
"""

import array
import fcntl
import io
import os
import select
import termios
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from streamdrift.convert import is_categorical, is_feature_type, is_numeric
from streamdrift.defaults import BATCH_SIZE
from streamdrift.errors import DriftError
from streamdrift.files import IPC_STREAM, check_columns, cut_stream, data_files, sniff
from streamdrift.io import FileSource, open_source
from streamdrift.stream_types import keeping_types
from streamdrift.spool import spool_stdin
from streamdrift.watch.follow import Follower
from streamdrift.watch.reference import STDIN

STDIN_NAME = "standard input"


@dataclass
class Problem:
    """A file (or standard input) that could not be read; ``rows`` were read from it before."""

    where: str
    error: DriftError
    rows: int = 0


class Stop:
    """A request to stop reading that a signal handler may make: no lock is taken.

    ``set`` raises a flag and writes a byte to a pipe, so a reader waiting in ``select`` on
    standard input or between polls of a directory wakes at once.
    """

    def __init__(self):
        self.signum: int | None = None
        self._set = False
        self._r, self._w = os.pipe()
        os.set_blocking(self._w, False)

    def set(self, signum: int | None = None) -> None:
        if self._set:
            return
        self.signum, self._set = signum, True
        try:
            os.write(self._w, b"\0")
        except OSError:
            pass

    def is_set(self) -> bool:
        return self._set

    def wait(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds, less if stopped; True when stopped."""
        if not self._set:
            select.select([self._r], [], [], timeout)
        return self._set

    def fileno(self) -> int:
        return self._r

    def __del__(self):
        for fd in (self._r, self._w):
            try:
                os.close(fd)
            except OSError:
                pass


def check_sources(sources: list[str], follow: bool) -> list[str]:
    """The SOURCE arguments, checked before anything is read (default: standard input)."""
    sources = list(sources) or [STDIN]
    if sources.count(STDIN) > 1:
        raise DriftError("standard input ('-') can be given only once")
    for s in sources:
        if s != STDIN and not Path(s).exists():
            raise DriftError(f"cannot read '{s}': no such file or directory")
    if follow and (len(sources) != 1 or sources[0] == STDIN or not Path(sources[0]).is_dir()):
        raise DriftError(f"--follow watches one directory for new files; got {' '.join(sources)}")
    return sources


@dataclass
class Opened:
    """Marks (with ``resume``): the batches of ``path`` follow, less its first ``skipped`` rows."""

    path: str
    skipped: int = 0


@dataclass
class Closed:
    """Marks (with ``resume``): ``path`` was read to its end (or reported as a Problem)."""

    path: str


@dataclass
class Resume:
    """Where an earlier watch stopped: files ``done``, and the rows of ``file`` before ``offset`` already read."""

    done: set[str]
    file: str | None = None
    offset: int = 0


def batches(
    sources: list[str],
    features: list[str],
    *,
    batch_size: int = BATCH_SIZE,
    follow: bool = False,
    poll_interval: float = 1.0,
    give_up_after: float = 600.0,
    stop: Stop | None = None,
    stdin=None,
    resume: Resume | None = None,
    check=None,
) -> Iterator[pa.RecordBatch | Problem | Opened | Closed]:
    """Record batches (only ``features``) of every source in order, and a ``Problem`` per unreadable one.

    A directory is read in name order; with ``follow`` it is then polled for new files,
    each read once, in name order, when complete (see ``Follower``). The first data read
    fixes each feature's type; a later file that changes it is a ``Problem``, not mixed in.
    With ``resume``, files done are skipped, the rows already read of the file where it
    stopped are left out, and each file's items come between ``Opened`` and ``Closed`` marks.
    ``check(schema, where)`` (the reference's ``check``) checks each input's column kinds; without
    it, every feature must be numeric.
    """
    stop = stop or Stop()
    types: dict[str, pa.DataType] = {}
    for s in sources:
        if stop.is_set():
            return
        if s == STDIN:
            yield from stdin_batches(features, batch_size, stdin or sys.stdin.buffer, types, stop, check)
            continue
        done = {Path(p) for p in resume.done} if resume is not None else set()
        paths = _paths(Path(s), follow, poll_interval, give_up_after, stop, done)
        yield from _read(paths, features, batch_size, types, stop, resume, check)


def _paths(source: Path, follow, poll_interval, give_up_after, stop, done) -> Iterator[tuple[Path, DriftError | None]]:
    """The files of one SOURCE, each with the error that makes it unreadable, or None."""
    if follow:
        yield from Follower(source, poll_interval, give_up_after, stop, done).files()
        return
    try:
        files = data_files(source)
    except DriftError as exc:
        yield source, exc
        return
    for path in files:
        yield path, None


def _read(paths, features, batch_size, types, stop: Stop, resume: Resume | None, check):
    for path, error in paths:
        if stop.is_set():
            return
        key = str(path)
        if resume is not None and key in resume.done:
            continue
        skip = resume.offset if resume is not None and key == resume.file else 0
        if resume is not None:
            yield Opened(key, skip)
        if error is not None:
            yield Problem(f"'{path}'", error)
        else:
            yield from file_batches(path, features, batch_size, types, stop, skip=skip, check=check)
        if resume is not None and not stop.is_set():
            yield Closed(key)


def file_batches(
    path: Path, features: list[str], batch_size: int, types: dict | None = None, stop: Stop | None = None,
    name: str | None = None, spool=None, skip: int = 0, check=None,
) -> Iterator[pa.RecordBatch | Problem]:
    """One file's batches, less its first ``skip`` rows, then a ``Problem`` if it could not be read
    (to its end) or changes a type."""
    where = name or f"'{path}'"
    rows = 0
    try:
        with FileSource([path], name=where, spool=spool, accept=_accepted(check)) as source:
            if check is not None:
                check(source.schema, where)
            batches = source.batches(features, batch_size)
            for batch in keeping_types(batches, source.schema, _typed(features, source.schema), {} if types is None
                                       else types, where):
                rows += batch.num_rows
                if rows <= skip:
                    continue
                if rows - batch.num_rows < skip:
                    batch = batch.slice(skip - (rows - batch.num_rows))
                yield batch
                if stop is not None and stop.is_set():
                    return
    except DriftError as exc:
        yield Problem(where, exc, rows)


def _typed(features: list[str], schema: pa.Schema) -> list[str]:
    """The features whose type must stay the first file's: not the categories, counted by value whatever
    their layout (a part file of strings may follow one of dictionaries)."""
    return [f for f in features if schema.get_field_index(f) < 0 or not is_categorical(schema.field(f).type)]


def _accepted(check):
    """The column types read: numbers, or (when ``check`` checks each feature's kind) every feature type."""
    return is_numeric if check is None else is_feature_type


def stdin_batches(features, batch_size, stdin, types=None, stop: Stop | None = None,
                  check=None) -> Iterator[pa.RecordBatch | Problem]:
    """Standard input's batches: an Arrow IPC stream as it arrives, else Parquet or Arrow file bytes, spooled."""
    raw = StdinReader(stdin, stop)
    head = raw.read_head(8)
    fmt = sniff(head)
    if not head:  # nothing piped in: a usage error, not an unreadable file to skip
        if not raw.stopped:
            raise DriftError("standard input is empty; pipe an Arrow IPC stream or Parquet into it")
        return
    if fmt is None:
        yield Problem(STDIN_NAME, DriftError(
            f"standard input is not an Arrow IPC stream or Parquet (it starts with {head[:4]!r}); "
            "pipe 'streamdrift cat FILE ...' into it"
        ))
        return
    if fmt != IPC_STREAM:
        try:
            spool = spool_stdin(io.BufferedReader(raw, 1 << 20), head)
        except DriftError as exc:
            yield Problem(STDIN_NAME, exc)
            return
        for item in file_batches(spool.path, features, batch_size, types, stop, name=STDIN_NAME, spool=spool,
                                 check=check):
            if isinstance(item, Problem) and raw.stopped:  # stopped before the footer arrived
                return
            yield item
        return
    yield from _stream_batches(raw, head, features, types, check)


def _stream_batches(raw, head, features, types, check) -> Iterator[pa.RecordBatch | Problem]:
    rows = 0
    stream = _Ends(io.BufferedReader(raw.prepend(head), 1 << 16))
    try:
        reader = pa.ipc.open_stream(stream)
        check_columns(reader.schema, features, STDIN_NAME, accept=_accepted(check))
        if check is not None:
            check(reader.schema, STDIN_NAME)
        for batch in keeping_types(reader, reader.schema, _typed(features, reader.schema), {} if types is None
                                   else types, STDIN_NAME):
            rows += batch.num_rows
            yield batch.select(features)
        if stream.cut and not raw.stopped:
            yield Problem(STDIN_NAME, DriftError(cut_stream(STDIN_NAME, rows)), rows)
    except DriftError as exc:
        yield Problem(STDIN_NAME, exc, rows)
    except (pa.ArrowException, OSError) as exc:
        if not raw.stopped:
            yield Problem(STDIN_NAME, DriftError(f"cannot read standard input: {_one_line(exc)}"), rows)


class _Ends:
    """A stream for pyarrow's reader that notes how it ended: ``cut`` when a read found the end of the
    input (the reader asks for exact sizes, so a stream closed by its end-of-stream marker never does)."""

    def __init__(self, stream):
        self._stream = stream
        self.cut = False
        self.closed = False

    def read(self, n=-1):
        data = self._stream.read(n)
        if n is None or n < 0 or len(data) < n:
            self.cut = True
        return data

    def readable(self):
        return True

    def seekable(self):
        return False

    def close(self):
        self.closed = True


class StdinReader(io.RawIOBase):
    """Standard input as a raw stream that a ``Stop`` can end: a stop hands on the bytes already
    in the pipe, then reads as the end of the input (``stopped``)."""

    def __init__(self, stream, stop: Stop | None = None):
        self._stream = stream
        self._stop = stop
        self._head = memoryview(b"")
        self.stopped = False
        self._left: int | None = None  # bytes still to hand on after a stop
        try:
            self._fd = stream.fileno()
        except (AttributeError, OSError, io.UnsupportedOperation):
            self._fd = None

    def readable(self):
        return True

    def read_head(self, n: int) -> bytes:
        """The first ``n`` bytes (fewer only at the end of the input)."""
        head = b""
        while len(head) < n:
            chunk = self.read(n - len(head))
            if not chunk:
                break
            head += chunk
        return head

    def prepend(self, head: bytes) -> "StdinReader":
        """Give ``head`` (bytes already read) again before the rest."""
        self._head = memoryview(head)
        return self

    def readinto(self, b):
        if self._head:
            n = min(len(b), len(self._head))
            b[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        if self.stopped:
            return 0
        if self._fd is None or self._stop is None:
            read = getattr(self._stream, "readinto1", None) or self._stream.readinto
            return read(b)
        if not self._stop.is_set():
            select.select([self._fd, self._stop], [], [])
        limit = len(b)
        if self._stop.is_set():  # hand on what had arrived by then, no more
            if self._left is None:
                self._left = _pending(self._fd)
            limit = min(limit, self._left)
            if limit <= 0:
                self.stopped = True
                return 0
        data = os.read(self._fd, limit)
        if self._left is not None:
            self._left -= len(data)
        b[: len(data)] = data
        return len(data)


def _pending(fd: int) -> int:
    """How many bytes can be read from ``fd`` now without waiting (a pipe's contents)."""
    try:
        count = array.array("i", [0])
        fcntl.ioctl(fd, termios.FIONREAD, count)
        return count[0]
    except OSError:
        return 1 << 20 if select.select([fd], [], [], 0)[0] else 0


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def data_batches(obj, features: list[str], batch_size: int, check) -> Iterator[pa.RecordBatch]:
    """The batches of one in-memory dataset (anything ``compare`` reads: a pyarrow Table or
    RecordBatchReader, a pandas or polars DataFrame, a DuckDB relation, a mapping of arrays),
    its columns checked by ``check`` (the reference's) first."""
    with open_source(obj, "current", True) as source:
        check_columns(source.schema, features, source.name, accept=is_feature_type)
        check(source.schema, source.name)
        yield from source.batches(features, batch_size)
