"""Grading at scale: a pool of warm fork workers, and many submissions graded in parallel.

``ForkPool`` starts ``grader.worker`` processes (numpy, pandas and streamdrift imported
once) and hands each job to an idle one, which forks a confined child for it. It is safe
to use from many threads; each worker serves one job at a time.
"""

from __future__ import annotations

import atexit
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from grader.sandbox import (
    MINIMAL_ENV,
    RESULT_LIMIT,
    RawRun,
    collect,
    make_workdir,
    parse_events,
    remove_workdir,
    workdir_of,
)
from grader.worker import recv_frame, send_frame

WORKER_START_TIMEOUT_S = 120.0
SAFETY_MARGIN_S = 10.0


class WorkerError(RuntimeError):
    """A worker could not start or died while serving a job."""


def _worker_env() -> dict[str, str]:
    return {**MINIMAL_ENV, "HOME": os.environ.get("HOME", "/tmp")}


class _Worker:
    def __init__(self):
        parent_sock, child_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-B", "-m", "grader.worker", str(child_sock.fileno())],
                pass_fds=(child_sock.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=_worker_env(),
                close_fds=True,
            )
        finally:
            child_sock.close()
        self.sock = parent_sock
        self.sock.settimeout(WORKER_START_TIMEOUT_S)
        try:
            msg, _ = recv_frame(self.sock)
        except (EOFError, OSError, ValueError) as exc:
            self.close()
            raise WorkerError(f"the grader worker did not start ({exc})") from None
        self.sock.settimeout(None)
        if msg.get("event") != "ready":
            self.close()
            raise WorkerError(str(msg.get("message", msg)))
        self.alive = True

    def run(self, job: dict, *, timeout_s: float, output_limit: int) -> RawRun:
        started = time.monotonic()
        root = make_workdir()  # the worker has the kernels in memory: no numba cache needed
        workdir = workdir_of(root)
        pipes = [os.pipe() for _ in range(3)]
        readers = [r for r, _ in pipes]  # closed here until ``collect`` takes them over
        ended = {"status": None, "timed_out": False}
        try:
            try:
                send_frame(self.sock, {**job, "workdir": workdir, "timeout_s": timeout_s},
                           fds=[w for _, w in pipes])
            finally:
                for _, w in pipes:
                    os.close(w)
            msg, _ = recv_frame(self.sock)
            if msg.get("event") != "started":
                self.alive = False
                raise WorkerError(f"the worker refused the job: {msg}")

            def on_exit():
                try:
                    end, _ = recv_frame(self.sock)
                    ended.update(status=end.get("status"), timed_out=end.get("timed_out") is True)
                except (EOFError, OSError, ValueError):
                    self.alive = False

            streams = dict(zip(("stdout", "stderr", "result"), readers))
            readers = []
            bufs, truncated, _, exited = collect(
                streams,
                self.sock.fileno(),
                on_exit,
                started + timeout_s + SAFETY_MARGIN_S,
                self._kill,  # the worker enforces the limit; this only fires if the worker hangs
                {"stdout": output_limit, "stderr": output_limit, "result": RESULT_LIMIT},
            )
        except (EOFError, OSError, ValueError) as exc:
            self.alive = False
            raise WorkerError(f"the grader worker failed: {exc}") from None
        finally:
            for fd in readers:
                os.close(fd)
            remove_workdir(root)
        if not exited:
            self.alive = False  # the worker never reported the end: it is not trusted again
        status = ended["status"]
        exit_code = os.waitstatus_to_exitcode(status) if isinstance(status, int) else None
        events, garbage = parse_events(bytes(bufs["result"]))
        return RawRun(bytes(bufs["stdout"]), bytes(bufs["stderr"]), events, ended["timed_out"], exit_code,
                      time.monotonic() - started, truncated, garbage)

    def _kill(self) -> None:
        self.alive = False
        try:
            self.proc.kill()
        except OSError:
            pass

    def close(self) -> None:
        self.alive = False
        try:
            self.sock.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class ForkPool:
    """Up to ``size`` warm workers; ``run(job, ...)`` borrows one for the job's duration."""

    def __init__(self, size: int | None = None):
        self.size = max(1, int(size or os.cpu_count() or 1))
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
            worker = _Worker()
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

    def run(self, job: dict, *, timeout_s: float, output_limit: int) -> RawRun:
        """Run one job on a warm worker; a worker that fails is replaced and the job retried once."""
        for attempt in (1, 2):
            worker = self._borrow()
            try:
                return worker.run(job, timeout_s=timeout_s, output_limit=output_limit)
            except WorkerError:
                if attempt == 2:
                    raise
            finally:
                self._give_back(worker)
        raise AssertionError("unreachable")

    def warm(self) -> None:
        """Start every worker now (so the first jobs do not pay for the imports)."""
        workers = [self._borrow() for _ in range(self.size)]
        for w in workers:
            self._give_back(w)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers, self._workers = list(self._workers), []
        for w in workers:
            w.close()

    def __enter__(self) -> "ForkPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


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


@dataclass
class Graded:
    """One submission's verdict in a batch: where it came from and its ``GradeResult``."""

    source: str
    result: object

    def to_dict(self) -> dict:
        return {"submission": self.source, **self.result.to_dict()}


def grade_many(submissions, *, jobs: int | None = None, isolation: str = "fork", on_result=None,
               pool: ForkPool | None = None, **kw) -> list[Graded]:
    """Grade ``(source, code)`` pairs with ``jobs`` in parallel; results in input order.

    ``on_result(graded)`` is called as each finishes (in completion order), e.g. to stream
    JSON lines. With ``isolation="fork"`` a pool of ``jobs`` workers is started and closed
    here, unless ``pool`` is given (e.g. already warmed with ``ForkPool.warm()`` for a
    benchmark; it is left open). Extra keywords go to ``grade_code``.
    """
    from grader.grade import grade_code, harness_error

    items = list(submissions)
    jobs = max(1, int(jobs or os.cpu_count() or 1))
    own_pool = isolation == "fork" and pool is None
    if own_pool:
        pool = ForkPool(jobs)
    elif isolation != "fork":
        pool = None
    lock = threading.Lock()

    def one(item):
        source, code = item
        started = time.monotonic()
        try:
            result = grade_code(code, isolation=isolation, pool=pool, **kw)
        except Exception as exc:  # noqa: BLE001 - one submission the grader failed on; the batch goes on
            result = harness_error(exc, started)
        graded = Graded(source, result)
        if on_result is not None:
            with lock:
                on_result(graded)
        return graded

    ex = ThreadPoolExecutor(max_workers=jobs)
    try:
        results = list(ex.map(one, items))
    except BaseException:  # Ctrl-C: drop what has not started; closing the pool ends the rest
        ex.shutdown(wait=False, cancel_futures=True)
        if own_pool:
            pool.close()
        raise
    ex.shutdown()
    if own_pool:
        pool.close()
    return results
