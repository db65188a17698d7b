"""The task prompt a model receives (``grader/task_prompt.md``), and reading its answer."""

from __future__ import annotations

import re
from importlib import resources

_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*(?:python3?|py)\b[^\n]*\n(.*?)^[ \t]*\1[ \t\r]*$",
                    re.DOTALL | re.MULTILINE | re.IGNORECASE)


def task_prompt() -> str:
    """The Markdown prompt: implement ``detect_drift`` following SPEC section 2 exactly."""
    return resources.files("grader").joinpath("task_prompt.md").read_text(encoding="utf-8")


def extract_code(text: str) -> str | None:
    """The first ```python (or ```py) fenced block of a model response, or None."""
    if not isinstance(text, str):
        return None
    m = _FENCE.search(text)
    return m.group(2) if m else None
