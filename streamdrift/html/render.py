"""Render a report through jinja2 (autoescaped) and write it atomically."""

import os
import tempfile
from datetime import datetime, timezone

import jinja2

from streamdrift import __version__
from streamdrift.errors import DriftError

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("streamdrift.html", "templates"),
    autoescape=True,  # feature names, category values and transcripts are untrusted text
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)


def number(value, digits: int = 6) -> str:
    """A statistic as shown: 6 significant digits; an undefined one as a dash."""
    return "\u2014" if value is None else f"{value:.{digits}g}"


_ENV.filters["number"] = number


def render(template: str, **context) -> str:
    """The page ``template`` with ``context``; the generation time and version are added."""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    return _ENV.get_template(template).render(generated=stamp, version=__version__, **context)


def write_atomic(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename: a reader (a browser
    refreshing) sees the old file or the new one, never half of one."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".streamdrift-", suffix=".html.tmp", dir=directory)
    except OSError as exc:
        raise DriftError(f"cannot write the HTML report {path}: {exc.strerror}; check the directory") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        _remove(tmp)
        raise DriftError(f"cannot write the HTML report {path}: {exc.strerror}") from None
    except BaseException:
        _remove(tmp)
        raise


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
