"""Helpers of the Dask tests (the cluster itself is the ``dask_client`` fixture, tests/conftest.py):
waiting for a task to run on a worker, killing a worker process, waiting for both workers."""

import os
import signal
import threading
import time
from pathlib import Path

import pytest


def wait_until_running(client, name: str, deadline_s: float = 120.0) -> list[str]:
    """Block until a task whose key contains ``name`` runs on a worker (polling the scheduler)."""

    def running(dask_scheduler):
        return [str(ts.key) for ws in dask_scheduler.workers.values() for ts in ws.processing if name in str(ts.key)]

    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        found = client.run_on_scheduler(running)
        if found:
            return found
        time.sleep(0.01)
    raise AssertionError(f"no {name} task ever ran")


def kill_a_busy_worker(client, name: str) -> tuple[str, list[int]]:
    """SIGKILL the process of a worker running a ``name`` task: its address, and the processes
    it had started (children), found just before."""

    def busy(dask_scheduler):
        return [addr for addr, ws in dask_scheduler.workers.items() if any(name in str(ts.key) for ts in ws.processing)]

    wait_until_running(client, name)
    pids = client.run(os.getpid)
    address = (client.run_on_scheduler(busy) or list(pids))[0]
    children = children_of(pids[address])
    os.kill(pids[address], signal.SIGKILL)
    return address, children


def children_of(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry))
    return found


def both_workers(client, deadline_s: float = 300.0):
    """``client`` once its cluster has its 2 workers again (after a test killed one, its nanny
    starts a new one: seconds, or minutes on a loaded machine). For tests that need both."""
    client.wait_for_workers(2, timeout=deadline_s)
    return client


def running(pid: int) -> bool:
    """True while ``pid`` runs (a zombie nobody reaped has ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def interrupt_while_running(client, name: str, fn) -> None:
    """Call ``fn()``, press Ctrl-C (SIGINT to this process) once a ``name`` task runs on a worker,
    and require that ``fn`` ends with KeyboardInterrupt."""

    def interrupt():
        wait_until_running(client, name)
        os.kill(os.getpid(), signal.SIGINT)

    watcher = threading.Thread(target=interrupt)
    watcher.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            fn()
    finally:
        watcher.join(120)


def left_on_scheduler(client, select, deadline_s: float = 60.0) -> list:
    """Wait until ``select(dask_scheduler)`` (run on the scheduler) finds nothing; what it finds then."""
    deadline = time.monotonic() + deadline_s
    while client.run_on_scheduler(select) and time.monotonic() < deadline:
        time.sleep(0.02)
    return client.run_on_scheduler(select)


def graphs_of(client, prefix: str, fn) -> list[int]:
    """Run ``fn()``; the number of ``prefix`` tasks in each graph the scheduler was sent meanwhile."""
    from distributed.diagnostics.plugin import SchedulerPlugin

    class Graphs(SchedulerPlugin):
        name = "graphs-of"

        def __init__(self):
            self.sizes = []

        def update_graph(self, scheduler, *, tasks, **kwargs):
            self.sizes.append(sum(str(key).startswith(prefix) for key in tasks))

    client.register_plugin(Graphs())
    try:
        fn()
        return client.run_on_scheduler(lambda dask_scheduler: [n for n in dask_scheduler.plugins["graphs-of"].sizes if n])
    finally:
        client.unregister_scheduler_plugin("graphs-of")
