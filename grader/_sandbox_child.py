"""The child side of the sandbox: confine this process, then run one job. Standard library only.

It runs in a process that is already a session leader with stdin, stdout and stderr set up:
either a fresh interpreter (``python -I _sandbox_child.py RESULT_FD``, job JSON on stdin,
the "spawn" isolation) or a child forked from the warm worker (``run_job`` called directly,
the "fork" isolation). Everything it reports goes to RESULT_FD as JSON lines; the parent
treats every line as untrusted and checks its types.

Confinement, applied best effort and reported in the ``isolation`` event:

1. New PID, network and IPC namespaces (needs root or CAP_SYS_ADMIN). The job runs as PID 1
   of its own PID namespace, so when it ends the kernel kills every process it left behind,
   even ones that called ``setsid()``. The network namespace has no usable interface.
2. rlimits: address space, CPU seconds, file size, process count, open files, no core dumps.
3. A fresh unprivileged uid/gid (when started as root): ``UID_BASE + host pid``, unique among
   live sandboxes, so the job cannot write the project's files, signal or read the memory of
   the grader or of other submissions, and RLIMIT_NPROC counts only its own processes.

The "outer" process (the one that started here) stays outside the namespaces as root, waits
for the job and reports how it ended; the job cannot signal it (another uid).
"""

import builtins
import ctypes
import io
import json
import os
import resource
import signal
import sys
import time
import traceback

UID_BASE = 1_000_000
CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 8, 4096, 16384, 1 << 18
MAX_ITEMS = 10_000
SHARED_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")
RUN_DIR_MB = 64
"""Size of the tmpfs over the job's working directory (and over its numba cache): all it may write."""

_libc = None


def _prctl(option: int, arg: int) -> bool:
    global _libc
    try:
        if _libc is None:
            _libc = ctypes.CDLL(None, use_errno=True)
        return _libc.prctl(option, arg, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _mount(source, target, fstype, flags: int, data=None) -> bool:
    global _libc
    try:
        if _libc is None:
            _libc = ctypes.CDLL(None, use_errno=True)
        enc = lambda x: None if x is None else os.fsencode(x)  # noqa: E731
        return _libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)) == 0
    except (OSError, AttributeError):
        return False


def _blocked_ancestor(path: str) -> tuple[str, str] | None:
    """The first directory on ``path`` that others cannot enter, and its child on the path."""
    parts = os.path.realpath(path).split(os.sep)[1:]
    current = os.sep
    for name in parts:
        try:
            if not os.stat(current).st_mode & 0o001:
                return current, name
        except OSError:
            return None
        current = os.path.join(current, name)
    return None


def _private_mounts(paths, run_dir: str) -> list[str]:
    """In a new mount namespace: a fresh /proc, the Python installation reachable by others,
    private /tmp, /var/tmp and /dev/shm.

    When the interpreter lives under a directory only root may enter (``/root/.pyenv``), that
    directory is covered by an empty tmpfs holding only the needed subtree, so an
    unprivileged uid can import the standard library and still sees nothing else there.
    Returns what was done.
    """
    done = []
    if not _mount(None, "/", None, MS_REC | MS_PRIVATE):
        return done
    for blocked, child in {b for b in map(_blocked_ancestor, paths) if b}:
        keep = os.open(os.path.join(blocked, child), os.O_PATH | os.O_CLOEXEC)
        try:
            if _mount("tmpfs", blocked, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=64k"):
                os.mkdir(os.path.join(blocked, child), 0o755)
                if _mount(f"/proc/self/fd/{keep}", os.path.join(blocked, child), None, MS_BIND | MS_REC):
                    done.append(f"tmpfs:{blocked}")
        finally:
            os.close(keep)
    if _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC):
        done.append("proc")
    for shared in SHARED_WRITABLE:
        if _private_tmpfs(shared, [run_dir, *paths]):
            done.append(f"tmpfs:{shared}")
    return done


def _bounded_run_dir(run_dir: str, uid: int | None) -> list[str]:
    """Cover the run's own directories (``work``, the cwd, and ``numba``, its cache) with small
    tmpfs mounts, so what the job writes is bounded in total (RLIMIT_FSIZE bounds one file)
    and never reaches the host's disk. The directories and links already there (the linked
    kernel cache) are made again on the tmpfs.
    """
    done = []
    for name in ("work", "numba"):
        path = os.path.join(run_dir, name)
        dirs, links = [], {}
        try:
            for base, subdirs, files in os.walk(path):
                rel = os.path.relpath(base, path)
                dirs += [os.path.join(rel, d) for d in subdirs]
                links.update({os.path.join(rel, f): os.readlink(os.path.join(base, f))
                              for f in files if os.path.islink(os.path.join(base, f))})
        except OSError:
            continue
        if not _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, f"mode=700,size={RUN_DIR_MB}m"):
            continue
        for d in dirs:
            os.makedirs(os.path.join(path, d), 0o700, exist_ok=True)
        for link, target in links.items():
            os.symlink(target, os.path.join(path, link))
        if uid is not None:
            for d in [os.curdir, *dirs]:
                os.chown(os.path.join(path, d), uid, uid)
        done.append(f"tmpfs:{name}")
    return done


def _private_tmpfs(shared: str, keep: list[str]) -> bool:
    """Cover a world-writable directory with a small private tmpfs, keeping the ``keep``
    paths inside it (the run directory; the interpreter and project when they live there,
    as in a clone under /tmp) visible by binding them back.

    Whatever the job writes there vanishes with its mount namespace, and it cannot see or
    touch other processes' temporary files.
    """
    try:
        if not os.path.isdir(shared) or not os.stat(shared).st_mode & 0o002:
            return False
    except OSError:
        return False
    shared_real = os.path.realpath(shared)
    inside = sorted({rel for rel in (os.path.relpath(os.path.realpath(p), shared_real) for p in keep)
                     if rel != os.curdir and rel != os.pardir and not rel.startswith(os.pardir + os.sep)})
    outermost = [rel for rel in inside if not any(rel.startswith(o + os.sep) for o in inside if o != rel)]
    handles = [(rel, os.open(os.path.join(shared_real, rel), os.O_PATH | os.O_CLOEXEC)) for rel in outermost]
    try:
        if not _mount("tmpfs", shared_real, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=64m"):
            return False
        for rel, fd in handles:
            target = os.path.join(shared_real, rel)
            os.makedirs(target, mode=0o755, exist_ok=True)
            if not _mount(f"/proc/self/fd/{fd}", target, None, MS_BIND | MS_REC):
                return False
        return True
    finally:
        for _, fd in handles:
            os.close(fd)


def _python_paths() -> list[str]:
    """What the job must be able to read: the interpreter, its packages, the project itself."""
    project = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    return [p for p in {sys.base_prefix, sys.prefix, os.path.dirname(os.path.realpath(sys.executable)), project} if p]


def _unshare(flags: int) -> bool:
    global _libc
    try:
        if _libc is None:
            _libc = ctypes.CDLL(None, use_errno=True)
        return _libc.unshare(flags) == 0
    except (OSError, AttributeError):
        return False


class Channel:
    """JSON lines to the parent over the private result pipe."""

    def __init__(self, fd: int):
        self.fd = fd
        self.dumps = json.dumps  # bound now: the submission may patch the json module later

    def send(self, obj) -> None:
        data = ("\n" + self.dumps(obj, allow_nan=True) + "\n").encode("utf-8", "replace")
        view = memoryview(data)
        while view:
            try:
                n = os.write(self.fd, view)
            except InterruptedError:
                continue
            except OSError:
                return
            view = view[n:]


class CappedText(io.TextIOBase):
    """A text stream that keeps the first ``limit`` characters and drops the rest."""

    def __init__(self, limit: int):
        self.limit = limit
        self.parts: list[str] = []
        self.size = 0
        self.truncated = False

    def writable(self) -> bool:
        return True

    def write(self, s) -> int:
        s = str.__str__(s) if isinstance(s, str) else str(s)
        room = self.limit - self.size
        if len(s) > room:
            self.truncated = True
            s = s[: max(room, 0)]
        if s:
            self.parts.append(s)
            self.size += len(s)
        return len(s)

    def getvalue(self) -> str:
        return "".join(self.parts)


class Router(io.TextIOBase):
    """``sys.stdout`` for a whole grading run: writes go to whatever ``target`` is now.

    A submission that keeps ``sys.stdout`` from its top level (``out = sys.stdout``) still
    has each call's lines captured for that call.
    """

    def __init__(self, target):
        self.target = target

    def writable(self) -> bool:
        return True

    def write(self, s) -> int:
        return self.target.write(s)

    def flush(self) -> None:
        flush = getattr(self.target, "flush", None)
        if flush is not None:
            flush()


def _describe_exception(exc: BaseException) -> str:
    try:
        return "".join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()[-1][:500]
    except BaseException:
        return type(exc).__name__


# --- confinement -----------------------------------------------------------------------------


def _set_limits(job: dict, own_uid: bool) -> None:
    """Address space, CPU seconds, file size, open files, no core; processes only with our own
    uid (RLIMIT_NPROC counts every process of the user, so with a shared uid it would count
    the caller's other processes too)."""
    mem = int(job.get("memory_mb", 1024)) * 1024 * 1024
    cpu = int(job.get("timeout_s", 10.0)) + 2
    limits = [
        (resource.RLIMIT_AS, mem),
        (resource.RLIMIT_CPU, cpu),  # soft == hard: SIGKILL at the limit (PID 1 ignores SIGXCPU)
        (resource.RLIMIT_FSIZE, int(job.get("file_mb", 16)) * 1024 * 1024),
        (resource.RLIMIT_NOFILE, 256),
        (resource.RLIMIT_CORE, 0),
    ]
    if own_uid:
        limits.append((resource.RLIMIT_NPROC, int(job.get("nproc", 32))))
    for which, value in limits:
        try:
            soft, hard = resource.getrlimit(which)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass


def _mirror_exit(status: int, result_fd: int) -> None:
    """In the outer process: report how the job ended, then end the same way."""
    if os.WIFSIGNALED(status):
        event = {"event": "exit", "signal": os.WTERMSIG(status)}
        code = 128 + os.WTERMSIG(status)
    else:
        event = {"event": "exit", "code": os.WEXITSTATUS(status)}
        code = os.WEXITSTATUS(status)
    Channel(result_fd).send(event)
    os._exit(code)


def confine(job: dict, result_fd: int) -> dict:
    """Confine this process (see the module docstring); return what was applied.

    With a PID namespace this forks: the outer process waits for the job and never returns.
    """
    info = {"namespaces": [], "uid": None, "rlimits": True, "mounts": []}
    root = os.geteuid() == 0
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    workdir = job["workdir"]
    uid = UID_BASE + os.getpid() if root and job.get("drop_privileges", True) else None
    if root and job.get("namespaces", True):
        if _unshare(CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWNS):
            info["namespaces"] = ["pid", "net", "ipc", "mount"]
        elif _unshare(CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC):
            info["namespaces"] = ["pid", "net", "ipc"]
        elif _unshare(CLONE_NEWNET):
            info["namespaces"] = ["net"]
    if uid is not None:  # before any uid change; harmless if we stay root
        run_dir = os.path.dirname(workdir)
        for path in (workdir, os.path.join(run_dir, "numba")):
            for base, dirs, _files in os.walk(path):
                os.chown(base, uid, uid)  # the directories only: linked cache files stay root's
    if "pid" in info["namespaces"]:
        pid = os.fork()
        if pid != 0:
            while True:
                try:
                    _, status = os.waitpid(pid, 0)
                    break
                except ChildProcessError:
                    status = 0
                    break
                except InterruptedError:
                    continue
            _mirror_exit(status, result_fd)
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if "mount" in info["namespaces"] and "pid" in info["namespaces"]:
        info["mounts"] = _private_mounts(_python_paths(), os.path.dirname(workdir))
        info["mounts"] += _bounded_run_dir(os.path.dirname(workdir), uid)
    if uid is not None and any(map(_blocked_ancestor, _python_paths())):
        uid = None  # the interpreter would still be unreadable as another uid: stay root (reported)
    os.chdir(workdir)
    _set_limits(job, own_uid=uid is not None)
    if uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        info["uid"] = uid
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # cleared by the credential change
    _prctl(PR_SET_NO_NEW_PRIVS, 1)
    return info


# --- running the job -------------------------------------------------------------------------


def _encode_scalar(v) -> dict:
    """A plain-JSON description of one value, read from the object's storage, not its methods."""
    try:
        tp = type(v)
        if v is None:
            return {"t": "none"}
        if issubclass(tp, bool):
            return {"t": "bool"}
        if issubclass(tp, float):
            return {"t": "float", "v": float.__repr__(v), "type": tp.__name__}
        if issubclass(tp, int):
            return {"t": "int", "v": float.__repr__(float(int.__index__(v))), "type": tp.__name__}
        if issubclass(tp, str):
            return {"t": "str", "v": str.__str__(v)[:300], "type": tp.__name__}
        np = sys.modules.get("numpy")
        if np is not None and issubclass(tp, (np.floating, np.integer)) and not issubclass(tp, np.bool_):
            return {"t": "float", "v": float.__repr__(float(v)), "type": "numpy." + tp.__name__}
        return {"t": "other", "type": str.__str__(tp.__name__)[:100]}
    except BaseException:
        return {"t": "other", "type": "?"}


def encode_result(ret) -> dict:
    """Describe a returned value: a dict's real items (not what a subclass says), or its type."""
    try:
        tp = type(ret)
        if issubclass(tp, dict):
            items = []
            for i, (k, v) in enumerate(dict.items(ret)):
                if i >= MAX_ITEMS:
                    break
                items.append([_encode_scalar(k), _encode_scalar(v)])
            return {"kind": "dict", "type": str.__str__(tp.__name__)[:100], "items": items}
        return {"kind": "other", "type": str.__str__(tp.__name__)[:100]}
    except BaseException:
        return {"kind": "other", "type": "?"}


def _compile(code: str, out: Channel):
    try:
        return compile(code, "<submission>", "exec")
    except BaseException as exc:  # SyntaxError, ValueError (NUL bytes), RecursionError, MemoryError
        out.send({"event": "syntax_error", "error": _describe_exception(exc)})
        return None


def _namespace() -> dict:
    return {"__name__": "__main__", "__builtins__": builtins, "__file__": "<submission>"}


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except BaseException:
            pass


def run_exec(job: dict, out: Channel) -> int:
    """Run code like ``python -c``: output to the real stdout/stderr, traceback on stderr."""
    compiled = _compile(job["code"], out)
    if compiled is None:
        return 1
    sys.argv = ["<submission>"]
    error, memory, code = None, False, 0
    try:
        exec(compiled, _namespace())
    except SystemExit as exc:
        c = exc.code
        if c is None or c == 0:
            code = 0
        else:
            code = c if isinstance(c, int) and not isinstance(c, bool) else 1
            error = _describe_exception(exc)
    except BaseException as exc:
        error, memory, code = _describe_exception(exc), isinstance(exc, MemoryError), 1
        try:
            tb = exc.__traceback__
            while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
                tb = tb.tb_next  # the harness's own frames are not the submission's business
            traceback.print_exception(type(exc), exc, tb, file=sys.__stderr__)
        except BaseException:
            pass
    _flush()
    out.send({"event": "exec_done", "error": error, "memory": memory, "code": code})
    return code & 0xFF


def build_frames(cases) -> list:
    """Fresh pandas DataFrames for each case, in the case's column order, and the case's own
    arrays they were copied from (to tell afterwards whether the call changed them)."""
    import pandas as pd

    return [
        (
            case.name,
            pd.DataFrame({c: case.old[c].copy() for c in case.columns}),
            pd.DataFrame({c: case.new[c].copy() for c in case.columns}),
            case.threshold,
            case.pass_threshold,
            ([(c, case.old[c]) for c in case.columns], [(c, case.new[c]) for c in case.columns]),
        )
        for case in cases
    ]


def _same(df, given) -> bool:
    """True when ``df`` still has the columns it was given, in order, with the same bits."""
    import numpy as np

    try:
        items = list(df.items())
        if [c for c, _ in items] != [c for c, _ in given]:
            return False
        for (_, series), (_, before) in zip(items, given):
            now = np.ascontiguousarray(series.to_numpy())
            if now.dtype != before.dtype or now.shape != before.shape:
                return False
            if not np.array_equal(now.view(np.uint8), np.ascontiguousarray(before).view(np.uint8)):
                return False
        return True
    except BaseException:
        return False


def run_grade(job: dict, out: Channel, frames=None) -> int:
    """Run the submission's top level, then call its ``detect_drift`` on every case."""
    wanted = job.get("cases")
    if wanted is not None:
        frames = [f for f in frames if f[0] in set(wanted)]
    compiled = _compile(job["code"], out)
    if compiled is None:
        return 1
    sys.argv = ["<submission>"]
    ns = _namespace()
    real_stdout = sys.stdout
    router = sys.stdout = Router(real_stdout)
    try:
        exec(compiled, ns)
    except BaseException as exc:
        _flush()
        out.send({"event": "exec_error", "error": _describe_exception(exc), "memory": isinstance(exc, MemoryError)})
        return 1
    _flush()
    fn = dict.get(ns, "detect_drift")
    try:
        ok = callable(fn)
    except BaseException:
        ok = False
    if not ok:
        out.send({"event": "no_function", "type": type(fn).__name__})
        return 1
    limit = int(job.get("output_limit", 64_000))
    monotonic = time.monotonic
    for name, old, new, threshold, pass_threshold, given in frames:
        out.send({"event": "case_start", "name": name})
        cap = router.target = CappedText(limit)
        sys.stdout = cap
        started = monotonic()
        error, memory, ret = None, False, None
        try:
            ret = fn(old, new, threshold=threshold) if pass_threshold else fn(old, new)
        except BaseException as exc:
            error, memory = _describe_exception(exc), isinstance(exc, MemoryError)
        finally:
            sys.stdout, router.target = router, real_stdout
        elapsed = monotonic() - started
        modified = not (_same(old, given[0]) and _same(new, given[1]))
        out.send(
            {
                "event": "case",
                "name": name,
                "modified": modified,
                "result": None if error else encode_result(ret),
                "error": error,
                "memory": memory,
                "stdout": cap.getvalue(),
                "stdout_truncated": cap.truncated,
                "duration_s": elapsed,
            }
        )
    _flush()
    out.send({"event": "done"})
    return 0


def run_job(job: dict, result_fd: int, frames=None) -> None:
    """Confine, run the job, report, and leave with ``os._exit`` (no atexit of the submission)."""
    out = Channel(result_fd)
    code = 70
    try:
        if job.get("mode") == "grade" and frames is None:  # built while still trusted and privileged
            from grader.cases import make_cases

            frames = build_frames(make_cases(int(job.get("seed", 0))))
        info = confine(job, result_fd)
    except BaseException as exc:  # the sandbox could not be set up: the grader's problem, not the job's
        out.send({"event": "harness_error", "stage": "confine", "error": _describe_exception(exc)})
        os._exit(code)
    try:
        out.send({"event": "isolation", **info})
        if job.get("mode") == "grade":
            code = run_grade(job, out, frames)
        else:
            code = run_exec(job, out)
    except BaseException as exc:  # a harness failure, reported and never hidden
        out.send({"event": "harness_error", "error": _describe_exception(exc)})
    finally:
        _flush()
        os._exit(code)


def main() -> None:
    result_fd = int(sys.argv[1])
    job = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    run_job(job, result_fd)


if __name__ == "__main__":
    main()
