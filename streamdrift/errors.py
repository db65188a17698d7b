"""The one error type users see: a bad input or argument, with a message that says what to do."""

from contextlib import contextmanager
from contextvars import ContextVar

_COMMAND_LINE = ContextVar("streamdrift_command_line", default=False)


class DriftError(ValueError):
    """Bad input or usage. The message is one line: what was seen, what is needed, what to do.

    The CLI prints it as ``error: <message>`` and exits 2.
    """


def option(name: str) -> str:
    """How a user names the option ``name`` where they are: ``--max-categories`` on the command
    line, ``max_categories=`` in Python; so the library's messages never send a Python user
    to a CLI flag."""
    return f"--{name.replace('_', '-')}" if _COMMAND_LINE.get() else f"{name}=..."


@contextmanager
def command_line():
    """Messages raised inside name options as command-line flags (see ``option``)."""
    token = _COMMAND_LINE.set(True)
    try:
        yield
    finally:
        _COMMAND_LINE.reset(token)
