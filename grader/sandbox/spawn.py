"""The ``spawn`` backend: a fresh interpreter running the harness for each job (slow start,
nothing shared between runs), in the minimal root (``bwrap.py``) unless ``isolated=False``."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from grader.sandbox import bwrap
from grader.sandbox.backend import Backend, full_job, isolation_layers, raw_run
from grader.sandbox.cgroup import MemoryGroup, available as cgroup_available, enter_command
from grader.sandbox.collect import collect
from grader.sandbox.confine import kill_group
from grader.sandbox.limits import DEFAULT_LIMITS, RESULT_LIMIT, Limits
from grader.sandbox.protocol import CaseData, RawRun, write_stream
from grader.sandbox.rundir import make_workdir, remove_workdir, workdir_of

HARNESS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "harness.py")
MIB = 1024 * 1024


def harness_argv(isolated: bool, args: list[str], die_with_parent: bool = True) -> list[str]:
    """The argv of the harness: in the minimal root, or (``isolated=False``) on the host."""
    return bwrap.command(args, die_with_parent) if isolated else [sys.executable, "-I", "-B", HARNESS, *args]


class SpawnBackend(Backend):
    """One harness process per job; the job and its case data on stdin."""

    name = "spawn"

    def __init__(self, isolated: bool = True):
        self.isolated = isolated

    def run(self, job: dict, limits: Limits = DEFAULT_LIMITS, data: CaseData | None = None) -> RawRun:
        started = time.monotonic()
        layers = {"backend": "spawn", **isolation_layers(self.isolated)}
        root = None if self.isolated else make_workdir(numba_cache=True)
        job = full_job(job, limits, f"{bwrap.RUN_DIR}/work" if self.isolated else workdir_of(root))
        group = MemoryGroup() if cgroup_available() else None
        if group is not None:
            group.limit(int(limits.memory_mb) * MIB if str(limits.memory_mb).isdigit() else 1 << 40)
        # Our own pipes (not subprocess.PIPE): ``collect`` owns and closes the read ends, and no
        # file object closes the same descriptor numbers again later (another thread may reuse them).
        (r_out, w_out), (r_err, w_err), (r_res, w_res) = os.pipe(), os.pipe(), os.pipe()
        readers = [r_out, r_err, r_res]
        try:
            try:
                proc = subprocess.Popen(
                    enter_command(group, harness_argv(self.isolated, [str(w_res)])),
                    stdin=subprocess.PIPE, stdout=w_out, stderr=w_err, pass_fds=(w_res,),
                    start_new_session=True, close_fds=True, cwd=root and job["workdir"] or "/", env=job["env"],
                )
            finally:
                for fd in (w_out, w_err, w_res):
                    os.close(fd)
            try:
                write_stream(proc.stdin.write, job, data.blob if data else b"")
                proc.stdin.close()
            except (BrokenPipeError, OSError):
                pass
            pidfd = os.pidfd_open(proc.pid)
            try:
                readers = []  # from here on ``collect`` closes them
                bufs, truncated, timed_out, _ = collect(
                    {"stdout": r_out, "stderr": r_err, "result": r_res},
                    pidfd,
                    lambda: kill_group(proc.pid),  # ended but not reaped yet: the pgid cannot be reused
                    started + limits.timeout_s,
                    lambda: kill_group(proc.pid),
                    {"stdout": limits.output_limit, "stderr": limits.output_limit, "result": RESULT_LIMIT},
                )
            finally:
                os.close(pidfd)
            proc.wait()
        finally:
            for fd in readers:
                os.close(fd)
            if root is not None:
                remove_workdir(root)
            memory = group is not None and group.new_kills()
            if group is not None:
                group.remove()
        return raw_run(job, bufs, truncated, timed_out, proc.returncode, started, layers=layers,
                       memory_exceeded=memory)


def run_spawn(job: dict, *, timeout_s: float, output_limit: int, data: CaseData | None = None) -> RawRun:
    """Run ``job`` in a fresh interpreter in the minimal root (kept for callers of the former module)."""
    return SpawnBackend().run(job, DEFAULT_LIMITS.but(timeout_s=timeout_s, output_limit=output_limit,
                                                      memory_mb=job.get("memory_mb")), data)
