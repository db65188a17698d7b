"""The warm fork server, child side: numpy, pandas and the harness loaded once; one confined
child forked per job. Standard library plus numpy/pandas; started as
``python -I -B harness.py --serve SOCKET_FD`` (never as ``grader.*``).

Frames over a Unix stream socket (``protocol.send_frame``):

* server -> grader: ``ready`` once warm (or ``error``);
* grader -> server: optionally ``data`` followed by a raw frame (a case-data blob, kept by
  its key), then a job with three descriptors attached (stdout, stderr and result-channel
  write ends) that the child gets as fds 1, 2 and 3+;
* server -> grader: ``started``, then ``exited`` with the wait status when the child ended.

The server enforces the job's wall-time limit itself: it is the child's parent, so it can
kill the child's process group while the child is still unreaped (no pid-reuse race). When
the grader goes away (EOF), the server kills its running child and exits.
"""

import os
import select
import signal
import socket
import time
import warnings

CACHED_DATA = 4


class Server:
    def __init__(self, sock: socket.socket, harness):
        self.sock = sock
        self.harness = harness
        self.protocol = harness.protocol
        self.frames = {}  # data key -> DataFrames built once, shared copy-on-write by the children
        self.snapshot = harness.judge.bind()[0]
        self.warming = warm_up()  # None once it has run to its end
        self.pid_ns = None  # this server's own PID namespace, to fork each job into a new one
        if os.geteuid() == 0:
            try:
                self.pid_ns = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                pass

    def _warm_up_when_idle(self) -> None:
        """The next steps of ``warm_up``, while no frame waits: never before a job that is there."""
        if self.warming is None:
            return
        try:
            with warnings.catch_warnings(record=True):  # "always": no warning is marked as already shown
                warnings.simplefilter("always")
                while not select.select([self.sock], [], [], 0)[0]:
                    next(self.warming)
        except StopIteration:
            self.warming = None
        except Exception:  # noqa: BLE001 - only an optimisation: a numpy or pandas that differs is still served
            self.warming = None

    def serve(self) -> None:
        p = self.protocol
        while True:
            self._warm_up_when_idle()
            try:
                msg, fds = p.recv_frame(self.sock, maxfds=3)
                if msg.get("event") == p.DATA:
                    blob, _ = p.recv_frame(self.sock, raw=True)
                    if len(self.frames) >= CACHED_DATA:
                        self.frames.clear()
                    self.frames[msg["key"]] = self.harness.build_frames(p.decode_cases(blob), self.snapshot)
                    continue
            except (EOFError, ConnectionError, OSError):
                return
            if len(fds) != 3:
                for fd in fds:
                    os.close(fd)
                p.send_frame(self.sock, {"event": p.ERROR, "message": f"expected 3 descriptors, got {len(fds)}"})
                continue
            if not self.run(msg, fds):
                return

    def run(self, job: dict, fds: list) -> bool:
        p = self.protocol
        frames = self.frames.get(job.get("data_key")) if job.get("mode") == "grade" else None
        own_ns = self.pid_ns if job.get("namespaces", True) else None
        pid, pid1 = self.harness.confine.fork_pid1(own_ns)
        if pid == 0:
            self._child(job, fds, frames, pid1)
        for fd in fds:
            os.close(fd)
        p.send_frame(self.sock, {"event": p.STARTED, "pid": pid})
        status, timed_out, alive = self._wait(pid, float(job["timeout_s"]))
        if alive:
            p.send_frame(self.sock, {"event": p.EXITED, "status": status, "timed_out": timed_out})
        return alive

    def _wait(self, pid: int, timeout_s: float):
        kill_group = self.harness.confine.kill_group
        pidfd = os.pidfd_open(pid)
        deadline = time.monotonic() + timeout_s
        timed_out, alive = False, True
        try:
            while True:
                wait = None if timed_out else max(0.0, deadline - time.monotonic())
                readable, _, _ = select.select([pidfd, self.sock], [], [], wait)
                if pidfd in readable:
                    break
                if self.sock in readable and not self.sock.recv(1, socket.MSG_PEEK):
                    alive = False  # the grader has gone: kill the child and stop
                    kill_group(pid)
                    break
                if not timed_out and time.monotonic() >= deadline:
                    timed_out = True
                    kill_group(pid)
            kill_group(pid)  # ended but unreaped: kills whatever it left in its group
            _, status = os.waitpid(pid, 0)
        finally:
            os.close(pidfd)
        return status, timed_out, alive

    def _child(self, job: dict, fds: list, frames, pid1: bool) -> None:
        try:
            os.setsid()
            self.sock.close()
            if self.pid_ns is not None:
                os.close(self.pid_ns)
            out_w, err_w, res_w = fds
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            for fd in (devnull, out_w, err_w):
                if fd > 2:
                    os.close(fd)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.environ.clear()
            os.environ.update(job.get("env") or {})
            self.harness.run_job(job, res_w, frames, pid1=pid1)
        finally:
            os._exit(70)


def warm_up():
    """Pay once, in the server, the first-call costs (lazy imports, caches) of what submissions
    commonly do with numpy and pandas, so that each forked job does not pay them again.

    A generator: each step takes a few milliseconds, so that the server can stop between two
    steps when a frame arrives (and resume later), and no job waits for it.
    """
    import numpy as np
    import pandas as pd

    x = np.linspace(0.0, 9.0, 40)
    old = pd.DataFrame({"a": x, "b": (x * 3).astype(np.int64), "c": x.astype(np.float32)})
    new = old.iloc[::-1].reset_index(drop=True)
    yield
    for col in old.columns:
        a = old[col].replace([np.inf, -np.inf], np.nan).dropna().astype("float64")
        b = new[col].to_numpy(dtype=float)
        b = b[np.isfinite(b)]
        edges = np.linspace(min(a.min(), b.min()), max(a.max(), b.max()), 21)
        p = np.histogram(a, bins=edges)[0] + 1e-10
        q = np.histogram(b, edges)[0] + 1e-10
        p, q = p / np.sum(p), q / q.sum()
        kl = float(np.sum(p * np.log(p / q)))
        yield
        pd.cut(pd.concat([a, pd.Series(b)]), bins=20, include_lowest=True).value_counts(sort=False).to_numpy()
        yield
        pd.Series(p).div(pd.Series(q)).pipe(np.log).mul(p).sum()
        old[col].isna().any(), new[col].notna().sum(), old[col].dropna().tolist(), f"{kl:.4f} {kl!r}"
        yield
    old.dropna(), old.isnull().sum(), np.nan_to_num(x), np.digitize(x, edges), np.bincount(x.astype(int))

def main(sock_fd: int, harness) -> None:
    sock = socket.socket(fileno=sock_fd)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the grader decides when the server ends
    p = harness.protocol
    try:
        import numpy  # noqa: F401
        import pandas  # noqa: F401
    except BaseException as exc:
        p.send_frame(sock, {"event": p.ERROR, "message": f"worker preload failed: {type(exc).__name__}: {exc}"})
        return
    try:  # when memory runs out in the run's cgroup, the kernel kills the job, never the server
        with open("/proc/self/oom_score_adj", "w") as fh:
            fh.write("-1000")
    except OSError:
        pass
    p.send_frame(sock, {"event": p.READY, "pid": os.getpid()})
    Server(sock, harness).serve()
    os._exit(0)  # the grader has gone: no interpreter shutdown (it took ~0.5 s with pandas loaded)
