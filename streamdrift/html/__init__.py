"""Self-contained HTML reports (the optional ``report`` extra: jinja2 and matplotlib).

Only :mod:`streamdrift.html.records` is free of those dependencies; the monitor's hot path
imports nothing from here unless ``--html`` or ``--counts`` is asked for.
"""

from streamdrift.errors import DriftError

INSTALL = "pip install 'streamdrift[report]'"


def require() -> None:
    """Raise DriftError (exit 2, one line) when the report extra is not installed."""
    try:
        import jinja2  # noqa: F401
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise DriftError(
            f"--html needs the report extra ({exc.name} is not installed): run {INSTALL}"
        ) from None
