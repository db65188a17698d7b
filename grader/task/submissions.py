"""Where submissions come from: ``.py`` files, model responses, directories, JSON Lines."""

from __future__ import annotations

import json
from pathlib import Path

from grader.task.prompt import extract_code

RESPONSE_SUFFIXES = (".md", ".txt")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
SUFFIXES = (".py",) + RESPONSE_SUFFIXES + JSONL_SUFFIXES


class SubmissionError(ValueError):
    """A path or line that cannot be read as a submission; the message says which and why."""


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig", errors="replace")  # -sig: an editor's BOM is not code
    except OSError as exc:
        raise SubmissionError(f"cannot read {path}: {exc.strerror or exc}") from None


def _jsonl(path: Path):
    for n, line in enumerate(_read(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise SubmissionError(f"{path}:{n}: not JSON ({exc}); expected one object with a 'code' field per line") from None
        if not isinstance(obj, dict) or "code" not in obj:
            raise SubmissionError(f"{path}:{n}: expected a JSON object with a 'code' field")
        code = obj["code"]
        if code is not None and not isinstance(code, str):
            raise SubmissionError(f"{path}:{n}: 'code' must be a string or null, got {type(code).__name__}")
        ident = obj.get("id")
        source = f"{path}:{n}" if ident is None else f"{path}:{n}:{ident}"
        if code is not None and obj.get("format") == "response":
            code = extract_code(code)
        yield source, code


def load(paths) -> list[tuple[str, str | None]]:
    """``(source, code)`` pairs from files, directories (recursively, sorted) and JSON Lines.

    A ``.md``/``.txt`` response contributes its first ```python block (None when it has none).
    """
    out: list[tuple[str, str | None]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES)
            out += load(files)
        elif not path.exists():
            raise SubmissionError(f"{path}: no such file or directory")
        elif path.suffix in JSONL_SUFFIXES:
            out += list(_jsonl(path))
        elif path.suffix in RESPONSE_SUFFIXES:
            out.append((str(path), extract_code(_read(path))))
        elif path.suffix == ".py":
            out.append((str(path), _read(path)))
        else:
            raise SubmissionError(f"{path}: unknown kind of file; give .py, .md, .txt, .jsonl or a directory")
    return out
