"""The ``spawn`` backend: a fresh interpreter running the harness for each job (slow start,
nothing shared between runs)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from grader.sandbox.backend import Backend, full_job, raw_run
from grader.sandbox.collect import collect
from grader.sandbox.confine import kill_group
from grader.sandbox.limits import DEFAULT_LIMITS, RESULT_LIMIT, Limits
from grader.sandbox.protocol import CaseData, RawRun, write_stream
from grader.sandbox.rundir import make_workdir, remove_workdir, workdir_of

HARNESS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "harness.py")


class SpawnBackend(Backend):
    """One ``python -I -B harness.py`` per job; the job and its case data on stdin."""

    name = "spawn"

    def run(self, job: dict, limits: Limits = DEFAULT_LIMITS, data: CaseData | None = None) -> RawRun:
        started = time.monotonic()
        root = make_workdir(numba_cache=True)
        job = full_job(job, limits, workdir_of(root))
        # Our own pipes (not subprocess.PIPE): ``collect`` owns and closes the read ends, and no
        # file object closes the same descriptor numbers again later (another thread may reuse them).
        (r_out, w_out), (r_err, w_err), (r_res, w_res) = os.pipe(), os.pipe(), os.pipe()
        readers = [r_out, r_err, r_res]
        try:
            try:
                proc = subprocess.Popen(
                    [sys.executable, "-I", "-B", HARNESS, str(w_res)],
                    stdin=subprocess.PIPE, stdout=w_out, stderr=w_err, pass_fds=(w_res,),
                    start_new_session=True, close_fds=True, cwd=job["workdir"], env=job["env"],
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
            remove_workdir(root)
        return raw_run(bufs, truncated, timed_out, proc.returncode, started)


def run_spawn(job: dict, *, timeout_s: float, output_limit: int, data: CaseData | None = None) -> RawRun:
    """Run ``job`` in a fresh interpreter (kept for callers of the former module)."""
    return SpawnBackend().run(job, DEFAULT_LIMITS.but(timeout_s=timeout_s, output_limit=output_limit,
                                                      memory_mb=job.get("memory_mb")), data)
