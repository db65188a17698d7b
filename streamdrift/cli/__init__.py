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

from streamdrift.cli import cat, compare, demo, profile, report, watch  # noqa: F401 - the commands register on cli
from streamdrift.cli.base import (EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_TERMINATED, Ending, StdoutClosed,
                                  Terminated, cli, silence_stdout)
from streamdrift.errors import DriftError, command_line


def run(args: list[str]) -> int:
    """Run the CLI on ``args`` and return the exit code (never raises, never exits)."""
    Ending.at_once = False
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
        silence_stdout()
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
        silence_stdout()
    if _reader_still_blocked() or (Ending.at_once and "coverage" not in sys.modules):
        # A reader thread stuck in a read of standard input holds its lock; the interpreter's
        # shutdown would abort on it ("could not acquire lock ... at interpreter shutdown").
        # A command that closed everything it opened needs no teardown either (base.Ending).
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def _reader_still_blocked() -> bool:
    import threading

    return any(t.name == "streamdrift-read" and t.is_alive() for t in threading.enumerate())

