"""What every command shares: the one command group, the one error type (its class carries the
exit code, as click's ``ClickException.exit_code`` does), output that survives a closed pipe,
and option checks."""

from __future__ import annotations

import math
import sys
from contextlib import contextmanager

import click


class GraderError(Exception):
    """A failure to report as one line ``error: <message>`` (nothing when the message is empty).

    The class carries the exit code; ``grader.cli.main`` is the one place that exits.
    """

    exit_code = 2
    """Bad usage or input, or an internal error."""


class Failed(GraderError):
    """The command ran and its outcome is a failure: ``grade`` found a failing submission,
    ``run`` could grade no run because the API failed."""

    exit_code = 1


class Interrupted(GraderError):
    """Ctrl-C (SIGINT)."""

    exit_code = 130


class PipeClosed(Exception):
    """The reader of our output went away (``| head``): stop quietly, exit 0.

    Not an OSError, so click does not turn it into its own exit 1.
    """


def echo(text: str = "", *, err: bool = False, nl: bool = True, flush: bool = False) -> None:
    """``click.echo`` that turns a closed pipe into ``PipeClosed`` (and can flush at once)."""
    try:
        click.echo(text, err=err, nl=nl)
        if flush:
            (sys.stderr if err else sys.stdout).flush()
    except BrokenPipeError:
        raise PipeClosed() from None


def finite(ctx, param, value):
    """Option callback: a float option must be a finite number (click's FloatRange lets nan and inf through)."""
    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"{value!r} is not a finite number", ctx=ctx, param=param)
    return value


def dask_options(f):
    """``--dask ADDRESS`` and ``--dask-timeout SECONDS``: grade on a Dask cluster (docs/scale.md)."""
    from streamdrift.executor import DASK_TIMEOUT

    f = click.option(
        "--dask-timeout", type=click.FloatRange(min=0, min_open=True), default=DASK_TIMEOUT, show_default=True,
        callback=finite, metavar="SECONDS", help="Give up reaching the Dask scheduler after this long (exit 2).",
    )(f)
    return click.option(
        "--dask", "dask", metavar="ADDRESS", default=None,
        help="Grade on a Dask cluster: a scheduler address (tcp://host:8786), or local / local:N to start N "
             "worker processes here; each worker grades with its own warm sandbox pool, as many at once as it "
             "has threads (--jobs does not apply). Needs "
             "pip install 'streamdrift[dask]' on every machine (docs/scale.md).",
    )(f)


def require_bubblewrap() -> None:
    """The sandbox's minimal root needs bubblewrap: checked before anything starts, in one line."""
    from grader.sandbox import bwrap

    reason = bwrap.missing()
    if reason:
        raise GraderError(reason)


@contextmanager
def cluster(dask: str | None, timeout: float):
    """The executor that grades: a Dask cluster's (closed afterwards) when ``dask`` is given, else
    None (local). An unreachable scheduler, a bad address or no dask installed: one line, exit 2."""
    if dask is None:
        yield None
        return
    from streamdrift.errors import DriftError
    from streamdrift.executors import executor_for

    try:
        executor = executor_for(dask, timeout=timeout)
    except DriftError as exc:
        raise GraderError(str(exc)) from None
    with executor:
        yield executor


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Grade detect_drift submissions (the streamdrift RL task) safely and exactly.

    \b
    Exit status: 0 success (every submission passed), 1 a failure (a submission failed;
    no run could be graded), 2 bad usage or input, or an internal error, 130 Ctrl-C.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
