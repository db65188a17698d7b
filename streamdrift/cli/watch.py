"""``streamdrift watch``, ``cat`` and ``profile``: drift of a stream, window by window.

The heavy modules (``streamdrift.watch``, pyarrow readers) are imported inside the
commands, so ``--help`` stays fast.
"""

import errno
import json
import signal
import sys
import threading
import time
from contextlib import contextmanager

import click

from streamdrift.cli import (
    EXIT_DRIFT,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    StdoutClosed,
    _silence_stdout,
    cli,
    emit,
    split_columns,
    warn,
)
from streamdrift.cli.compare import format_options
from streamdrift.cli.scale import dask_options
from streamdrift.defaults import BATCH_SIZE, BINS, THRESHOLD, WINDOW
from streamdrift.errors import DriftError


class Stopped(Exception):
    """SIGINT or SIGTERM arrived; ``signum`` says which."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class Stopper:
    """SIGINT/SIGTERM handlers that stop the watch only between batches.

    While a batch is being counted (``deferred``) a signal is only noted, so a window's
    state is never half-updated; it is raised as ``Stopped`` once the batch is done, or at
    once while waiting for input.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.signum = None
        self._deferred = False
        self._previous = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for s in self.SIGNALS:
                self._previous[s] = signal.signal(s, self._handle)
        return self

    def __exit__(self, *exc):
        for s, handler in self._previous.items():
            signal.signal(s, handler)

    def _handle(self, signum, frame):
        if self.signum is None:
            self.signum = signum
        if not self._deferred:
            raise Stopped(signum)

    @contextmanager
    def deferred(self):
        self._deferred = True
        try:
            yield
        finally:
            self._deferred = False
        if self.signum is not None:
            raise Stopped(self.signum)

    @contextmanager
    def ignored(self):
        """Note signals but never raise (while finishing up)."""
        self._deferred = True
        try:
            yield
        finally:
            self._deferred = False


class Progress:
    """A one-line progress display on stderr (rows, rows/s, windows), only on a terminal."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.start = time.monotonic()
        self._last = 0.0
        self._shown = False

    def update(self, rows: int, windows: int, force: bool = False):
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < 0.5:
            return
        self._last = now
        rate = rows / max(now - self.start, 1e-9)
        sys.stderr.write(f"\r\033[Kread {rows:,} rows, {rate:,.0f} rows/s, {windows} windows")
        sys.stderr.flush()
        self._shown = True

    def clear(self):
        if self._shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
            self._shown = False


@cli.command("watch", epilog="""\b
Examples:
  streamdrift watch -r reference.parquet today/              # part files in name order
  streamdrift profile reference.parquet -o ref.profile       # once; later runs start at once
  streamdrift watch -r ref.profile --window 50000 --format json day1.parquet day2.parquet
  streamdrift cat day1.parquet day2.parquet | streamdrift watch -r ref.profile -
  streamdrift watch -r ref.profile --follow incoming/        # like tail -f; Ctrl-C to stop

\b
Memory: --edges combined keeps the current window's values (8 bytes x window rows x
features) and the reference profile (16 bytes x distinct reference values per feature);
--edges reference keeps one histogram per feature. Neither grows with the stream.

Exit status: 0 no window drifted, 1 some window drifted, 2 error (a bad file is reported,
skipped and makes the exit status 2 at the end), 130 Ctrl-C, 143 SIGTERM.""")
@click.argument("sources", nargs=-1, metavar="[SOURCE]...")
@click.option("-r", "--reference", "references", multiple=True, required=True, metavar="REF",
              help="Reference: a Parquet file or directory, a saved profile, or '-'. Repeat for several files.")
@click.option("-w", "--window", type=click.IntRange(min=1), default=WINDOW, show_default=True,
              help="Rows per tumbling window; the last, partial window is reported at the end.")
@click.option("--edges", type=click.Choice(["combined", "reference"]), default="combined", show_default=True,
              help="combined: edges from the reference and the window's range (equals 'compare' of each "
                   "window); reference: edges fixed from the reference's range, values outside it are "
                   "counted as out_of_range.")
@click.option("-t", "--threshold", type=float, default=THRESHOLD, show_default=True,
              help="A feature has drifted when KL > threshold.")
@click.option("--bins", type=click.IntRange(min=1), default=BINS, show_default=True, help="Equal-width bins.")
@click.option("-c", "--columns", multiple=True, metavar="A,B,...",
              help="Watch only these columns (default: every numeric column of the reference).")
@format_options
@click.option("--follow", is_flag=True,
              help="Keep watching the directory SOURCE for new files (each read once, in name order, when complete).")
@click.option("--poll-interval", type=click.FloatRange(min=0.01), default=1.0, show_default=True,
              help="Seconds between looks for new files with --follow.")
@click.option("--give-up-after", type=click.FloatRange(min=0), default=600.0, show_default=True,
              help="With --follow: skip (as an error) a file still incomplete after this many seconds unchanged.")
@click.option("--strict", is_flag=True, help="Stop at the first unreadable file instead of skipping it.")
@click.option("-q", "--quiet", is_flag=True,
              help="Print only drifted lines (JSON: only drifted records); no summary, no progress.")
@click.option("--batch-size", type=click.IntRange(min=1), default=BATCH_SIZE, show_default=True,
              help="Rows decoded at a time.")
@click.option("--threads", type=click.IntRange(min=1), default=None, help="Features counted in parallel [default: CPUs, less one for decoding].")
def watch_command(sources, references, window, edges, threshold, bins, columns, fmt, follow, poll_interval,
                  give_up_after, strict, quiet, batch_size, threads):
    """Report the drift of each window of rows of SOURCE against REF, as the data arrives.

    SOURCE is Parquet or Arrow IPC files, directories of part files (in name order), or
    '-' for standard input (an Arrow IPC stream, read batch by batch as it arrives, or
    Parquet bytes); several are read one after another as one stream. Default: '-'.

    Each window is scored exactly like 'streamdrift compare REF WINDOW' and printed (and
    flushed) as soon as it is complete: a line 'window 3 rows 300000-399999: 2 of 5
    features drifted', then one 'Drifted: <feature> (KL=...)' line per drifted feature.
    """
    from streamdrift import watch as w
    from streamdrift.report import drifted_line

    sources = w.check_sources(list(sources), follow)
    if w.STDIN in sources and w.STDIN in references:
        raise click.UsageError("only one of REF and SOURCE can be '-' (standard input)")
    if w.STDIN in sources and sys.stdin.isatty():
        raise click.UsageError("no SOURCE given and standard input is a terminal; name files or pipe data in")
    ref = w.load_reference(list(references), columns=split_columns(columns), edges=edges, bins=bins,
                           batch_size=batch_size, threads=threads)
    progress = Progress(enabled=not quiet and sys.stderr.isatty())
    problems = []
    drifted = False
    stop_reading = threading.Event()
    items = w.Background(w.batches(sources, ref.features, batch_size=batch_size, follow=follow,
                                   poll_interval=poll_interval, give_up_after=give_up_after, stop=stop_reading),
                         stop=stop_reading)

    def show(window):
        nonlocal drifted
        drifted = drifted or bool(window.drifted)
        progress.clear()
        lines = []
        if fmt == "json":
            lines = [json.dumps(r) for r in window.records() if r["drifted"] or not quiet]
        else:
            if not quiet:
                lines.append(window.header())
                for f in window.features:
                    if f.kl is None:
                        warn(f"window {window.index}: {f.feature}: KL undefined: {f.reason}")
            lines += [drifted_line(f.feature, f.kl) for f in window.drifted]
        for i, line in enumerate(lines):
            emit(line, flush=i == len(lines) - 1)

    stopped = None
    try:
        with w.Watcher(ref, window=window, edges=edges, bins=bins, threshold=threshold, threads=threads) as watcher, \
                Stopper() as stopper:
            try:
                for item in items:
                    with stopper.deferred():
                        if isinstance(item, w.Problem):
                            if strict:
                                raise item.error
                            progress.clear()
                            click.echo(f"error: {item.error} (skipped{_rows_note(item.rows)})", err=True)
                            problems.append(item)
                            continue
                        for done in watcher.feed(item):
                            show(done)
                        progress.update(watcher.rows, watcher.windows)
            except Stopped as exc:
                stopped = exc.signum
            with stopper.ignored():
                last = watcher.finish()
                if last is not None:
                    show(last)
                progress.clear()
                if stopped is not None or not quiet:
                    click.echo(_summary(watcher, problems, stopped), err=True)
    except StdoutClosed:
        pass
    finally:
        items.close()
        w.remove_spools()
    if stopped is not None:
        return EXIT_INTERRUPTED if stopped == signal.SIGINT else EXIT_TERMINATED
    if problems:
        return EXIT_ERROR
    return EXIT_DRIFT if drifted else EXIT_OK


def _rows_note(rows: int) -> str:
    return f"; its first {rows} rows were read and counted" if rows else ""


def _summary(watcher, problems, stopped) -> str:
    windows = watcher.windows
    text = f"watched {watcher.rows} rows in {windows} window{'s' if windows != 1 else ''}"
    text += f", {watcher.drifted_windows} with drift"
    if problems:
        text += f"; {len(problems)} unreadable file{'s' if len(problems) != 1 else ''} skipped"
    if stopped is not None:
        text = f"stopped by {signal.Signals(stopped).name}: " + text
    return text


@cli.command("cat", epilog="""\b
Examples:
  streamdrift cat day1.parquet day2.parquet | streamdrift watch -r ref.parquet -
  streamdrift cat parts/ --columns age,income > stream.arrows""")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("-c", "--columns", multiple=True, metavar="A,B,...", help="Only these columns [default: all].")
@click.option("--batch-size", type=click.IntRange(min=1), default=BATCH_SIZE, show_default=True,
              help="Rows per record batch.")
def cat_command(files, columns, batch_size):
    """Write the rows of FILE... (Parquet, Arrow IPC, directories) to stdout as one Arrow IPC stream.

    Every file must have the first file's columns, of the same types (extra columns are
    dropped). A file that cannot be read stops the stream with an error (exit status 2),
    so nothing is dropped silently downstream.
    """
    from pathlib import Path

    import pyarrow as pa

    from streamdrift.io import FileSource, data_files, file_format, keeping_types, read_file

    if sys.stdout.isatty():
        raise click.UsageError("stdout is a terminal; pipe it into 'streamdrift watch -r REF -' or redirect it to a file")
    paths = [p for f in files for p in data_files(Path(f))]
    names = split_columns(columns)  # else the first file's columns
    out = sys.stdout.buffer
    writer = schema = first = None
    types = {}
    try:
        for path in paths:
            with FileSource([path], name=f"'{path}'") as source:
                names = names or source.schema.names
                for name in names:
                    if source.schema.get_field_index(name) < 0:
                        raise DriftError(f"column '{name}' is missing from '{path}'; every file must have the "
                                         "columns of the first (or name them with --columns)")
                here = pa.schema([source.schema.field(n) for n in names])
                first = first or here
                batches = read_file(path, file_format(path), names, batch_size)
                for batch in keeping_types(batches, here, names, types, f"'{path}'"):
                    if not batch.num_rows:
                        continue
                    if writer is None:
                        schema = here
                        writer = pa.ipc.new_stream(out, schema)
                    if batch.schema != schema:
                        batch = _cast(batch, schema, path)
                    writer.write_batch(batch)
                    out.flush()
        if writer is None and first is not None:
            writer = pa.ipc.new_stream(out, first)  # no rows at all: a valid, empty stream
        if writer is not None:
            writer.close()
            out.flush()
    except OSError as exc:  # BrokenPipeError, or pyarrow's own OSError for a closed pipe
        if exc.errno != errno.EPIPE:
            raise
        _silence_stdout()
        raise StdoutClosed() from None
    return EXIT_OK


def _cast(batch, schema, path):
    import pyarrow as pa

    try:
        return batch.cast(schema)
    except (pa.ArrowException, ValueError) as exc:
        raise DriftError(f"'{path}' has types that cannot be cast to the stream's {schema}: {exc}") from None


@cli.command("profile", epilog="""\b
Examples:
  streamdrift profile reference.parquet -o reference.profile
  streamdrift watch -r reference.profile incoming/

\b
The profile keeps, per column, the sorted distinct finite values with their counts and the
missing count (16 bytes per distinct value): 'watch' counts the reference for any window's
edges from it exactly, without reading the reference again.""")
@click.argument("reference", nargs=-1, required=True, metavar="REF...")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Profile file to write.")
@click.option("-c", "--columns", multiple=True, metavar="A,B,...",
              help="Profile only these columns (default: every numeric column).")
@click.option("--batch-size", type=click.IntRange(min=1), default=BATCH_SIZE, show_default=True,
              help="Rows decoded at a time.")
@click.option("--threads", type=click.IntRange(min=1), default=None, help="Columns profiled in parallel [default: CPUs].")
@dask_options
def profile_command(reference, output, columns, batch_size, threads, dask, dask_timeout):
    """Save the reference profile of REF (Parquet or Arrow files, directories, or '-') to a file."""
    from streamdrift.executor import executor_for
    from streamdrift.profile import Profile, is_profile
    from streamdrift.watch import reference_features

    ref = list(reference)
    for path in ref:
        if path != "-" and is_profile(path):
            raise DriftError(f"'{path}' is already a saved profile; profile the data it was made from")
    data = ref[0] if len(ref) == 1 else ref
    with executor_for(dask, (), threads, dask_timeout) as executor, executor.open(data, "reference") as source:
        features = reference_features(source.schema, split_columns(columns), f"reference {source.name}")
        profile = Profile.build(source, features, batch_size, executor=executor)
    profile.save(output)
    distinct = sum(c.distinct for c in profile.columns.values())
    emit(f"profiled {len(features)} feature{'s' if len(features) != 1 else ''} of {profile.source} "
         f"({profile.rows} rows, {distinct} distinct values) to {output}")
    return EXIT_OK


__all__ = ["watch_command", "cat_command", "profile_command"]
