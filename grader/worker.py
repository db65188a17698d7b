"""The warm worker: a process with numpy, pandas and streamdrift imported that forks one
confined child per job ("fork" isolation). Run as ``python -I -B -m grader.worker SOCKET_FD``.

Protocol over a Unix stream socket, frames of a 4-byte big-endian length and JSON:

* worker -> parent: ``{"event": "ready"}`` once warm (or ``{"event": "error", ...}``);
* parent -> worker: a job, with three file descriptors attached to its length prefix
  (stdout, stderr and result-channel write ends) that the child gets as fds 1, 2 and 3+;
* worker -> parent: ``{"event": "started", "pid": N}``, then ``{"event": "exited",
  "status": <wait status>, "timed_out": bool}`` when the child has ended.

The worker enforces the job's wall-time limit itself: it is the child's parent, so it can
kill the child's process group while the child is still unreaped (no pid-reuse race). When
the parent goes away (EOF), the worker kills its running child and exits. The worker
holds no expected values: only the cases' data, which every child gets anyway.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import struct
import sys
import time

_HEADER = struct.Struct(">I")
MAX_FRAME = 64 * 1024 * 1024


def send_frame(sock: socket.socket, obj, fds=()) -> None:
    payload = json.dumps(obj).encode("utf-8")
    header = _HEADER.pack(len(payload))
    if fds:
        socket.send_fds(sock, [header], list(fds))
    else:
        sock.sendall(header)
    sock.sendall(payload)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    chunks = []
    while n:
        chunk = sock.recv(n)
        if not chunk:
            raise EOFError("the other end closed the socket")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def recv_frame(sock: socket.socket, maxfds: int = 0):
    """One frame: ``(obj, fds)``. Raises EOFError when the other end has gone."""
    fds: list[int] = []
    if maxfds:
        data, fds, _flags, _addr = socket.recv_fds(sock, _HEADER.size, maxfds)
        if not data:
            raise EOFError("the other end closed the socket")
        if len(data) < _HEADER.size:
            data += _recv_exact(sock, _HEADER.size - len(data))
    else:
        data = _recv_exact(sock, _HEADER.size)
    (size,) = _HEADER.unpack(data)
    if size > MAX_FRAME:
        raise ValueError(f"frame of {size} bytes is larger than {MAX_FRAME}")
    return json.loads(_recv_exact(sock, size)), fds


def _preload() -> None:
    """Import and warm what submissions and the harness use, once, before any fork."""
    import numpy  # noqa: F401
    import pandas  # noqa: F401

    import grader._sandbox_child  # noqa: F401
    from grader.cases import make_cases

    try:  # the gold check and some submissions use streamdrift itself: load its compiled kernels
        from streamdrift._kernels import load_jit

        load_jit()
    except Exception:
        pass
    make_cases(0)


class Worker:
    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.frames: dict[int, list] = {}

    def frames_for(self, seed: int) -> list:
        from grader._sandbox_child import build_frames
        from grader.cases import make_cases

        if seed not in self.frames:
            if len(self.frames) >= 4:
                self.frames.clear()
            self.frames[seed] = build_frames(make_cases(seed))
        return self.frames[seed]

    def serve(self) -> None:
        while True:
            try:
                job, fds = recv_frame(self.sock, maxfds=3)
            except (EOFError, ConnectionError, OSError):
                return
            if len(fds) != 3:
                for fd in fds:
                    os.close(fd)
                send_frame(self.sock, {"event": "error", "message": f"expected 3 descriptors, got {len(fds)}"})
                continue
            if not self.run(job, fds):
                return

    def run(self, job: dict, fds: list[int]) -> bool:
        try:
            frames = self.frames_for(int(job.get("seed", 0))) if job.get("mode") == "grade" else None
        except Exception:
            frames = None  # the child builds them itself and reports the failure
        pid = os.fork()
        if pid == 0:
            self._child(job, fds, frames)
        for fd in fds:
            os.close(fd)
        send_frame(self.sock, {"event": "started", "pid": pid})
        pidfd = os.pidfd_open(pid)
        deadline = time.monotonic() + float(job.get("timeout_s", 10.0))
        timed_out = False
        alive = True
        try:
            while True:
                wait = None if timed_out else max(0.0, deadline - time.monotonic())
                readable, _, _ = select.select([pidfd, self.sock], [], [], wait)
                if pidfd in readable:
                    break
                if self.sock in readable and not self.sock.recv(1, socket.MSG_PEEK):
                    alive = False  # the parent has gone: kill the child and stop
                    _kill_group(pid)
                    break
                if not timed_out and time.monotonic() >= deadline:
                    timed_out = True
                    _kill_group(pid)
            _kill_group(pid)  # ended but unreaped: kills whatever it left in its group
            _, status = os.waitpid(pid, 0)
        finally:
            os.close(pidfd)
        if alive:
            send_frame(self.sock, {"event": "exited", "status": status, "timed_out": timed_out})
        return alive

    def _child(self, job: dict, fds: list[int], frames) -> None:
        try:
            from grader._sandbox_child import run_job
            from grader.sandbox import child_env

            os.setsid()
            self.sock.close()
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
            os.environ.update(child_env(job["workdir"]))
            run_job(job, res_w, frames)
        finally:
            os._exit(70)


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def main() -> None:
    sock = socket.socket(fileno=int(sys.argv[1]))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when the worker ends
    try:
        _preload()
    except BaseException as exc:
        send_frame(sock, {"event": "error", "message": f"worker preload failed: {type(exc).__name__}: {exc}"})
        return
    worker = Worker(sock)
    try:
        worker.frames_for(0)  # the default seed's DataFrames, built once before any job
    except Exception:
        pass
    send_frame(sock, {"event": "ready", "pid": os.getpid()})
    worker.serve()


if __name__ == "__main__":
    main()
