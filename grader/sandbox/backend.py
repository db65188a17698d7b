"""The backend interface: how a job reaches a confined child. One file per backend.

Like inspect_ai's ``SandboxEnvironment``: an abstract class with documented methods, and
backends found by name in a registry (``spawn``: a process per submission, ``fork``: warm
fork servers). Every backend runs the same standalone harness with the same confinement,
so a job gives the same verdict on each; only start-up cost differs.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from typing import ClassVar

from grader.sandbox.limits import DEFAULT_LIMITS, Limits
from grader.sandbox.protocol import HARNESS_ERROR, ISOLATION, CaseData, RawRun, parse_events
from grader.sandbox.rundir import child_env


class SandboxError(RuntimeError):
    """The sandbox could not be set up (a problem of the machine or the grader, not the code)."""


class Backend(ABC):
    """Runs jobs (``protocol``'s job schema) in confined children. Thread-safe."""

    name: ClassVar[str]

    @abstractmethod
    def run(self, job: dict, limits: Limits = DEFAULT_LIMITS, data: CaseData | None = None) -> RawRun:
        """Run one job under ``limits``, with ``data`` (the cases' blob) for a ``grade`` job.

        Returns what the child wrote (output capped at ``limits.output_limit`` per stream),
        its result-channel events, and how it ended. A job past ``limits.timeout_s`` has its
        whole process tree killed and ``timed_out`` set. Raises ``SandboxError`` when the
        sandbox itself cannot be started.
        """

    def warm(self) -> None:
        """Start now whatever the backend keeps ready, so the first job does not wait for it."""

    def close(self) -> None:
        """Stop whatever the backend keeps running; runs already started end first."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def full_job(job: dict, limits: Limits, workdir: str) -> dict:
    """The job as the harness reads it: the limits, the working directory and environment."""
    return {**limits.job_fields(), **job, "workdir": workdir, "timeout_s": limits.timeout_s,
            "env": child_env(workdir)}


def raw_run(bufs, truncated: bool, timed_out: bool, exit_code, started: float) -> RawRun:
    events, garbage = parse_events(bytes(bufs["result"]))
    return RawRun(bytes(bufs["stdout"]), bytes(bufs["stderr"]), events, timed_out, exit_code,
                  time.monotonic() - started, truncated, garbage)


def check_setup(raw: RawRun) -> None:
    """Raise SandboxError when the child reported that confinement itself failed."""
    for event in raw.events:
        if event.get("event") == ISOLATION:
            return  # confinement succeeded before anything the job could forge
        if event.get("event") == HARNESS_ERROR and event.get("stage") == "confine":
            raise SandboxError(f"the sandbox could not be set up: {event.get('error')}")


def get_backend(name: str) -> Backend:
    """The process-wide backend called ``name`` (``spawn`` or ``fork``)."""
    if name == "spawn":
        from grader.sandbox.spawn import SpawnBackend

        return SpawnBackend()
    if name == "fork":
        from grader.sandbox.forkserver import shared_pool

        return shared_pool()
    raise ValueError(f"isolation must be 'spawn' or 'fork', got {name!r}")


def execute(job: dict, *, timeout_s: float, output_limit: int, isolation: str = "spawn", pool=None,
            data: CaseData | None = None) -> RawRun:
    """Run one job with the backend ``isolation`` (``pool``: a fork server pool to use)."""
    limits = DEFAULT_LIMITS.but(timeout_s=timeout_s, output_limit=output_limit, memory_mb=job.get("memory_mb"))
    backend = pool if (isolation == "fork" and pool is not None) else get_backend(isolation)
    return backend.run(job, limits, data)
