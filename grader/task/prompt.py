"""The task prompt a model receives (``grader/task_prompt.md``), and reading its answer."""

from __future__ import annotations

import re
from importlib import resources

_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?:python3?|py)\b[^\n]*$", re.IGNORECASE)


def task_prompt() -> str:
    """The Markdown prompt: implement ``detect_drift`` following SPEC section 2 exactly."""
    return resources.files("grader.task").joinpath("task_prompt.md").read_text(encoding="utf-8")


def extract_code(text: str) -> str | None:
    """The first ```python (or ```py) fenced block of a model response, or None.

    As Markdown reads it: the block ends at a fence of the same character at least as long
    (or at the end of the text), and loses the opening fence's indentation, so a block
    nested in a list item is code as written.
    """
    if not isinstance(text, str):
        return None
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        m = _OPEN.match(line.rstrip("\r\n"))
        if not m:
            continue
        indent, fence = len(m.group("indent").expandtabs(4)), m.group("fence")
        close = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        body = []
        for rest in lines[i + 1 :]:
            if close.match(rest.rstrip("\r\n")):
                break
            body.append(_unindent(rest, indent))
        return "".join(body)
    return None


def _unindent(line: str, width: int) -> str:
    """``line`` without up to ``width`` columns of leading blanks."""
    removed = 0
    while removed < width and line[:1] in (" ", "\t"):
        removed += 4 - removed % 4 if line[0] == "\t" else 1
        line = line[1:]
    return line
