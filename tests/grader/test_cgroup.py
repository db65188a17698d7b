"""The memory cgroup layer's housekeeping: groups of graders that were killed do not pile up."""

import os
import signal
import subprocess
import sys

import pytest

from grader.sandbox import cgroup

pytestmark = pytest.mark.skipif(not cgroup.available(), reason="no memory cgroup can be made here")


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_a_killed_graders_groups_are_removed_by_the_next_one_and_live_ones_kept():
    killed = _python("import os, signal\nfrom grader.sandbox.cgroup import MemoryGroup\n"
                     "print(MemoryGroup().path, flush=True)\nos.kill(os.getpid(), signal.SIGKILL)")
    assert killed.returncode == -signal.SIGKILL
    left = killed.stdout.strip()
    assert os.path.isdir(left)  # nobody removed it: the grader died first
    mine = cgroup.MemoryGroup()  # a live grader's group, empty right now
    try:
        after = _python("from grader.sandbox import cgroup\nassert cgroup.available()")
        assert after.returncode == 0, after.stderr
        assert not os.path.exists(left)
        assert os.path.isdir(mine.path)
    finally:
        mine.remove()
