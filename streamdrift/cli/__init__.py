"""The ``streamdrift`` command: one entry point that decides every exit path.

Exit codes are like ``diff``: 0 no drift, 1 drift, 2 bad usage or input (one line on
stderr, no traceback unless ``--debug``), 130 on Ctrl-C, 143 on SIGTERM. A closed stdout
(``| head -1``) ends output quietly.
"""

import os
import signal
import sys
import traceback

import click

from streamdrift import __version__
from streamdrift.errors import DriftError, command_line

EXIT_OK, EXIT_DRIFT, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 1, 2, 130, 143


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
        _silence_stdout()
        raise StdoutClosed() from None


def warn(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


def _silence_stdout() -> None:
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


def run(args: list[str]) -> int:
    """Run the CLI on ``args`` and return the exit code (never raises, never exits)."""
    debug = "--debug" in args or bool(os.environ.get("STREAMDRIFT_DEBUG"))
    args = [a for a in args if a != "--debug"]
    previous = signal.getsignal(signal.SIGTERM)
    if previous in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        with command_line():  # the library's messages name options as flags (--columns, not columns=)
            code = cli.main(args, prog_name="streamdrift", standalone_mode=False)
        return code if isinstance(code, int) else EXIT_OK
    except DriftError as exc:
        return _fail(str(exc), debug)
    except click.exceptions.NoArgsIsHelpError as exc:  # bare `streamdrift`: the whole help, as click would
        click.echo(exc.ctx.get_help(), err=True)
        return EXIT_ERROR
    except click.UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        return _fail(exc.format_message() + hint, debug)
    except click.ClickException as exc:
        return _fail(exc.format_message(), debug)
    except StdoutClosed:
        return EXIT_OK
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_OK
    except (KeyboardInterrupt, click.Abort):
        if debug:
            traceback.print_exc()
        return EXIT_INTERRUPTED
    except Terminated:
        return EXIT_TERMINATED
    except Exception as exc:
        return _fail(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback)", debug)
    finally:
        if previous in (signal.SIG_DFL, None):
            signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _on_sigterm(signum, frame):
    raise Terminated()


def _fail(message: str, debug: bool) -> int:
    if debug:
        traceback.print_exc()
    first = message.strip().splitlines()[0] if message.strip() else "failed"
    click.echo(f"error: {first}", err=True)
    return EXIT_ERROR


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    code = run(sys.argv[1:] if argv is None else list(argv))
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
    if _reader_still_blocked():
        # A reader thread stuck in a read of standard input holds its lock; the interpreter's
        # shutdown would abort on it ("could not acquire lock ... at interpreter shutdown").
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def _reader_still_blocked() -> bool:
    import threading

    return any(t.name == "streamdrift-read" and t.is_alive() for t in threading.enumerate())


# The commands register themselves on ``cli`` when imported; they import names defined above.
from streamdrift.cli import cat, compare, demo, profile, watch  # noqa: E402,F401
