"""Run untrusted Python in a confined child process and collect what it did, safely.

Two ways to start the child, with the same confinement (see ``grader/_sandbox_child.py``):

* ``spawn``: a fresh ``python -I -B`` per run (slow start, nothing shared);
* ``fork``: a child forked from a warm worker that has numpy, pandas and streamdrift imported
  (``grader.worker``; fast, used for grading at scale).

The parent side is the same for both: pipes for stdout, stderr and the private result
channel; a deadline after which the child's whole process group is killed with SIGKILL;
output kept up to a size cap and the rest discarded as it arrives (a child printing forever
cannot fill the parent's memory); a per-run directory (the empty working directory and a
private numba cache) removed afterwards. Everything here is safe to call from many threads
at once.

What is isolated (as root, where namespaces are allowed, as on the project's machines): a
fresh session and process group; its own PID namespace (nothing it starts outlives it); no
network (empty network namespace) and its own IPC namespace; a fresh unprivileged uid
(cannot write the project's files, read other processes' memory or signal them); an empty
private temporary working directory; a minimal environment; rlimits on address space,
CPU time, file size, processes and open files. What is not: the filesystem is the host's,
so the child can *read* world-readable files (the project source, the Python installation,
/proc entries that are world-readable); CPU and memory bandwidth are shared. Not root: no
namespaces and no uid change (the child runs as the caller's user, can read and write what
the caller can, can signal the caller's other processes and may reach the network); the
process group is still killed on timeout (a grandchild that calls ``setsid()`` escapes it)
and rlimits still apply. ``ExecResult.isolation`` says what a run actually got.

Memory: ``memory_mb`` is an address-space limit (RLIMIT_AS) on the whole child, and address
space is not memory used: when a submission starts, a graded child already has about
1.5 GiB mapped when forked (the warm worker's numpy, pandas and pyarrow) and 1.35 GiB when
spawned, so the default 2048 MB leaves a submission about 500 MiB.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

CHILD_SCRIPT = str(Path(__file__).with_name("_sandbox_child.py"))
RESULT_LIMIT = 8_000_000
EXIT_GRACE_S = 1.0
KILL_WAIT_S = 10.0
MAX_CODE_CHARS = 1_000_000


MINIMAL_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "NUMBA_NUM_THREADS": "1",
}
"""What every sandboxed process gets: no secrets from the grader's environment, one thread each."""


def child_env(workdir: str) -> dict[str, str]:
    """The minimal environment a sandboxed child gets."""
    return {
        **MINIMAL_ENV,
        "HOME": workdir,
        "TMPDIR": workdir,
        "NUMBA_CACHE_DIR": os.path.join(os.path.dirname(workdir), "numba"),
        "MPLBACKEND": "Agg",
    }


@dataclass
class ExecResult:
    """What running some code in the sandbox did."""

    stdout: str
    stderr: str
    error: str | None
    timed_out: bool
    memory_exceeded: bool
    exit_code: int | None
    duration_s: float
    truncated: bool
    isolation: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class RawRun:
    """The raw record of one sandboxed run: output, result-channel events and how it ended."""

    stdout: bytes
    stderr: bytes
    events: list[dict]
    timed_out: bool
    exit_code: int | None
    duration_s: float
    truncated: bool
    channel_garbage: int = 0

    def last(self, name: str) -> dict | None:
        for event in reversed(self.events):
            if event.get("event") == name:
                return event
        return None

    def first(self, name: str) -> dict | None:
        """The first event called ``name``: for reports written before the job ran, which it cannot forge."""
        return next((event for event in self.events if event.get("event") == name), None)


class SandboxError(RuntimeError):
    """The sandbox could not be set up (a problem of the machine or the grader, not the code)."""


def check_setup(raw: "RawRun") -> None:
    """Raise SandboxError when the child reported that confinement itself failed."""
    for event in raw.events:
        if event.get("event") == "isolation":
            return  # confinement succeeded before anything the job could forge
        if event.get("event") == "harness_error" and event.get("stage") == "confine":
            raise SandboxError(f"the sandbox could not be set up: {event.get('error')}")


def parse_events(data: bytes) -> tuple[list[dict], int]:
    """The JSON-object lines of the result channel, and how many lines were not one."""
    events, garbage = [], 0
    for line in data.split(b"\n"):
        line = line.strip()
        if not line:
            continue
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError):
            garbage += 1
            continue
        if isinstance(obj, dict) and isinstance(obj.get("event"), str):
            events.append(obj)
        else:
            garbage += 1
    return events, garbage


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def collect(streams: dict[str, int], exit_fd: int, on_exit, deadline: float, kill, limits: dict[str, int]):
    """Read ``streams`` (name -> fd) until they close and the child has ended.

    Keeps ``limits[name]`` bytes of each stream and discards the rest as it arrives.
    ``exit_fd`` becomes readable when the child has ended; ``on_exit()`` is then called
    (it must kill what the child left). At ``deadline`` ``kill()`` is called. After the
    child ended, pipes still held open elsewhere are abandoned after a short grace.
    Returns ``(buffers, truncated, timed_out, exited)``; ``exited`` is False only when the
    end was never signalled even after the kill. Closes the stream fds, not ``exit_fd``.
    """
    sel = selectors.DefaultSelector()
    bufs = {name: bytearray() for name in streams}
    truncated = False
    timed_out = False
    ended_at = None
    killed_at = None
    try:
        for name, fd in streams.items():
            os.set_blocking(fd, False)
            sel.register(fd, selectors.EVENT_READ, name)
        sel.register(exit_fd, selectors.EVENT_READ, None)
        open_streams = len(streams)
        while open_streams or ended_at is None:
            now = time.monotonic()
            if ended_at is not None:
                limit = ended_at + EXIT_GRACE_S
            elif killed_at is not None:
                limit = killed_at + KILL_WAIT_S
            else:
                limit = deadline
            if now >= limit:
                if ended_at is not None or killed_at is not None:
                    break
                timed_out = True
                kill()
                killed_at = now
                continue
            for key, _ in sel.select(timeout=limit - now):
                if key.data is None:
                    sel.unregister(exit_fd)
                    on_exit()
                    ended_at = time.monotonic()
                    continue
                try:
                    chunk = os.read(key.fd, 65536)
                except BlockingIOError:
                    continue
                except OSError:
                    chunk = b""
                if not chunk:
                    sel.unregister(key.fd)
                    open_streams -= 1
                    continue
                buf = bufs[key.data]
                room = limits[key.data] - len(buf)
                if len(chunk) > room:
                    truncated = True
                    chunk = chunk[: max(room, 0)]
                buf += chunk
    finally:
        sel.close()
        for fd in streams.values():
            try:
                os.close(fd)
            except OSError:
                pass
    return bufs, truncated, timed_out, ended_at is not None


def make_workdir(numba_cache: bool = False) -> str:
    """A private per-run directory: ``work/`` (the child's empty cwd) and ``numba/`` (its
    NUMBA_CACHE_DIR). Returns the run directory; ``workdir_of`` gives the cwd.

    With ``numba_cache`` the project's compiled streamdrift kernels are linked into the
    child's cache (symlinks to root-owned files the child can read but not change; numba
    replaces, never rewrites, cache files), so a fresh interpreter need not recompile them.
    """
    root = tempfile.mkdtemp(prefix="streamdrift-sandbox-")
    os.chmod(root, 0o711)  # the child (another uid) may pass through, not list or change it
    os.mkdir(workdir_of(root), 0o700)
    os.mkdir(os.path.join(root, "numba"), 0o700)
    if numba_cache:
        _link_numba_cache(os.path.join(root, "numba"))
    return root


def workdir_of(root: str) -> str:
    return os.path.join(root, "work")


def _link_numba_cache(cache_dir: str) -> None:
    import hashlib
    import importlib.util

    try:
        spec = importlib.util.find_spec("streamdrift")
        source_dir = os.path.dirname(os.path.abspath(spec.origin))
        compiled = os.path.join(source_dir, "__pycache__")
        names = [n for n in os.listdir(compiled) if n.endswith((".nbi", ".nbc"))]
    except (AttributeError, ImportError, OSError, TypeError, ValueError):
        return
    # numba's _UserProvidedCacheLocator layout: <dir name>_<sha1 of the source directory>
    target = os.path.join(cache_dir, f"{os.path.basename(source_dir)}_{hashlib.sha1(source_dir.encode()).hexdigest()}")
    os.mkdir(target, 0o700)
    for name in names:
        os.symlink(os.path.join(compiled, name), os.path.join(target, name))


def remove_workdir(path: str) -> None:
    """Remove a run directory, whatever modes the child left in it."""

    def fix(func, p, exc):
        try:
            os.chmod(os.path.dirname(p), 0o700)
            os.chmod(p, 0o700)
            func(p)
        except OSError:
            pass

    shutil.rmtree(path, onerror=fix)


def run_spawn(job: dict, *, timeout_s: float, output_limit: int) -> RawRun:
    """Run ``job`` in a fresh interpreter (see module docstring)."""
    started = time.monotonic()
    root = make_workdir(numba_cache=True)
    workdir = workdir_of(root)
    job = {**job, "workdir": workdir, "timeout_s": timeout_s}
    # Our own pipes (not subprocess.PIPE): ``collect`` owns and closes the read ends, and no
    # file object closes the same descriptor numbers again later (another thread may reuse them).
    (r_out, w_out), (r_err, w_err), (r_res, w_res) = os.pipe(), os.pipe(), os.pipe()
    readers = [r_out, r_err, r_res]
    try:
        try:
            proc = subprocess.Popen(
                [sys.executable, "-I", "-B", CHILD_SCRIPT, str(w_res)],
                stdin=subprocess.PIPE,
                stdout=w_out,
                stderr=w_err,
                pass_fds=(w_res,),
                start_new_session=True,
                close_fds=True,
                cwd=workdir,
                env=child_env(workdir),
            )
        finally:
            for fd in (w_out, w_err, w_res):
                os.close(fd)
        try:
            proc.stdin.write(json.dumps(job).encode("utf-8"))
            proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        pidfd = os.pidfd_open(proc.pid)
        try:
            readers = []  # from here on ``collect`` closes them
            bufs, truncated, timed_out, _ = collect(
                {"stdout": r_out, "stderr": r_err, "result": r_res},
                pidfd,
                lambda: _kill_group(proc.pid),  # ended but not reaped yet: the pgid cannot be reused
                started + timeout_s,
                lambda: _kill_group(proc.pid),
                {"stdout": output_limit, "stderr": output_limit, "result": RESULT_LIMIT},
            )
        finally:
            os.close(pidfd)
        proc.wait()
        exit_code = proc.returncode
    finally:
        for fd in readers:
            os.close(fd)
        remove_workdir(root)
    events, garbage = parse_events(bytes(bufs["result"]))
    return RawRun(
        bytes(bufs["stdout"]),
        bytes(bufs["stderr"]),
        events,
        timed_out,
        exit_code,
        time.monotonic() - started,
        truncated,
        garbage,
    )


def execute(job: dict, *, timeout_s: float, output_limit: int, isolation: str = "spawn", pool=None) -> RawRun:
    """Run one job with the chosen isolation: ``spawn`` or ``fork`` (a warm worker pool)."""
    if isolation == "spawn":
        return run_spawn(job, timeout_s=timeout_s, output_limit=output_limit)
    if isolation == "fork":
        from grader.batch import shared_pool

        return (pool or shared_pool()).run(job, timeout_s=timeout_s, output_limit=output_limit)
    raise ValueError(f"isolation must be 'spawn' or 'fork', got {isolation!r}")


def _exit_code(raw: RawRun) -> int | None:
    """The job's own exit status: negative signal number like subprocess, or the code."""
    event = raw.last("exit")
    if event is not None:
        if isinstance(event.get("signal"), int):
            return -event["signal"]
        if isinstance(event.get("code"), int):
            return event["code"]
    return raw.exit_code


def run_code(
    code: str,
    *,
    timeout_s: float = 10.0,
    memory_mb: int = 1024,
    output_limit: int = 64_000,
    isolation: str = "spawn",
    file_mb: int = 16,
    nproc: int = 32,
    pool=None,
) -> ExecResult:
    """Run arbitrary Python ``code`` in the sandbox, as ``python -c`` would, and report.

    ``error`` is the last line of the traceback (``"ZeroDivisionError: division by zero"``),
    or why the run ended abnormally (timeout, memory, killed by a signal), else None.
    """
    if not isinstance(code, str):
        raise TypeError(f"code must be a str, got {type(code).__name__}")
    if len(code) > MAX_CODE_CHARS:
        return ExecResult("", "", f"code too long: {len(code)} characters, at most {MAX_CODE_CHARS}",
                          False, False, None, 0.0, False)
    job = {"mode": "exec", "code": code, "memory_mb": memory_mb, "file_mb": file_mb, "nproc": nproc,
           "output_limit": output_limit}
    raw = execute(job, timeout_s=timeout_s, output_limit=output_limit, isolation=isolation, pool=pool)
    check_setup(raw)
    done = raw.last("exec_done")
    syntax = raw.last("syntax_error")
    iso = raw.first("isolation") or {}
    exit_code = _exit_code(raw)
    memory = False
    if raw.timed_out:
        error = f"timed out after {timeout_s:g} s (the process group was killed)"
    elif syntax is not None:
        error = str(syntax.get("error"))
    elif done is not None:
        error = done.get("error") if isinstance(done.get("error"), str) else None
        memory = done.get("memory") is True
    elif exit_code is not None and exit_code < 0:
        sig = -exit_code
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        error = f"killed by signal {name}" + (" (CPU time limit)" if sig in (signal.SIGKILL, signal.SIGXCPU) else "")
    else:
        error = None if exit_code == 0 else f"process exited with code {exit_code}"
    if memory and error:
        error = f"{error} (memory limit {memory_mb} MB)"
    return ExecResult(
        stdout=raw.stdout.decode("utf-8", "replace"),
        stderr=raw.stderr.decode("utf-8", "replace"),
        error=error,
        timed_out=raw.timed_out,
        memory_exceeded=memory,
        exit_code=exit_code,
        duration_s=raw.duration_s,
        truncated=raw.truncated,
        isolation={k: v for k, v in iso.items() if k != "event"},
    )
