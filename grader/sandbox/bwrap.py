"""The bubblewrap layer: a minimal root for the child, built with ``bwrap``.

The child sees only: ``/usr`` (the system's shared libraries and tools), read-only; the
Python prefix, read-only, with its own site-packages hidden; numpy and pandas (and what
pandas needs: dateutil, tzdata, their ``.libs``) read-only under ``SITE``; the harness
files read-only under ``HARNESS_DIR``; a fresh ``/proc`` and a minimal ``/dev`` (null,
zero, full, random, urandom, tty); private tmpfs on ``/tmp``, ``/dev/shm``, ``/run`` and
``/var/tmp``. Not the project, not the grader, not streamdrift, no other package, no host
socket, FIFO or device. It starts in new PID, network, IPC and UTS namespaces; the harness
then confines further (``confine.py``).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from functools import lru_cache

SITE = "/opt/sandbox/site"
HARNESS_DIR = "/opt/sandbox/harness"
RUN_DIR = "/opt/sandbox/run"
PACKAGES = ("numpy", "pandas", "dateutil", "six", "tzdata", "pytz")
"""numpy, pandas, and what pandas imports; absent ones are skipped."""
HARNESS_FILES = ("harness.py", "protocol.py", "confine.py", "judge.py", "serve.py")
INSTALL_HINT = ("bubblewrap is not installed: `apt-get install -y bubblewrap` (Debian/Ubuntu) or "
                "`dnf install bubblewrap`; or pass --isolation none to run untrusted code without isolation")


def _package_dirs() -> list[tuple[str, str]]:
    """``(host path, name)`` of each package the child may import, with numpy's ``.libs``."""
    found = []
    for name in PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.origin:
            continue
        path = os.path.dirname(spec.origin) if spec.submodule_search_locations else spec.origin
        found.append((path, os.path.basename(path)))
        libs = os.path.join(os.path.dirname(path), name + ".libs")
        if os.path.isdir(libs):
            found.append((libs, name + ".libs"))
    return found


def _ancestors(path: str) -> list[str]:
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[:i]) for i in range(1, len(parts))]


@lru_cache(maxsize=1)
def _root_args() -> tuple[str, ...]:
    prefix = os.path.realpath(sys.base_prefix)
    here = os.path.dirname(os.path.abspath(__file__))
    args = ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try"]
    for d in dict.fromkeys(_ancestors(prefix) + _ancestors(SITE + "/x") + _ancestors(HARNESS_DIR + "/x")
                           + _ancestors(RUN_DIR + "/x")):  # traversable by the child's unprivileged uid
        args += ["--perms", "0755", "--dir", d]
    args += ["--ro-bind", "/usr", "/usr"]
    for top in ("lib", "lib64", "lib32", "bin", "sbin"):
        host = "/" + top
        if os.path.islink(host):
            args += ["--symlink", os.readlink(host), host]
        elif os.path.isdir(host):
            args += ["--ro-bind", host, host]
    args += ["--ro-bind", prefix, prefix]
    site = os.path.join(prefix, "lib", f"python{sys.version_info[0]}.{sys.version_info[1]}", "site-packages")
    if os.path.isdir(site):
        args += ["--tmpfs", site]
    for path, name in _package_dirs():
        args += ["--ro-bind", path, f"{SITE}/{name}"]
    for name in HARNESS_FILES:
        args += ["--ro-bind", os.path.join(here, name), f"{HARNESS_DIR}/{name}"]
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/run"]
    for shared in ("/tmp", "/var/tmp", "/dev/shm"):  # each job gets its own over these (confine.py)
        args += ["--perms", "1777", "--tmpfs", shared]
    args += ["--dir", f"{RUN_DIR}/work", "--dir", f"{RUN_DIR}/numba", "--chdir", "/"]
    if os.geteuid() == 0:
        args += ["--cap-add", "ALL"]  # the harness itself drops to an unprivileged uid (confine.py)
    return tuple(args)


def interpreter() -> str:
    """The real interpreter (a venv's ``python`` is a link to it; the venv is not in the root)."""
    return os.path.realpath(sys.executable)


def command(harness_args: list[str], die_with_parent: bool = True) -> list[str]:
    """The argv that runs the harness in the minimal root.

    ``die_with_parent`` kills the sandbox when the thread that started it ends (the kernel's
    parent-death signal follows the thread); a fork server, started from whichever thread
    needed it first, ends instead when the grader's end of its socket closes.
    """
    return [shutil.which("bwrap") or "bwrap", *(["--die-with-parent"] if die_with_parent else []), *_root_args(),
            "--", interpreter(), "-I", "-S", "-B", f"{HARNESS_DIR}/harness.py", "--site", SITE, *harness_args]


def missing() -> str | None:
    """How to install bubblewrap when it is not installed (None when it is); cheap, no probe."""
    return INSTALL_HINT if shutil.which("bwrap") is None else None


@lru_cache(maxsize=1)
def unavailable() -> str | None:
    """Why the bubblewrap layer cannot be used here (None when it can): starts a probe in the
    minimal root once per process."""
    if missing():
        return INSTALL_HINT
    try:
        out = subprocess.run(command(["--probe"]), stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"bubblewrap cannot start here ({exc}); pass --isolation none to run without isolation"
    if out.returncode != 0 or out.stdout.strip() != b"ok":
        err = out.stderr.decode("utf-8", "replace").strip().splitlines()
        return (f"bubblewrap cannot build the sandbox here ({err[-1] if err else out.returncode}); "
                "it needs root or unprivileged user namespaces; pass --isolation none to run without isolation")
    return None
