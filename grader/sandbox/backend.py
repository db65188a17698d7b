"""The backend interface: how a job reaches a confined child. One file per backend.

Like inspect_ai's ``SandboxEnvironment``: an abstract class with documented methods, and
backends found by name (``spawn``: a process per submission, ``fork``: warm fork servers). Every backend runs the same standalone harness with the same confinement,
so a job gives the same verdict on each; only start-up cost differs.
"""

from __future__ import annotations

import secrets
import time
from abc import ABC, abstractmethod
from typing import ClassVar

from grader.sandbox.confine import fresh_uid
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
    """The job as the harness reads it: the limits, the working directory and environment, and
    a fresh key that signs the harness's event lines, and a fresh uid to run as."""
    return {**limits.job_fields(), **job, "workdir": workdir, "timeout_s": limits.timeout_s,
            "env": child_env(workdir), "key": secrets.token_hex(32), "uid": fresh_uid()}


def raw_run(job: dict, bufs, truncated: bool, timed_out: bool, exit_code, started: float, *,
            layers: dict, memory_exceeded: bool = False) -> RawRun:
    """The run as the grader sees it: only lines signed with the job's key count as events."""
    events, garbage = parse_events(bytes(bufs["result"]), bytes.fromhex(job["key"]))
    return RawRun(bytes(bufs["stdout"]), bytes(bufs["stderr"]), events, timed_out, exit_code,
                  time.monotonic() - started, truncated, garbage, memory_exceeded, layers)


def isolation_layers(isolated: bool, probe: bool = True) -> dict:
    """The layers a backend puts around the harness; raises SandboxError when ``isolated`` is
    asked for and bubblewrap cannot be used here (with how to install it).

    ``probe=False`` checks only that ``bwrap`` is installed, not that it can build the root
    (a sandboxed interpreter started just to ask): a backend whose own start shows that
    anyway (the fork server's ``ready``) asks ``bwrap.unavailable()`` only when it failed.
    """
    from grader.sandbox import bwrap, cgroup

    if isolated:
        reason = bwrap.unavailable() if probe else bwrap.missing()
        if reason:
            raise SandboxError(reason)
    return {"bwrap": isolated, "cgroup_memory": cgroup.available()}


def describe_isolation(iso: dict) -> str:
    """The isolation a run had, in a few words (for reports)."""
    parts = ["minimal root (bubblewrap)" if iso.get("bwrap") else "NO minimal root (host file system)"]
    if iso.get("cgroup_memory"):
        parts.append("memory cgroup")
    if iso.get("namespaces"):
        parts.append("namespaces " + "+".join(iso["namespaces"]))
    if iso.get("uid"):
        parts.append("unprivileged uid")
    if iso.get("rlimits"):
        parts.append("rlimits")
    return ", ".join(parts)


def check_setup(raw: RawRun) -> None:
    """Raise SandboxError when the child reported that confinement itself failed, or never
    started (no signed report at all: nothing the job did can cause that)."""
    for event in raw.events:
        if event.get("event") == ISOLATION:
            return  # confinement succeeded before anything the job could forge
        if event.get("event") == HARNESS_ERROR and event.get("stage") == "confine":
            raise SandboxError(f"the sandbox could not be set up: {event.get('error')}")
    if not raw.timed_out:
        err = raw.stderr.decode("utf-8", "replace").strip().splitlines()
        raise SandboxError(f"the sandbox did not start: {err[-1] if err else f'exit code {raw.exit_code}'}")


ISOLATIONS = ("fork", "spawn", "none")
"""``fork`` and ``spawn``: the backends, in the minimal root; ``none``: a spawned child on the
host's file system (namespaces and rlimits where allowed), for trusted code only."""
