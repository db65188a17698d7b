"""``watch``: drift of consecutive windows of a stream of record batches against a reference.

Tumbling windows of ``window`` rows; every row read is in exactly one window, the last one
may be partial. Two ways to bin a window:

* ``edges="combined"`` (default): the edges come from the combined range of the reference
  and that window, exactly as ``compare`` does (SPEC section 2), so a window's KL equals
  ``compare(reference, window)``. The reference is held as a ``Profile`` (sorted distinct
  values with counts; bounded by its distinct values) so its counts for any window's
  edges cost two binary searches per edge, without reading it again. The window's own
  values are kept until the window closes: memory ~ 8 bytes x window rows x features.
* ``edges="reference"``: edges fixed once from the reference's range; current values
  outside it go to the end bins and are counted as ``out_of_range``. Constant memory per
  feature, fully incremental; differs from ``compare`` only when values leave the
  reference's range.

Sources are files, directories (part files in name order, optionally followed for new
files) and standard input (an Arrow IPC stream read batch by batch as it arrives, or
Parquet / Arrow file bytes spooled to a temporary file). A file that cannot be read
becomes a ``Problem`` item in the stream of batches; the caller decides to skip or stop.
"""

import io
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from streamdrift.comparison import Counter, check_bins, check_threshold, range_held, thread_count
from streamdrift.convert import column_values, holds_numbers
from streamdrift.errors import DriftError
from streamdrift.io import (
    DEFAULT_BATCH_SIZE,
    Background,
    IPC_FILE,
    IPC_STREAM,
    PARQUET,
    FileSource,
    Source,
    check_columns,
    data_files,
    keeping_types,
    open_source,
    sniff,
)
from streamdrift.profile import Profile, is_profile
from streamdrift.report import FeatureDrift
from streamdrift.state import Histogram, Range
from streamdrift.defaults import WINDOW
from streamdrift.stats import BINS, EPS, THRESHOLD, binnable_edges

DEFAULT_WINDOW = WINDOW
EDGES = ("combined", "reference")
STDIN = "-"


# ------------------------------------------------------------------------------ results


@dataclass
class Window:
    """The drift of every feature in one window of rows ``[start_row, end_row)``."""

    index: int
    start_row: int
    end_row: int
    partial: bool
    features: list[FeatureDrift]

    @property
    def rows(self) -> int:
        return self.end_row - self.start_row

    @property
    def drifted(self) -> list[FeatureDrift]:
        return [f for f in self.features if f.drifted]

    def records(self) -> list[dict]:
        """SPEC JSON records, one per feature, with the window's keys added."""
        extra = dict(window=self.index, start_row=self.start_row, end_row=self.end_row, partial=self.partial)
        return [{**f.to_dict(), **extra} for f in self.features]

    def header(self) -> str:
        """``window 3 rows 300000-399999: 2 of 5 features drifted`` (row range inclusive)."""
        last = self.end_row - 1
        text = f"window {self.index} rows {self.start_row}-{last}"
        if self.partial:
            text += " (partial)"
        text += f": {len(self.drifted)} of {len(self.features)} features drifted"
        outside = sum(f.out_of_range or 0 for f in self.features)
        if outside:
            text += f"; {outside} values outside the reference range"
        return text


@dataclass
class Problem:
    """A file (or standard input) that could not be read; ``rows`` were read from it before."""

    where: str
    error: DriftError
    rows: int = 0


# ---------------------------------------------------------------------------- reference


class Reference:
    """The reference side of every window: its range per feature and its counts for given edges."""

    def __init__(self, name: str, schema: pa.Schema, profile: Profile | None = None, fixed=None):
        self.name = name
        self.schema = schema
        self.profile = profile
        self.fixed, self.ranges = fixed or ({}, {})

    @property
    def features(self) -> list[str]:
        return list(self.profile.columns) if self.profile is not None else list(self.fixed)

    def range(self, feature: str) -> Range:
        if self.profile is not None:
            return self.profile[feature].range
        return self.ranges[feature].copy()

    def histogram(self, feature: str, edges) -> Histogram:
        if self.profile is not None:
            return self.profile[feature].histogram(edges)
        return self.fixed[feature].copy()


def load_reference(
    reference,
    *,
    columns: list[str] | None = None,
    edges: str = "combined",
    bins: int = BINS,
    batch_size: int = DEFAULT_BATCH_SIZE,
    threads: int | None = None,
) -> Reference:
    """The reference from a saved profile, a Profile, or any input ``compare`` accepts.

    ``edges="combined"`` profiles a data reference (one pass, memory bounded by its
    distinct values); ``edges="reference"`` only needs fixed histograms (constant memory).
    """
    if edges not in EDGES:
        raise DriftError(f"edges must be one of {', '.join(EDGES)}, got {edges!r}")
    if isinstance(reference, (list, tuple)):
        if len(reference) == 1:
            reference = reference[0]
        else:
            for path in reference:
                if is_profile(path):
                    raise DriftError(f"'{path}' is a saved profile; give a profile as the only reference")
    profile = None
    if isinstance(reference, Profile):
        profile, where = reference, f"profile {reference.source}"
    elif isinstance(reference, (str, os.PathLike)) and str(reference) != STDIN and is_profile(reference):
        profile, where = Profile.load(reference), f"profile '{reference}'"
        profile.source = profile.source or f"'{reference}'"
    if profile is not None:
        features = reference_features(profile.feature_schema, columns, where)
        profile = Profile({f: profile[f] for f in features}, profile.schema, profile.source, profile.rows)
        return Reference(profile.source, profile.schema, profile=profile)

    with open_source(reference, "reference") as source:
        features = reference_features(source.schema, columns, f"reference {source.name}")
        if edges == "combined":
            return Reference(source.name, source.schema, profile=Profile.build(source, features, batch_size, threads))
        return Reference(source.name, source.schema, fixed=_fixed_histograms(source, features, bins, batch_size, threads))


def reference_features(schema: pa.Schema, columns: list[str] | None, where: str) -> list[str]:
    """The features to watch, in the reference's order: ``columns`` or every numeric column."""
    names = schema.names
    if columns:
        for name in columns:
            if name not in names:
                raise DriftError(f"column '{name}' is not in {where}; its columns are: {', '.join(names) or '(none)'}")
        check_columns(schema, columns, where)
        return [n for n in names if n in set(columns)]
    features = [f.name for f in schema if holds_numbers(f.type)]
    if not features:
        raise DriftError(f"no numeric columns in {where}; drift needs integer, float, boolean or decimal columns")
    return features


def _fixed_histograms(source: Source, features, bins, batch_size, threads):
    """``(histograms, ranges)`` of the reference on its own range: statistics or a scan for the range, then one count."""
    with Counter(threads, decoding=isinstance(source, FileSource)) as counter:
        known = {f: source.statistics_range(f) for f in features}
        scan = [f for f in features if known[f] is None]
        ranges = counter.ranges(source, scan, batch_size) if scan else {}
        ranges.update({f: Range(*known[f]) for f in features if f not in ranges})
        hists = {f: Histogram(window_edges(ranges[f], bins)) for f in features}
        counter.fill(source, hists, batch_size)
        wrong = [f for f in features if f not in scan and not range_held(ranges[f], hists[f], bins)]
        if wrong:  # statistics promised a range the data does not have: scan for the true one
            ranges.update(counter.ranges(source, wrong, batch_size))
            redo = {f: Histogram(window_edges(ranges[f], bins)) for f in wrong}
            counter.fill(source, redo, batch_size)
            hists.update(redo)
    for f in features:
        ranges[f] = Range(ranges[f].lo, ranges[f].hi, hists[f].count, hists[f].missing)
    return hists, ranges


def window_edges(r: Range, bins: int):
    return binnable_edges(r.lo, r.hi, bins)[0]


# ------------------------------------------------------------------------------ windows


class Watcher:
    """Cuts record batches into tumbling windows and scores each against the reference.

    ``feed(batch)`` returns the windows it completed; ``finish()`` the partial last one.
    """

    def __init__(
        self,
        reference: Reference,
        *,
        window: int = DEFAULT_WINDOW,
        edges: str = "combined",
        bins: int = BINS,
        threshold: float = THRESHOLD,
        threads: int | None = None,
    ):
        if isinstance(window, bool) or not isinstance(window, int) or window < 1:
            raise DriftError(f"window must be a whole number of rows >= 1, got {window!r}")
        if edges not in EDGES:
            raise DriftError(f"edges must be one of {', '.join(EDGES)}, got {edges!r}")
        if edges == "combined" and reference.profile is None:
            raise DriftError("edges='combined' needs the reference as a profile; load it with edges='combined'")
        self.reference = reference
        self.features = reference.features
        self.window = window
        self.edges = edges
        self.bins = check_bins(bins)
        self.threshold = check_threshold(threshold)
        self.rows = 0
        self.windows = 0
        self.drifted_windows = 0
        n = thread_count(threads, decoding=True)
        self._pool = ThreadPoolExecutor(n, thread_name_prefix="streamdrift-watch") if n > 1 and len(self.features) > 1 else None
        self._fixed = {}
        for f in self.features:
            r = reference.range(f)
            e, reason = binnable_edges(r.lo, r.hi, self.bins)
            if edges == "reference" or (reason is None and not r.empty):
                self._fixed[f] = (reference.histogram(f, e), reason)
        # Combined edges: while a feature's windows stay inside the reference's range, the
        # combined range *is* the reference's, so the window is counted on arrival against
        # the reference's edges, in one pass. The guess is per feature, from its last window.
        self._inside = {f: True for f in self._fixed} if edges == "combined" else {}
        self._reset()

    def _reset(self):
        self._start = self.rows
        self._filled = 0
        if self.edges == "combined":
            self._state = {f: [] for f in self.features}
            self._early = {f: Histogram(self._fixed[f][0].edges) for f, inside in self._inside.items() if inside}
        else:
            self._state = {f: Histogram(self._fixed[f][0].edges) for f in self.features}

    def _map(self, fn, items):
        if self._pool is None:
            return [fn(x) for x in items]
        return list(self._pool.map(fn, items))

    def feed(self, batch: pa.RecordBatch) -> list[Window]:
        """Add a batch's rows (it must hold every feature); return the windows that filled up."""
        done = []
        offset, n = 0, batch.num_rows
        while offset < n:
            take = min(self.window - self._filled, n - offset)
            part = batch if (offset == 0 and take == n) else batch.slice(offset, take)
            self._add(part)
            offset += take
            self._filled += take
            self.rows += take
            if self._filled == self.window:
                done.append(self._close(partial=False))
        return done

    def finish(self) -> Window | None:
        """The last, partial window (None when it holds no row)."""
        return self._close(partial=True) if self._filled else None

    def _add(self, part: pa.RecordBatch):
        columns = [(f, part.column(f)) for f in self.features]
        if self.edges == "combined":
            def update(item):
                f, col = item
                chunks, early = self._state[f], self._early.get(f)
                for values in column_values(col):
                    chunks.append(values)
                    if early is not None:
                        early.update(values)
        else:
            def update(item):
                f, col = item
                for values in column_values(col):
                    self._state[f].update(values)

        self._map(update, columns)

    def _close(self, partial: bool) -> Window:
        score = self._score_combined if self.edges == "combined" else self._score_fixed
        features = self._map(score, self.features)
        w = Window(self.windows, self._start, self.rows, partial, features)
        self.windows += 1
        self.drifted_windows += bool(w.drifted)
        self._reset()
        return w

    def _score_combined(self, f: str) -> FeatureDrift:
        early = self._early.get(f)
        if early is not None and early.out_of_range == 0:
            return FeatureDrift.from_histograms(f, self._fixed[f][0], early, self.threshold, EPS)
        chunks = self._state[f]
        seen = Range()
        for values in chunks:
            seen.update(values)
        reference = self.reference.range(f)
        if f in self._inside:
            self._inside[f] = seen.empty or (reference.lo <= seen.lo and seen.hi <= reference.hi)
        combined = reference + seen
        edges, reason = binnable_edges(combined.lo, combined.hi, self.bins)
        cur = Histogram(edges)
        for values in chunks:
            cur.update(values)
        ref = self.reference.histogram(f, edges)
        return FeatureDrift.from_histograms(f, ref, cur, self.threshold, EPS, reason=reason)

    def _score_fixed(self, f: str) -> FeatureDrift:
        ref, reason = self._fixed[f]
        cur = self._state[f]
        result = FeatureDrift.from_histograms(f, ref, cur, self.threshold, EPS, reason=reason)
        result.out_of_range = cur.out_of_range
        return result

    def close(self):
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ------------------------------------------------------------------------------ sources


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


def batches(
    sources: list[str],
    features: list[str],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    follow: bool = False,
    poll_interval: float = 1.0,
    give_up_after: float = 600.0,
    stop: threading.Event | None = None,
    stdin=None,
) -> Iterator[pa.RecordBatch | Problem]:
    """Record batches (only ``features``) of every source in order, and a ``Problem`` per unreadable one.

    A directory is read in name order; with ``follow`` it is then polled for new files,
    each read once, in name order, when complete (see ``Follower``). The first data read
    fixes each feature's type; a later file that changes it is a ``Problem``, not mixed in.
    """
    types: dict[str, pa.DataType] = {}
    for s in sources:
        if s == STDIN:
            yield from _stdin_batches(features, batch_size, stdin or sys.stdin.buffer, types)
        elif follow:
            yield from Follower(Path(s), poll_interval, give_up_after, stop).batches(features, batch_size, types)
        else:
            try:
                files = data_files(Path(s))
            except DriftError as exc:
                yield Problem(f"'{s}'", exc)
                continue
            for path in files:
                yield from file_batches(path, features, batch_size, types)


def file_batches(
    path: Path, features: list[str], batch_size: int, types: dict | None = None
) -> Iterator[pa.RecordBatch | Problem]:
    """One file's batches, then a ``Problem`` if it could not be read (to its end) or changes a type."""
    rows = 0
    try:
        with FileSource([path], name=f"'{path}'") as source:
            batches = source.batches(features, batch_size)
            for batch in keeping_types(batches, source.schema, features, {} if types is None else types, f"'{path}'"):
                rows += batch.num_rows
                yield batch
    except DriftError as exc:
        yield Problem(f"'{path}'", exc, rows)


_spools: set[str] = set()
"""Temporary copies of standard input being made or read (by the reader thread)."""


def remove_spools() -> None:
    """Remove standard input's temporary copies: for a caller stopping while the reader thread
    is still blocked reading standard input (its own clean-up would never run)."""
    for tmp in list(_spools):
        shutil.rmtree(tmp, ignore_errors=True)
        _spools.discard(tmp)


def _stdin_batches(features, batch_size, stdin, types=None) -> Iterator[pa.RecordBatch | Problem]:
    where = "standard input"
    head = stdin.read(8)
    fmt = sniff(head)
    if not head:
        yield Problem(where, DriftError("standard input is empty; pipe an Arrow IPC stream or Parquet into it"))
        return
    if fmt is None:
        yield Problem(where, DriftError(
            f"standard input is not an Arrow IPC stream or Parquet (it starts with {head[:4]!r}); "
            "pipe 'streamdrift cat FILE ...' into it"
        ))
        return
    if fmt != IPC_STREAM:
        tmp = tempfile.mkdtemp(prefix="streamdrift-stdin-")
        _spools.add(tmp)
        try:
            path = Path(tmp) / "stdin"
            with open(path, "wb") as out:
                out.write(head)
                shutil.copyfileobj(stdin, out, 1 << 20)
            for item in file_batches(path, features, batch_size, types):
                if isinstance(item, Problem):
                    item.where = where
                    item.error = DriftError(str(item.error).replace(f"'{path}'", where))
                yield item
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
            _spools.discard(tmp)
        return
    rows = 0
    try:
        reader = pa.ipc.open_stream(io.BufferedReader(_Prepended(head, stdin), 1 << 16))
        check_columns(reader.schema, features, where)
        for batch in keeping_types(reader, reader.schema, features, {} if types is None else types, where):
            rows += batch.num_rows
            yield batch.select(features)
    except DriftError as exc:
        yield Problem(where, exc, rows)
    except (pa.ArrowException, OSError) as exc:
        yield Problem(where, DriftError(f"cannot read standard input: {_one_line(exc)}"), rows)


class _Prepended(io.RawIOBase):
    """A raw stream that gives ``head`` first, then the rest of ``stream`` (sniffed bytes put back)."""

    def __init__(self, head: bytes, stream):
        self._head = memoryview(head)
        self._stream = stream

    def readable(self):
        return True

    def readinto(self, b):
        if self._head:
            n = min(len(b), len(self._head))
            b[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        read = getattr(self._stream, "readinto1", None) or self._stream.readinto
        return read(b)


class Follower:
    """Polls a directory for new data files and reads each once, in name order, when complete.

    A file is complete when its size and modification time did not change since the
    previous poll and its format's trailer is there (the Parquet footer, the Arrow file
    magic, the Arrow stream's end marker). A file still being written is waited for, and
    later files wait behind it, so the order holds; one that stays incomplete and unchanged
    for ``give_up_after`` seconds is reported as a Problem and skipped. Hidden files and
    names starting with ``_`` (temporary names of writers) are ignored.
    """

    def __init__(self, folder: Path, poll_interval: float = 1.0, give_up_after: float = 600.0, stop=None):
        self.folder = folder
        self.poll_interval = poll_interval
        self.give_up_after = give_up_after
        self.stop = stop or threading.Event()
        self.done: set[Path] = set()
        self._seen: dict[Path, tuple[int, int, float]] = {}

    def listing(self) -> list[Path]:
        return sorted(
            p
            for p in self.folder.rglob("*")
            if p.is_file() and not any(part.startswith((".", "_")) for part in p.relative_to(self.folder).parts)
        )

    def batches(self, features, batch_size, types=None) -> Iterator[pa.RecordBatch | Problem]:
        """Batches of every complete file, forever (until ``stop`` is set)."""
        while not self.stop.is_set():
            pending = [p for p in self.listing() if p not in self.done]
            states = [self.ready(p) for p in pending]  # every file's size is watched at every poll
            for path, state in zip(pending, states):
                if state is None:
                    break
                self.done.add(path)
                self._seen.pop(path, None)
                if isinstance(state, Problem):
                    yield state
                else:
                    yield from file_batches(path, features, batch_size, types)
            self.stop.wait(self.poll_interval)

    def ready(self, path: Path):
        """True when complete, None to wait, a Problem to skip it."""
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
            return Problem(f"'{path}'", DriftError(
                f"'{path}' is still incomplete (no Parquet footer or Arrow end marker) after "
                f"{self.give_up_after:g} s without change; skipped it"
            ))
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


def watch(
    reference,
    sources,
    *,
    window: int = DEFAULT_WINDOW,
    edges: str = "combined",
    bins: int = BINS,
    threshold: float = THRESHOLD,
    columns: list[str] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    threads: int | None = None,
    follow: bool = False,
    poll_interval: float = 1.0,
    on_problem: Callable[[Problem], None] | None = None,
) -> Iterator[Window]:
    """Windows of ``sources`` (paths, directories, ``'-'``) scored against ``reference``, as they complete.

    ``reference`` is a saved profile, a ``Profile``, or any input ``compare`` accepts. An
    unreadable file raises its DriftError unless ``on_problem`` is given (then it is passed
    there and skipped).
    """
    sources = check_sources([str(s) for s in ([sources] if isinstance(sources, (str, os.PathLike)) else sources)], follow)
    ref = load_reference(reference, columns=columns, edges=edges, bins=bins, batch_size=batch_size, threads=threads)
    stop = threading.Event()
    items = Background(
        batches(sources, ref.features, batch_size=batch_size, follow=follow, poll_interval=poll_interval, stop=stop),
        stop=stop,
    )
    try:
        with Watcher(ref, window=window, edges=edges, bins=bins, threshold=threshold, threads=threads) as watcher:
            for item in items:
                if isinstance(item, Problem):
                    if on_problem is None:
                        raise item.error
                    on_problem(item)
                    continue
                yield from watcher.feed(item)
            last = watcher.finish()
            if last is not None:
                yield last
    finally:
        items.close()


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


__all__ = ["Window", "Problem", "Reference", "Watcher", "Follower", "load_reference", "batches", "watch"]
