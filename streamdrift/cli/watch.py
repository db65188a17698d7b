"""``streamdrift watch``: drift of a stream, window by window.

The heavy modules (``streamdrift.watch``, pyarrow readers) are imported inside the
commands, so ``--help`` stays fast.
"""

import json
import signal
import sys
import threading
import time
from contextlib import closing

import click

from streamdrift.cli.base import (
    EXIT_DRIFT,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    StdoutClosed,
    cli,
    emit,
    end_at_once,
    split_columns,
    warn,
)
from streamdrift.cli.compare import category_options, format_options, skipped_line
from streamdrift.cli.report import html_options, require_html
from streamdrift.defaults import BATCH_SIZE, BINS, THRESHOLD, WINDOW


class Stopper:
    """SIGINT/SIGTERM handlers that ask the watch to stop: they only set ``stop`` (no exception,
    no lock), so the watch ends between batches, after counting every row that had arrived."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, stop):
        self.stop = stop
        self._previous = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for s in self.SIGNALS:
                self._previous[s] = signal.signal(s, lambda signum, frame: self.stop.set(signum))
        return self

    def __exit__(self, *exc):
        for s, handler in self._previous.items():
            signal.signal(s, handler)


class Progress:
    """A one-line progress display on stderr (rows, rows/s, windows), only on a terminal."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.start = time.monotonic()
        self._last = 0.0
        self._shown = False

    def update(self, watcher, force: bool = False):
        if not self.enabled:
            return
        rows, windows = watcher.rows, watcher.windows
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
              help="Watch only these columns (default: every numeric and categorical column of the reference).")
@category_options
@format_options
@click.option("--follow", is_flag=True,
              help="Keep watching the directory SOURCE for new files (each read once, in name order, when complete).")
@click.option("--poll-interval", type=click.FloatRange(min=0.01), default=1.0, show_default=True,
              help="Seconds between looks for new files with --follow.")
@click.option("--give-up-after", type=click.FloatRange(min=0), default=600.0, show_default=True,
              help="With --follow: skip (as an error) a file still incomplete after this many seconds unchanged.")
@click.option("--strict", is_flag=True, help="Stop at the first unreadable file instead of skipping it.")
@click.option("--state", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="Save the watch's place in its files after each window, and continue from it when restarted.")
@click.option("--metrics-port", type=click.IntRange(0, 65535), default=None, metavar="PORT",
              help="Serve Prometheus metrics on this port (0: any free one), at /metrics [needs streamdrift[metrics]].")
@click.option("--metrics-host", default="127.0.0.1", show_default=True, help="Address to serve metrics on.")
@click.option("-q", "--quiet", is_flag=True,
              help="Print only drifted lines, each naming its window ('window 3: Drifted: age (KL=...)'; "
                   "JSON: only drifted records); no summary, no progress.")
@click.option("--batch-size", type=click.IntRange(min=1), default=BATCH_SIZE, show_default=True,
              help="Rows decoded at a time.")
@click.option("--threads", type=click.IntRange(min=1), default=None, help="Features counted in parallel [default: CPUs, less one for decoding].")
@html_options
def watch_command(sources, references, window, edges, threshold, bins, columns, categorical, max_categories, fmt,
                  follow, poll_interval, give_up_after, strict, state, metrics_port, metrics_host, quiet, batch_size,
                  threads, html, counts):
    """Report the drift of each window of rows of SOURCE against REF, as the data arrives.

    SOURCE is Parquet or Arrow IPC files, directories of part files (in name order), or
    '-' for standard input (an Arrow IPC stream, read batch by batch as it arrives, or
    Parquet bytes); several are read one after another as one stream. Default: '-'.

    Each window is scored exactly like 'streamdrift compare REF WINDOW' and printed (and
    flushed) as soon as it is complete: a line 'window 3 rows 300000-399999: 2 of 5
    features drifted', then one 'Drifted: <feature> (KL=...)' line per drifted feature.
    """
    from streamdrift.watch import STDIN, Stop, check_sources, load_reference, watch

    require_html(html)
    sources = check_sources(list(sources), follow)
    if STDIN in sources and STDIN in references:
        raise click.UsageError("only one of REF and SOURCE can be '-' (standard input)")
    if STDIN in sources and sys.stdin.isatty():
        raise click.UsageError("no SOURCE given and standard input is a terminal; name files or pipe data in")
    ref = load_reference(list(references), columns=split_columns(columns),
                         categorical=split_columns(categorical, "--categorical"), max_categories=max_categories,
                         edges=edges, bins=bins, batch_size=batch_size, threads=threads)
    if ref.skipped and not quiet:
        click.echo(skipped_line(ref.skipped), err=True)
    out = Output(fmt, quiet, _metrics(metrics_host, metrics_port), _html(html, sources), counts)
    stop = Stop()
    windows = watch(ref, sources, window=window, edges=edges, bins=bins, threshold=threshold,
                    max_categories=max_categories, batch_size=batch_size,
                    threads=threads, follow=follow, poll_interval=poll_interval, give_up_after=give_up_after,
                    state=state, on_problem=None if strict else out.problem, on_batch=out.batch, stop=stop)
    try:
        with Stopper(stop), closing(windows), out:
            for w in windows:
                out.window(w)
            out.progress.clear()
            if stop.signum is not None or not quiet:
                click.echo(out.summary(stop.signum), err=True)
    except StdoutClosed:
        pass
    end_at_once()  # everything it opened is closed: the process needs no teardown
    if stop.signum is not None:
        return EXIT_INTERRUPTED if stop.signum == signal.SIGINT else EXIT_TERMINATED
    if out.problems:
        return EXIT_ERROR
    return EXIT_DRIFT if out.drifted_windows else EXIT_OK


def _html(path: str | None, sources):
    """The HTML report kept up to date as windows complete, when ``--html`` is given."""
    if path is None:
        return None
    from streamdrift.html.watching import WatchReport

    return WatchReport(path, list(sources))


def _metrics(host: str, port: int | None):
    """The metrics server when ``--metrics-port`` is given (prometheus_client is imported only then)."""
    if port is None:
        return None
    from streamdrift.watch.metrics import Metrics

    metrics = Metrics(host, port)
    click.echo(f"serving metrics on {metrics.url}", err=True)
    return metrics


class Output:
    """What the command prints: each window (text or JSON Lines), skipped files, progress, the summary."""

    def __init__(self, fmt: str, quiet: bool, metrics=None, html=None, counts: bool = False):
        self.fmt = fmt
        self.html = html  # a WatchReport (--html), rewritten as windows complete and at the end
        self.counts = counts
        self.quiet = quiet
        self.progress = Progress(enabled=not quiet and sys.stderr.isatty())
        self.metrics = metrics
        self.problems = []
        self.rows = self.windows = self.drifted_windows = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.metrics is not None:
            self.metrics.close()
        if self.html is not None:
            self.html.write()

    def batch(self, watcher) -> None:
        self.progress.update(watcher)
        if self.metrics is not None:
            self.metrics.batch(watcher)

    def window(self, window) -> None:
        from streamdrift.report import drifted_line

        if self.metrics is not None:
            self.metrics.window(window)
        if self.html is not None:
            self.html.add(window)
        self.rows, self.windows = window.end_row, self.windows + 1
        self.drifted_windows += bool(window.drifted)
        self.progress.clear()
        lines = []
        if self.fmt == "json":
            records = window.records()
            if self.counts:
                from streamdrift.html.records import with_counts

                records = with_counts(records, window.features)
            lines = [json.dumps(r) for r in records if r["drifted"] or not self.quiet]
        else:
            if not self.quiet:
                lines.append(window.header())
                for f in window.features:
                    if f.kl is None:
                        warn(f"window {window.index}: {f.feature}: KL undefined: {f.reason}")
            where = f"window {window.index}: " if self.quiet else ""  # without its header, each line names its window
            lines += [where + drifted_line(f.feature, f.kl) for f in window.drifted]
        for i, line in enumerate(lines):
            emit(line, flush=i == len(lines) - 1)

    def problem(self, problem) -> None:
        if self.metrics is not None:
            self.metrics.problem(problem)
        self.progress.clear()
        note = f"; its first {problem.rows} rows were read and counted" if problem.rows else ""
        click.echo(f"error: {problem.error} (skipped{note})", err=True)
        self.problems.append(problem)

    def summary(self, signum) -> str:
        windows, problems = self.windows, len(self.problems)
        text = f"watched {self.rows} rows in {windows} window{'s' if windows != 1 else ''}"
        text += f", {self.drifted_windows} with drift"
        if problems:
            text += f"; {problems} unreadable file{'s' if problems != 1 else ''} skipped"
        if signum is not None:
            text = f"stopped by {signal.Signals(signum).name}: " + text
        return text


__all__ = ["watch_command"]
