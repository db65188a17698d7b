"""``streamdrift-grader``: print the task prompt, grade submissions, run Claude on the task.

One click group (``base.cli``) and one ``main``, the only place that exits. Commands:
``grade.py`` (prompt, reasons, grade) and ``run.py`` (run, report). Every failure is a
``GraderError`` whose class carries its exit code: 0 success, 1 a failure (``grade``: a
submission failed; ``run``: no run could be graded because of the API), 2 bad usage or
input, or an internal error (one line ``error: ...`` on stderr; a traceback only with
``--debug``), 130 after Ctrl-C. A closed pipe (``| head``) ends quietly with 0.
"""

from __future__ import annotations

import os
import sys
import traceback

import click

from grader.cli import grade as _grade_commands  # noqa: F401 - registers prompt, reasons, grade
from grader.cli import run as _run_commands  # noqa: F401 - registers run, report
from grader.cli.base import GraderError, Interrupted, PipeClosed, cli

__all__ = ["GraderError", "cli", "main"]


def _exit_code(exc: BaseException, debug: bool) -> int:
    """Print what ``exc`` means in one line (or the help) and return its exit code."""
    if isinstance(exc, (click.exceptions.Abort, KeyboardInterrupt)):
        click.echo("error: interrupted", err=True)
        return Interrupted.exit_code
    if isinstance(exc, click.exceptions.NoArgsIsHelpError):  # bare `streamdrift-grader`: the whole help
        click.echo(exc.ctx.get_help(), err=True)
        return GraderError.exit_code
    if debug and not isinstance(exc, PipeClosed):
        traceback.print_exception(exc)
    if isinstance(exc, GraderError):
        if str(exc):
            click.echo(f"error: {exc}", err=True)
        return exc.exit_code
    if isinstance(exc, click.ClickException):  # usage errors: one line
        message = exc.format_message()
        click.echo(f"error: {message.splitlines()[0] if message else exc}", err=True)
        return GraderError.exit_code
    click.echo(f"error: {type(exc).__name__}: {exc}", err=True)
    return GraderError.exit_code


def main(argv=None) -> None:
    """Console entry point (``streamdrift-grader``): the one exit point for every outcome."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    code = 0
    try:
        cli.main(args=argv, prog_name="streamdrift-grader", standalone_mode=False)
    except (PipeClosed, BrokenPipeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # the final flush at exit must not fail again
    except SystemExit:
        raise
    except BaseException as exc:  # noqa: BLE001 - the one exit point
        code = _exit_code(exc, debug)
    sys.exit(code)
