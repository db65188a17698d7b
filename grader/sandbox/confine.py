"""Confinement of the child, applied by the harness before any job code runs. Standard library only.

Like ``protocol.py``, this file is loaded by the standalone harness as a sibling file.

1. New PID, network, IPC and mount namespaces (needs root or CAP_SYS_ADMIN). The job runs
   as PID 1 of its own PID namespace, so when it ends the kernel kills every process it
   left behind, even ones that called ``setsid()``.
2. rlimits: address space, CPU seconds, file size, process count, open files, no core dumps.
3. A fresh unprivileged uid/gid (when started as root): the job's ``uid``, drawn by the grader
   for each job (``fresh_uid``), so the job cannot write the project's files, signal or read
   the memory of the grader or of other submissions, and RLIMIT_NPROC counts only its own
   processes. (Its PID cannot serve: each minimal root numbers its processes from 1.)

The "outer" process (the one that started here) stays outside the namespaces as root, waits
for the job and reports how it ended; the job cannot signal it (another uid).
"""

import ctypes
import os
import resource
import signal

UID_BASE = 1_000_000
UID_SPAN = 1 << 30
"""Job uids are ``UID_BASE + randbelow(UID_SPAN)``: two live jobs share one with odds ~1e-9 per pair."""
CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 8, 4096, 16384, 1 << 18
SHARED_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")
RUN_DIR_MB = 64
"""Size of the tmpfs over the job's working directory (and over its numba cache): all it may write."""

_libc = None


def fresh_uid() -> int:
    """A uid for one job, unused by any account and, with overwhelming odds, by any other job."""
    import secrets

    return UID_BASE + secrets.randbelow(UID_SPAN)


def libc():
    """The C library, loaded once (``None`` where it cannot be)."""
    global _libc
    if _libc is None:
        try:
            _libc = ctypes.CDLL(None, use_errno=True)
        except OSError:
            return None
    return _libc


def _call(name: str, *args) -> bool:
    try:
        return getattr(libc(), name)(*args) == 0
    except (OSError, AttributeError):
        return False


def prctl(option: int, arg: int) -> bool:
    return _call("prctl", option, arg, 0, 0, 0)


def unshare(flags: int) -> bool:
    return _call("unshare", flags)


def setns(fd: int, nstype: int) -> bool:
    return _call("setns", fd, nstype)


def fork_pid1(own_pid_ns) -> tuple[int, bool]:
    """``os.fork()``, the child as PID 1 of a new PID namespace when ``own_pid_ns`` (a descriptor
    of this process's own PID namespace) is given and the kernel allows it: one fork per job
    where ``confine`` would fork a second time. Returns ``(pid, in_new_namespace)``.

    ``unshare(CLONE_NEWPID)`` applies to this process's next children; ``setns`` back to its
    own namespace right after the fork lets the next job get a namespace of its own again.
    """
    fresh = own_pid_ns is not None and unshare(CLONE_NEWPID)
    try:
        pid = os.fork()
    except BaseException:
        if fresh:
            setns(own_pid_ns, CLONE_NEWPID)
        raise
    if pid != 0 and fresh and not setns(own_pid_ns, CLONE_NEWPID):
        raise OSError("could not return to the server's own PID namespace")
    return pid, fresh


def mount(source, target, fstype, flags: int, data=None) -> bool:
    enc = lambda x: None if x is None else os.fsencode(x)  # noqa: E731
    return _call("mount", enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data))


def kill_group(pgid: int) -> None:
    """SIGKILL a whole process group; gone or not ours is fine."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def blocked_ancestor(path: str):
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


def _private_mounts(paths, run_dir: str) -> list:
    """In a new mount namespace: a fresh /proc, the Python installation reachable by others,
    private /tmp, /var/tmp and /dev/shm. Directories only root may enter (``/root/.pyenv``)
    are covered by an empty tmpfs holding only the needed subtree. Returns what was done.
    """
    done = []
    if not mount(None, "/", None, MS_REC | MS_PRIVATE):
        return done
    for blocked, child in {b for b in map(blocked_ancestor, paths) if b}:
        keep = os.open(os.path.join(blocked, child), os.O_PATH | os.O_CLOEXEC)
        try:
            if mount("tmpfs", blocked, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=64k"):
                os.mkdir(os.path.join(blocked, child), 0o755)
                if mount(f"/proc/self/fd/{keep}", os.path.join(blocked, child), None, MS_BIND | MS_REC):
                    done.append(f"tmpfs:{blocked}")
        finally:
            os.close(keep)
    if mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC):
        done.append("proc")
    for shared in SHARED_WRITABLE:
        if _private_tmpfs(shared, [run_dir, *paths]):
            done.append(f"tmpfs:{shared}")
    return done


def _bounded_run_dir(run_dir: str, uid) -> list:
    """Cover the run's ``work`` (the cwd) and ``numba`` (its cache) with small tmpfs mounts, so
    what the job writes is bounded in total and never reaches the host's disk; the directories
    and links already there (the linked kernel cache) are made again on the tmpfs."""
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
        if not mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, f"mode=700,size={RUN_DIR_MB}m"):
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


def _private_tmpfs(shared: str, keep: list) -> bool:
    """Cover a world-writable directory with a small private tmpfs, binding the ``keep`` paths
    inside it (the run directory; the interpreter when it lives there) back."""
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
        if not mount("tmpfs", shared_real, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=64m"):
            return False
        for rel, fd in handles:
            target = os.path.join(shared_real, rel)
            os.makedirs(target, mode=0o755, exist_ok=True)
            if not mount(f"/proc/self/fd/{fd}", target, None, MS_BIND | MS_REC):
                return False
        return True
    finally:
        for _, fd in handles:
            os.close(fd)


def set_limits(job: dict, own_uid: bool) -> None:
    """Address space, CPU seconds, file size, open files, no core; processes only with our own
    uid (RLIMIT_NPROC counts every process of the user)."""
    limits = [
        (resource.RLIMIT_AS, int(job["memory_mb"]) * 1024 * 1024),
        (resource.RLIMIT_CPU, int(job["timeout_s"]) + 2),  # soft == hard: SIGKILL at the limit
        (resource.RLIMIT_FSIZE, int(job["file_mb"]) * 1024 * 1024),
        (resource.RLIMIT_NOFILE, 256),
        (resource.RLIMIT_CORE, 0),
    ]
    if own_uid:
        limits.append((resource.RLIMIT_NPROC, int(job["nproc"])))
    for which, value in limits:
        try:
            soft, hard = resource.getrlimit(which)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass


def _wait_and_mirror(pid: int, report) -> None:
    """In the outer process: wait for the job, report how it ended, then end the same way."""
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except ChildProcessError:
            status = 0
            break
        except InterruptedError:
            continue
    if os.WIFSIGNALED(status):
        report({"signal": os.WTERMSIG(status)})
        os._exit(128 + os.WTERMSIG(status))
    report({"code": os.WEXITSTATUS(status)})
    os._exit(os.WEXITSTATUS(status))


def _namespaces(root: bool, job: dict, pid1: bool) -> list:
    """Unshare what is allowed; ``pid1``: this process is already PID 1 of a new PID namespace."""
    if not (root and job.get("namespaces", True)):
        return []
    for flags, names in ((CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWNS, ["pid", "net", "ipc", "mount"]),
                         (CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC, ["pid", "net", "ipc"]),
                         (CLONE_NEWNET, ["net"])):
        if unshare(flags & ~CLONE_NEWPID if pid1 else flags):
            return ["pid", *names] if pid1 and "pid" not in names else names
    return ["pid"] if pid1 else []


def confine(job: dict, paths: list, report_exit, pid1: bool = False) -> dict:
    """Confine this process; return what was applied. ``paths``: what the job must read.

    With a new PID namespace this forks: the outer process waits for the job, calls
    ``report_exit({"signal"|"code": n})`` and never returns. ``pid1``: this process already
    is PID 1 of a fresh PID namespace (``fork_pid1``): no second fork, and its parent (the
    fork server) reports how it ended.
    """
    info = {"namespaces": [], "uid": None, "rlimits": True, "mounts": []}
    root = os.geteuid() == 0
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    workdir = job["workdir"]
    uid = int(job["uid"]) if root and job.get("drop_privileges", True) else None
    info["namespaces"] = _namespaces(root, job, pid1)
    if uid is not None:  # before any uid change; harmless if we stay root
        for path in (workdir, os.path.join(os.path.dirname(workdir), "numba")):
            for base, _dirs, _files in os.walk(path):
                os.chown(base, uid, uid)  # the directories only: linked cache files stay root's
    if "pid" in info["namespaces"] and not pid1:
        pid = os.fork()
        if pid != 0:
            _wait_and_mirror(pid, report_exit)
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    try:  # the job is what the kernel kills first when the run's memory cgroup is full
        with open("/proc/self/oom_score_adj", "w") as fh:
            fh.write("1000")
    except OSError:
        pass
    if "mount" in info["namespaces"] and "pid" in info["namespaces"]:
        info["mounts"] = _private_mounts(paths, os.path.dirname(workdir))
        info["mounts"] += _bounded_run_dir(os.path.dirname(workdir), uid)
    if uid is not None and any(map(blocked_ancestor, paths)):
        uid = None  # the interpreter would still be unreadable as another uid: stay root (reported)
    os.chdir(workdir)
    set_limits(job, own_uid=uid is not None)
    if uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        info["uid"] = uid
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # cleared by the credential change
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    return info
