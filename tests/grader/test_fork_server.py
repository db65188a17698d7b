"""The fork server behind ``isolation='fork'``: one fork per job, replaced when it dies, started
without a probe, saying why when it cannot start, and its warm-up."""

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from grader.sandbox import run_code as _run_code
from grader.sandbox.confine import UID_BASE

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="namespaces and a fresh uid need root")


def _descendants(pid: int) -> dict[int, int]:
    """``{pid: uid}`` of every process below ``pid``."""
    parents, uids = {}, {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        parents[int(entry)] = int(fields["PPid"])
        uids[int(entry)] = int(fields["Uid"].split()[0])
    found, todo = {}, [pid]
    while todo:
        parent = todo.pop()
        for child, ppid in parents.items():
            if ppid == parent and child not in found:
                found[child] = uids[child]
                todo.append(child)
    return found


@root_only
def test_the_fork_server_forks_once_per_job():
    """A job adds one process under the fork server, not two (no outer process waiting for
    it): the job is forked straight into its new PID namespace."""
    from grader.sandbox import ForkPool

    with ForkPool(1) as pool:
        assert _run_code("print(1)", isolation="fork", pool=pool).stdout == "1\n"
        (worker,) = pool._workers
        idle = _descendants(worker.proc.pid)
        thread = threading.Thread(target=_run_code, args=("import time; time.sleep(60)",),
                                  kwargs={"isolation": "fork", "pool": pool, "timeout_s": 20})
        thread.start()
        try:
            deadline = time.monotonic() + 30
            while not any(uid >= UID_BASE for uid in _descendants(worker.proc.pid).values()):
                assert time.monotonic() < deadline, "the job never dropped its privileges"
                time.sleep(0.01)
            running = _descendants(worker.proc.pid)  # confined: its uid is the last step
            assert len(running) == len(idle) + 1, (idle, running)
        finally:
            os.killpg(worker.proc.pid, signal.SIGKILL)
            thread.join()


def test_a_dead_worker_is_replaced():
    from grader.sandbox import ForkPool

    with ForkPool(1) as pool:
        assert _run_code("print(1)", isolation="fork", pool=pool).stdout == "1\n"
        (worker,) = pool._workers
        os.killpg(worker.proc.pid, signal.SIGKILL)  # the server and the bubblewrap around it
        worker.proc.wait()
        assert _run_code("print(2)", isolation="fork", pool=pool).stdout == "2\n"
        assert pool._workers and pool._workers[0] is not worker


def test_a_fork_server_starts_without_a_probe(monkeypatch):
    """The fork server's own ``ready`` shows that the minimal root works: no sandboxed
    interpreter is started first just to ask (it doubled the cold start)."""
    from grader.sandbox import ForkPool, bwrap

    def no_probe():
        raise AssertionError("the fork server ran the bubblewrap probe")

    monkeypatch.setattr(bwrap, "unavailable", no_probe)
    with ForkPool(1) as pool:
        r = _run_code("print(1)", isolation="fork", pool=pool)
    assert (r.stdout, r.isolation["bwrap"]) == ("1\n", True)


def test_a_fork_server_that_cannot_build_the_root_says_why(monkeypatch):
    """When the server does not start, the probe explains it in one line (SandboxError, as
    for spawn), never a bare worker error."""
    from grader.sandbox import ForkPool, SandboxError, bwrap

    broken = ("--ro-bind", "/nonexistent-streamdrift-path", "/x", *bwrap._root_args())
    monkeypatch.setattr(bwrap, "_root_args", lambda: broken)
    bwrap.unavailable.cache_clear()
    try:
        with ForkPool(1) as pool, pytest.raises(SandboxError, match="bubblewrap cannot build the sandbox") as info:
            _run_code("print(1)", isolation="fork", pool=pool)
        assert "\n" not in str(info.value)
    finally:
        bwrap.unavailable.cache_clear()


def test_the_fork_server_warm_up_runs_and_hides_no_later_warning():
    """The server runs common numpy/pandas paths once, while idle, before forking jobs (their
    first-call cost is paid once); it must work with the installed versions, raise no
    deprecation warning (the server runs it under "always" too, so no warning is marked as
    shown), and stop as soon as a job is waiting."""
    import warnings

    from grader.sandbox import serve

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        steps = sum(1 for _ in serve.warm_up())
    assert [w for w in seen if issubclass(w.category, (DeprecationWarning, FutureWarning))] == []
    assert steps > 5  # small steps: the server stops between two when a job arrives
