"""The limits of one sandboxed run, with the one set of defaults every caller shares."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace


@dataclass(frozen=True)
class Limits:
    """What one run may use. ``timeout_s`` is wall time for everything the run does (the CPU
    limit is derived from it), ``memory_mb`` bounds the child's memory, ``output_limit`` the
    characters kept of each output stream (and of each graded call's printed output),
    ``file_mb`` one written file, ``nproc`` its processes."""

    timeout_s: float = 20.0
    memory_mb: int = 2048
    output_limit: int = 64_000
    file_mb: int = 16
    nproc: int = 32

    def but(self, **changes) -> "Limits":
        """A copy with ``changes`` (``None`` values keep the default)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def job_fields(self) -> dict:
        """The limits as the harness reads them from a job."""
        return asdict(self)


DEFAULT_LIMITS = Limits()
RESULT_LIMIT = 8_000_000
"""Bytes kept of the result channel (the per-case reports)."""
MAX_CODE_CHARS = 1_000_000
