"""Standard input's spool: it never has a name in TMPDIR, so nothing can leave it behind, and a full
TMPDIR is a one-line error naming TMPDIR and the room needed."""

import os
import shutil
import signal
import subprocess
import sys

import pytest

from tests.streamdrift.cli_helpers import CMD, ENV, open_files, wait_until, write_data

STALLING_PARQUET = """
import io, sys, time
import numpy as np, pyarrow as pa, pyarrow.parquet as pq
buf = io.BytesIO()
pq.write_table(pa.table({"age": np.linspace(20, 60, 300_000)}), buf)
sys.stdout.buffer.write(buf.getvalue()[:-100])
sys.stdout.buffer.flush()
time.sleep(60)
"""


def test_sigkill_while_spooling_leaves_nothing_in_tmpdir(tmp_path):
    data = write_data(tmp_path)
    spool = tmp_path / "spool"
    spool.mkdir()
    producer = subprocess.Popen([sys.executable, "-c", STALLING_PARQUET], stdout=subprocess.PIPE)
    watch = subprocess.Popen([*CMD, "watch", "-r", str(data["ref"]), "-"], stdin=producer.stdout,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**ENV, "TMPDIR": str(spool)})
    producer.stdout.close()
    try:
        wait_until(lambda: any(str(spool) in target for target in open_files(watch.pid)))
        assert list(spool.iterdir()) == []  # open, being written, and already nameless
        watch.send_signal(signal.SIGKILL)
        watch.wait(timeout=60)
    finally:
        producer.kill()
        producer.wait()
        watch.stdout.close()
        watch.stderr.close()
    assert list(spool.iterdir()) == []


def small_tmpdir_command(folder, size_kb: int, command: list[str]) -> list[str]:
    """``command`` with ``folder`` made a tmpfs of ``size_kb`` KiB, in its own user and mount namespace."""
    script = f'mount -t tmpfs -o size={size_kb}k tmpfs "{folder}" && exec "$@"'
    return ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script, "sh", *command]


def can_mount_a_small_tmpfs(folder) -> bool:
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(small_tmpdir_command(folder, 64, ["true"]), capture_output=True).returncode == 0


@pytest.mark.parametrize("command", ["watch", "compare"])
def test_a_full_tmpdir_names_tmpdir_and_the_room_needed(tmp_path, command):
    data = write_data(tmp_path)
    small = tmp_path / "small"
    small.mkdir()
    if not can_mount_a_small_tmpfs(small):
        pytest.skip("this machine cannot mount a tmpfs in a user namespace (unshare)")
    big = subprocess.run([sys.executable, "-c", STALLING_PARQUET.replace("time.sleep(60)", "")],
                         capture_output=True, check=True).stdout
    assert len(big) > 1_000_000
    args = ["watch", "-r", str(data["ref"]), "-"] if command == "watch" else ["compare", str(data["ref"]), "-"]
    r = subprocess.run(small_tmpdir_command(small, 256, [*CMD, *args]), input=big, capture_output=True,
                       timeout=120, env={**ENV, "TMPDIR": str(small)})
    assert r.returncode == 2, r.stderr
    err = [line for line in r.stderr.decode().strip().splitlines()
           if not line.startswith(("watched ", "skipped 1 column"))]  # watch's summary, the binary column 'name'

    assert len(err) == 1 and err[0].startswith("error: "), err  # (watch adds its summary line)
    assert f"TMPDIR ({small})" in err[0] and "no space left" in err[0]
    assert "needs room for more than" in err[0] and "internal error" not in err[0]
    assert "Traceback" not in r.stderr.decode()
    assert os.listdir(small) == []
