"""``streamdrift compare/profile --dask`` in real subprocesses: a ``dask scheduler`` and two
``dask worker`` processes on 127.0.0.1, ``--dask local:2``, and the one-line errors."""

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.streamdrift.test_cli_compare import streamdrift

distributed = pytest.importorskip("distributed")
DASK = Path(sys.executable).with_name("dask")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("dask_cli")
    rng = np.random.default_rng(11)
    for side, shift in (("ref", 0.0), ("cur", 1.0)):
        (d / side).mkdir()
        for i in range(3):
            table = pa.table({"x": rng.normal(shift, 1, 5000), "n": rng.integers(0, 20 + i, 5000),
                              "city": rng.choice(["Oslo", "Lima", "Pune", f"new-{i}"], 5000)})  # a category
            pq.write_table(table, d / side / f"part-{i}.parquet", row_group_size=1500)
    return d


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    """``dask scheduler`` and two ``dask worker`` processes; yields the scheduler's address."""
    d = tmp_path_factory.mktemp("scheduler")
    file = d / "scheduler.json"
    common = ["--scheduler-file", str(file), "--no-dashboard", "--host", "127.0.0.1"]
    procs = [subprocess.Popen([DASK, "scheduler", "--port", "0", *common], stderr=subprocess.DEVNULL)]
    try:
        deadline = time.monotonic() + 120
        while not file.exists() and time.monotonic() < deadline and procs[0].poll() is None:
            time.sleep(0.05)
        assert file.exists(), "dask scheduler did not start"
        for _ in range(2):
            procs.append(subprocess.Popen([DASK, "worker", "--nthreads", "1", "--no-nanny", *common], stderr=subprocess.DEVNULL))
        with distributed.Client(scheduler_file=str(file), timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        yield json.loads(file.read_text())["address"]
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:  # a worker slow to shut down on a busy machine
                p.kill()
                p.wait(30)


def test_compare_and_profile_against_a_scheduler_and_two_workers(data, scheduler, tmp_path):
    args = ["compare", data / "ref", data / "cur", "--format", "json", "--no-statistics"]
    local = streamdrift(*args)
    remote = streamdrift(*args, "--dask", scheduler)
    assert local.returncode == 1, local.stderr
    assert (remote.returncode, remote.stdout, remote.stderr) == (1, local.stdout, local.stderr)

    assert streamdrift("profile", data / "ref", "-o", tmp_path / "local.profile").returncode == 0
    p = streamdrift("profile", data / "ref", "-o", tmp_path / "dask.profile", "--dask", scheduler)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "dask.profile").read_bytes() == (tmp_path / "local.profile").read_bytes()


def test_compare_on_a_local_cluster_it_starts_and_closes(data):
    local = streamdrift("compare", data / "ref", data / "cur")
    p = streamdrift("compare", data / "ref", data / "cur", "--dask", "local:1")  # one worker starts sooner
    assert (p.returncode, p.stdout, p.stderr) == (local.returncode, local.stdout, local.stderr)


def test_an_unreachable_scheduler_is_one_line_and_exit_2():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    p = streamdrift("compare", "a.parquet", "b.parquet", "--dask", f"tcp://127.0.0.1:{port}", "--dask-timeout", "1.5")
    assert p.returncode == 2
    assert p.stderr.decode().startswith(f"error: cannot reach the Dask scheduler at tcp://127.0.0.1:{port} within 1.5 s")
    assert p.stderr.count(b"\n") == 1 and p.stdout == b""


def test_bad_dask_arguments_are_one_line_and_exit_2(data):
    p = streamdrift("compare", data / "ref", data / "cur", "--dask", "local:two")
    assert (p.returncode, p.stderr.decode()) == (
        2, "error: --dask local:two: the number of local workers must be a whole number >= 1, e.g. local:2\n")
    p = streamdrift("compare", data / "ref", data / "cur", "--dask-timeout", "0")
    assert p.returncode == 2 and p.stderr.count(b"\n") == 1


def test_without_the_dask_extra_the_error_says_what_to_install(data):
    code = ("import sys; sys.modules['distributed'] = None\n"
            "from streamdrift.cli import run\n"
            f"sys.exit(run(['compare', {str(data / 'ref')!r}, {str(data / 'cur')!r}, '--dask', 'local']))\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert (p.returncode, p.stderr) == (
        2, "error: --dask needs dask and distributed: pip install 'streamdrift[dask]' (on the workers too)\n")
