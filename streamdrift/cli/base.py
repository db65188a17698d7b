"""What every ``streamdrift`` command shares: the click group, exit codes, stdout and stderr helpers.

The commands (one module each) import from here; ``streamdrift.cli`` imports them, so
dependencies run one way.
"""

import os
import sys

import click

from streamdrift import __version__

EXIT_OK, EXIT_DRIFT, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 1, 2, 130, 143


class Ending:
    """Whether the command that ran lets ``main`` end the process at once, skipping the
    interpreter's teardown (freeing numpy's and pyarrow's modules: 50-80 ms, a tenth of a small
    watch). Only for a command that has closed, flushed or removed everything it opened."""

    at_once = False


def end_at_once() -> None:
    """Called by such a command (``watch``) once its work is done."""
    Ending.at_once = True


class Terminated(BaseException):
    """Raised in the main thread on SIGTERM, so commands can clean up and summarise like Ctrl-C."""


class StdoutClosed(Exception):
    """The reader of stdout went away (``| head -1``); stop writing, quietly."""


def emit(line: str = "", *, flush: bool = False, newline: bool = True) -> None:
    """Print one line to stdout; raise StdoutClosed (after silencing stdout) if nobody reads it."""
    try:
        sys.stdout.write(line + "\n" if newline else line)
        if flush:
            sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()
        raise StdoutClosed() from None


def warn(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


def silence_stdout() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    finally:
        os.close(devnull)


def split_columns(values: tuple[str, ...], option: str = "--columns") -> list[str] | None:
    """``--columns a,b --columns c`` as ``['a', 'b', 'c']``; None when not given.

    Given but naming nothing (``-c ''``) is a usage error, never "all columns".
    """
    names = [name.strip() for value in values for name in value.split(",") if name.strip()]
    if values and not names:
        raise click.UsageError(f"{option} names no column; give column names separated by commas, or leave it out")
    return names or None


CONTEXT = dict(help_option_names=["-h", "--help"], max_content_width=100)


@click.group(context_settings=CONTEXT, epilog="Run 'streamdrift COMMAND --help' for a command's options and examples.")
@click.version_option(__version__, "-V", "--version", prog_name="streamdrift")
@click.option("--debug", is_flag=True, help="Show the full traceback of an error (anywhere on the command line).")
def cli(debug):
    """Exact per-feature drift (KL divergence) between a reference dataset and current data.

    \b
    Examples:
      streamdrift demo                              # try it on built-in data
      streamdrift compare ref.parquet today.parquet # exit 1 if a feature drifted
      streamdrift compare ref/ cur/ --format json   # directories of part files, JSON Lines
    """
