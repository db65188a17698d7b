"""What a submission's exception says, in one line: its type, its message and the line of the
submission that raised it; and whether it is an import the task does not allow.

The exception text and line number come from the sandboxed child (untrusted: checked for
type and cut to length here); the source line is read from the code the grader holds.
"""

from __future__ import annotations

import ast
import re
import sys

ALLOWED_MODULES = frozenset({"numpy", "pandas"}) | frozenset(sys.stdlib_module_names)
"""What a submission may import: numpy, pandas and the standard library (the task's words)."""

MAX_ERROR_CHARS = 300
MAX_SOURCE_CHARS = 120
_NO_MODULE = re.compile(r"ModuleNotFoundError: No module named '([\w.]{1,200})'")
_OPTIONAL = re.compile(r"ImportError: Missing optional dependency '([\w.]{1,200})'")  # pandas' words


def printable(text: str) -> str:
    """``text`` with control characters, lone surrogates and the like escaped (a terminal shows it as is)."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def source_line(code: str | None, line) -> str | None:
    """``line N: <the stripped source line>`` of ``code``, cut to length; None when unknown."""
    if not isinstance(code, str) or not isinstance(line, int) or isinstance(line, bool) or line < 1:
        return None
    lines = code.splitlines()
    if line > len(lines):
        return None
    text = printable(lines[line - 1].strip()[:MAX_SOURCE_CHARS])
    if len(text) > MAX_SOURCE_CHARS:
        text = text[: MAX_SOURCE_CHARS - 3] + "..."
    return f"line {line}: {text}"


def describe(error, line=None, code: str | None = None) -> str:
    """``Type: message (line N: source)``, one line of at most about 450 characters."""
    text = printable(" ".join(str(error)[:10 * MAX_ERROR_CHARS].split())) if error is not None else "an exception"
    if len(text) > MAX_ERROR_CHARS:
        text = text[: MAX_ERROR_CHARS - 3] + "..."
    where = source_line(code, line)
    return f"{text} ({where})" if where else text


def disallowed_module(error) -> str | None:
    """The module named by an import error when it is outside ALLOWED_MODULES, else None."""
    text = str(error)[:1000] if error is not None else ""
    m = _NO_MODULE.match(text) or _OPTIONAL.match(text)
    if m is None:
        return None
    module = m.group(1)
    return None if module.split(".")[0] in ALLOWED_MODULES else module


def import_line(code: str | None, module: str) -> int | None:
    """The line of the first statement in ``code`` that imports ``module`` (or a package of it)."""
    try:
        tree = ast.parse(code or "")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    top = module.split(".")[0]
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module]
        if any(name == module or name.split(".")[0] == top for name in names):
            return node.lineno
    return None


def classify(error, line, code: str | None, default: str) -> tuple[str, str, str]:
    """``(reason, detail, error)`` of an exception reported by the child: ``disallowed_import``
    naming the module, else ``default`` (``exec_error``, ``crash``); ``error`` describes it."""
    module = disallowed_module(error)
    if module is not None:
        if not isinstance(line, int):
            line = import_line(code, module)
        text = describe(error, line, code)
        return "disallowed_import", f"disallowed_import: imports {module!r}: {text}", text
    text = describe(error, line, code)
    return default, f"{default}: {text}", text
