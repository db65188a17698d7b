"""The backends by name, and running one job on one: the registry above ``backend.py``'s interface
(so that the interface does not import the backends that implement it)."""

from __future__ import annotations

from grader.sandbox.backend import ISOLATIONS, Backend
from grader.sandbox.forkserver import shared_pool
from grader.sandbox.limits import DEFAULT_LIMITS
from grader.sandbox.protocol import CaseData, RawRun
from grader.sandbox.spawn import SpawnBackend


def get_backend(name: str) -> Backend:
    """The process-wide backend for the isolation ``name`` (one of ``ISOLATIONS``)."""
    if name in ("spawn", "none"):
        return SpawnBackend(isolated=name == "spawn")
    if name == "fork":
        return shared_pool()
    raise ValueError(f"isolation must be one of {', '.join(ISOLATIONS)}; got {name!r}")


def execute(job: dict, *, timeout_s: float, output_limit: int, isolation: str = "spawn", pool=None,
            data: CaseData | None = None) -> RawRun:
    """Run one job with the backend ``isolation`` (``pool``: a fork server pool to use)."""
    limits = DEFAULT_LIMITS.but(timeout_s=timeout_s, output_limit=output_limit, memory_mb=job.get("memory_mb"))
    backend = pool if (isolation == "fork" and pool is not None) else get_backend(isolation)
    return backend.run(job, limits, data)
