"""Run untrusted Python in a confined child process and collect what it did, safely.

The layout, one job per file:

* ``protocol.py``: the job schema, event names, framing, the case-data codec, event parsing;
* ``limits.py``: ``Limits``, the one set of defaults;
* ``harness.py`` (with ``confine.py``, ``judge.py`` and ``serve.py``): the standalone child,
  standard library plus numpy/pandas only, run as a file, never as ``grader.*``;
* ``bwrap.py`` (the minimal root) and ``cgroup.py`` (one memory limit for every route): the
  isolation layers around it (docs/grader.md, "The sandbox" and "Threat model");
* ``backend.py``: the ``Backend`` interface; ``spawn.py`` (a process per job; ``none``: the
  same without the minimal root) and ``forkserver.py`` (warm fork servers) implement it;
* ``collect.py`` and ``rundir.py``: the parent's read loop and per-run directory;
* ``run.py``: ``run_code`` for arbitrary code (the agent's python tool).

The parent side is the same for every backend: pipes for stdout, stderr and the private
result channel; a deadline after which the child's whole process group is killed; output
kept up to a size cap and the rest discarded as it arrives; a per-run directory removed
afterwards. Everything here is safe to call from many threads at once.
"""

from grader.sandbox.backend import (ISOLATIONS, Backend, SandboxError, check_setup, describe_isolation, execute,
                                    get_backend)
from grader.sandbox.collect import collect
from grader.sandbox.forkserver import ForkPool, WorkerError, shared_pool
from grader.sandbox.limits import DEFAULT_LIMITS, MAX_CODE_CHARS, RESULT_LIMIT, Limits
from grader.sandbox.protocol import CaseData, RawRun, encode_cases, parse_events
from grader.sandbox.rundir import MINIMAL_ENV, child_env, make_workdir, remove_workdir, workdir_of
from grader.sandbox.run import ExecResult, run_code
from grader.sandbox.spawn import SpawnBackend, run_spawn

__all__ = [
    "ISOLATIONS", "Backend", "CaseData", "describe_isolation", "DEFAULT_LIMITS", "ExecResult", "ForkPool", "Limits", "MAX_CODE_CHARS", "MINIMAL_ENV",
    "RESULT_LIMIT", "RawRun", "SandboxError", "SpawnBackend", "WorkerError", "check_setup", "child_env", "collect",
    "encode_cases", "execute", "get_backend", "make_workdir", "parse_events", "remove_workdir", "run_code",
    "run_spawn", "shared_pool", "workdir_of",
]
