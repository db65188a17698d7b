"""The ``fork`` backend: warm fork servers (numpy, pandas and the harness loaded once), each
forking one confined child per job; see ``serve.py`` for the server's side.

``ForkPool`` hands each job to an idle server, starting up to ``size`` of them. It is safe
to use from many threads; each server runs one job at a time.
"""

from __future__ import annotations

import atexit
import os
import queue
import socket
import subprocess
import threading
import time

from grader.sandbox import bwrap
from grader.sandbox import protocol as p
from grader.sandbox.backend import Backend, SandboxError, full_job, isolation_layers, raw_run
from grader.sandbox.cgroup import MemoryGroup, available as cgroup_available, enter_command
from grader.sandbox.collect import collect
from grader.sandbox.confine import kill_group
from grader.sandbox.limits import DEFAULT_LIMITS, RESULT_LIMIT, Limits
from grader.sandbox.rundir import MINIMAL_ENV, make_workdir, remove_workdir, workdir_of
from grader.sandbox.spawn import MIB, harness_argv

WORKER_START_TIMEOUT_S = 120.0
SAFETY_MARGIN_S = 10.0


class WorkerError(RuntimeError):
    """A worker could not start or died while serving a job."""


class _Worker:
    """The grader's end of one fork server: in the minimal root unless ``isolated=False``, and
    in its own memory cgroup (the server's baseline plus each job's ``memory_mb``)."""

    def __init__(self, isolated: bool = True):
        self.isolated = isolated
        self.layers = {"backend": "fork", **isolation_layers(isolated, probe=False)}  # ``ready`` is the probe
        self.group = MemoryGroup() if cgroup_available() else None
        parent_sock, child_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.proc = subprocess.Popen(
                enter_command(self.group, harness_argv(isolated, ["--serve", str(child_sock.fileno())], False)),
                pass_fds=(child_sock.fileno(),), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, env={**MINIMAL_ENV, "HOME": "/"}, close_fds=True, cwd="/",
                start_new_session=True,  # its own group: ``_kill`` ends bwrap and the server inside together
            )
        finally:
            child_sock.close()
        self.sock = parent_sock
        self.sent: set[str] = set()
        self.sock.settimeout(WORKER_START_TIMEOUT_S)
        try:
            msg, _ = p.recv_frame(self.sock)
        except (EOFError, OSError, ValueError) as exc:
            self.close()
            reason = bwrap.unavailable() if isolated else None  # why, in one line, when it is the sandbox
            if reason:
                raise SandboxError(reason) from None
            raise WorkerError(f"the grader worker did not start ({exc})") from None
        self.sock.settimeout(None)
        if msg.get("event") != p.READY:
            self.close()
            raise WorkerError(str(msg.get("message", msg)))
        self.alive = True

    def _send(self, job: dict, data, fds) -> None:
        if data is not None and data.key not in self.sent:
            p.send_frame(self.sock, {"event": p.DATA, "key": data.key})
            p.send_frame(self.sock, None, raw=data.blob)
            self.sent = {data.key} if len(self.sent) >= 4 else self.sent | {data.key}
        p.send_frame(self.sock, {**job, "data_key": data.key if data else None}, fds=fds)

    def run(self, job: dict, limits: Limits, data) -> p.RawRun:
        started = time.monotonic()
        root = None if self.isolated else make_workdir(numba_cache=True)
        job = full_job(job, limits, f"{bwrap.RUN_DIR}/work" if self.isolated else workdir_of(root))
        if self.group is not None:
            self.group.new_kills()
            self.group.limit(self.group.usage() + int(limits.memory_mb) * MIB)
        pipes = [os.pipe() for _ in range(3)]
        readers = [r for r, _ in pipes]  # closed here until ``collect`` takes them over
        ended = {"status": None, "timed_out": False}
        try:
            try:
                self._send(job, data, [w for _, w in pipes])
            finally:
                for _, w in pipes:
                    os.close(w)
            msg, _ = p.recv_frame(self.sock)
            if msg.get("event") != p.STARTED:
                self.alive = False
                raise WorkerError(f"the worker refused the job: {msg}")

            def on_exit():
                try:
                    end, _ = p.recv_frame(self.sock)
                    ended.update(status=end.get("status"), timed_out=end.get("timed_out") is True)
                except (EOFError, OSError, ValueError):
                    self.alive = False

            streams = dict(zip(("stdout", "stderr", "result"), readers))
            readers = []
            bufs, truncated, _, exited = collect(
                streams, self.sock.fileno(), on_exit, started + limits.timeout_s + SAFETY_MARGIN_S,
                self._kill,  # the worker enforces the limit; this only fires if the worker hangs
                {"stdout": limits.output_limit, "stderr": limits.output_limit, "result": RESULT_LIMIT},
            )
        except (EOFError, OSError, ValueError) as exc:
            self.alive = False
            raise WorkerError(f"the grader worker failed: {exc}") from None
        finally:
            for fd in readers:
                os.close(fd)
            if root is not None:
                remove_workdir(root)
        if not exited:
            self.alive = False  # the worker never reported the end: it is not trusted again
        status = ended["status"]
        exit_code = os.waitstatus_to_exitcode(status) if isinstance(status, int) else None
        memory = self.group is not None and self.group.new_kills()
        return raw_run(job, bufs, truncated, ended["timed_out"], exit_code, started, layers=self.layers,
                       memory_exceeded=memory)

    def _kill(self) -> None:
        self.alive = False
        kill_group(self.proc.pid)

    def close(self) -> None:
        self.alive = False
        try:
            self.sock.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            kill_group(self.proc.pid)
            self.proc.wait()
        if self.group is not None:
            self.group.remove()


class ForkPool(Backend):
    """Up to ``size`` warm fork servers; ``run(job, ...)`` borrows one for the job's duration."""

    name = "fork"

    def __init__(self, size: int | None = None, isolated: bool = True):
        self.size = max(1, int(size or os.cpu_count() or 1))
        self.isolated = isolated
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._lock = threading.Lock()
        self._started = 0
        self._workers: list[_Worker] = []
        self._closed = False

    def _borrow(self) -> _Worker:
        """An idle worker, a new one while fewer than ``size`` run, else wait for one.

        Waiting polls, so a worker that dies while borrowed frees its slot for a new one.
        """
        while True:
            try:
                return self._idle.get(timeout=0.1)
            except queue.Empty:
                pass
            with self._lock:
                if self._closed:
                    raise WorkerError("the pool is closed")
                if self._started < self.size:
                    self._started += 1
                    break
        try:
            worker = _Worker(self.isolated)
        except BaseException:
            with self._lock:
                self._started -= 1
            raise
        with self._lock:
            self._workers.append(worker)
        return worker

    def _give_back(self, worker: _Worker) -> None:
        if worker.alive and not self._closed:
            self._idle.put(worker)
            return
        worker.close()
        with self._lock:
            self._started -= 1
            if worker in self._workers:
                self._workers.remove(worker)

    def run(self, job: dict, limits: Limits = DEFAULT_LIMITS, data=None, *, timeout_s=None,
            output_limit=None) -> p.RawRun:
        """Run one job on a warm worker; a worker that fails is replaced and the job retried once."""
        limits = limits.but(timeout_s=timeout_s, output_limit=output_limit)
        for attempt in (1, 2):
            worker = self._borrow()
            try:
                return worker.run(job, limits, data)
            except WorkerError:
                if attempt == 2:
                    raise
            finally:
                self._give_back(worker)
        raise AssertionError("unreachable")

    def warm(self, wait: bool = True, count: int | None = None) -> None:
        """Start every worker now (or ``count`` of them), all at once, so that the first jobs do
        not pay for the imports; the others start when jobs need them.

        With ``wait=False`` they start in the background: a job sent meanwhile takes the first
        worker ready, while the caller does its own start-up work (imports, the expected values).
        """
        def start() -> None:
            try:
                self._give_back(self._borrow())
            except (WorkerError, SandboxError):
                pass  # the pool is closed, or the worker failed: the next ``run`` reports it

        threads = [threading.Thread(target=start, daemon=True) for _ in range(min(self.size, count or self.size))]
        for t in threads:
            t.start()
        if wait:
            for t in threads:
                t.join()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers, self._workers = list(self._workers), []
        for w in workers:
            w.close()


_shared: ForkPool | None = None
_shared_lock = threading.Lock()


def shared_pool() -> ForkPool:
    """The process-wide pool used when no pool is given (closed at exit)."""
    global _shared
    with _shared_lock:
        if _shared is None or _shared._closed:
            _shared = ForkPool()
            atexit.register(_shared.close)
        return _shared
