"""The per-run directory (the child's empty working directory and its numba cache) and the
minimal environment a sandboxed child gets."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile

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
    """The minimal environment of a sandboxed child working in ``workdir``."""
    return {
        **MINIMAL_ENV,
        "HOME": workdir,
        "TMPDIR": workdir,
        "NUMBA_CACHE_DIR": os.path.join(os.path.dirname(workdir), "numba"),
        "MPLBACKEND": "Agg",
    }


def make_workdir(numba_cache: bool = False) -> str:
    """A private per-run directory: ``work/`` (the child's empty cwd) and ``numba/`` (its
    NUMBA_CACHE_DIR). Returns the run directory; ``workdir_of`` gives the cwd.

    With ``numba_cache`` the project's compiled streamdrift kernels are linked into the
    child's cache (read-only symlinks), so a fresh interpreter need not recompile them.
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
