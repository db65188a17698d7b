"""Stopping ``streamdrift watch`` (SIGINT, SIGTERM, the end of input) in real subprocesses: no row lost."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.streamdrift.cli_helpers import CMD, ENV, open_files, records, rest_of, wait_until, write_data


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_data(tmp_path_factory.mktemp("watch"))


class Follow:
    """``watch --follow`` on a directory in the background, its stdout collected line by line."""

    def __init__(self, data, folder, *extra):
        self.proc = subprocess.Popen(
            [*CMD, "watch", "-r", str(data["ref"]), "--follow", str(folder), "--poll-interval", "0.05",
             "-w", "1000", "--format", "json", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
        self.lines = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(json.loads(line))

    def wait_for(self, predicate, timeout=60):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if predicate(self.lines):
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"watch exited early: {self.proc.stderr.read().decode()}")
            time.sleep(0.05)
        raise AssertionError(f"timed out; got {len(self.lines)} lines")

    def stop(self, signum):
        self.proc.send_signal(signum)
        rc = self.proc.wait(timeout=60)
        self.reader.join(10)
        return rc, self.proc.stderr.read().decode()


def age_rows(lines):
    return sum(r["current_count"] + r["missing_current"] for r in lines if r["feature"] == "age")


@pytest.mark.parametrize("signum, code, name", [(signal.SIGINT, 130, "SIGINT"), (signal.SIGTERM, 143, "SIGTERM")])
def test_follow_reads_new_files_once_and_stops_cleanly(data, tmp_path, signum, code, name):
    folder = tmp_path / "incoming"
    folder.mkdir()
    w = Follow(data, folder)
    first, second, third = data["paths"][:3]
    (folder / first.name).write_bytes(first.read_bytes())
    # A file appears half-written, then is finished: read once, whole.
    half = second.read_bytes()
    (folder / second.name).write_bytes(half[: len(half) // 2])
    time.sleep(0.5)
    (folder / second.name).write_bytes(half)
    # A writer that renames a hidden temporary file into place.
    (folder / ".tmp-part").write_bytes(third.read_bytes())
    os.rename(folder / ".tmp-part", folder / third.name)
    expected = sum(pq.read_metadata(p).num_rows for p in (first, second, third))
    w.wait_for(lambda lines: age_rows(lines) >= expected // 1000 * 1000)
    time.sleep(0.3)
    rc, err = w.stop(signum)
    assert rc == code, err
    assert age_rows(w.lines) == expected  # the partial last window is reported on stop
    assert w.lines[-1]["partial"] is True
    assert f"stopped by {name}: watched {expected} rows" in err
    assert "Traceback" not in err


def test_sigint_while_waiting_on_stdin_reports_what_arrived(data):
    """A producer that pauses: the rows that arrived are reported, then exit 130."""
    proc = subprocess.Popen([*CMD, "watch", "-r", str(data["ref"]), "-", "-w", "500", "--format", "json"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    table = pq.read_table(data["paths"][0])
    sink = pa.BufferOutputStream()
    writer = pa.ipc.new_stream(sink, table.schema)
    writer.write_table(table)  # 700 rows: one full window, 200 rows pending; no end of stream
    proc.stdin.write(sink.getvalue().to_pybytes())
    proc.stdin.flush()
    first = json.loads(proc.stdout.readline())
    assert (first["window"], first["end_row"]) == (0, 500)
    proc.send_signal(signal.SIGINT)
    out, err = rest_of(proc)
    assert proc.returncode == 130, err
    rest = [r for r in records(out) if r["window"] == 1]  # (window 0's second line may come first)
    assert [(r["feature"], r["start_row"], r["end_row"], r["partial"]) for r in rest] == [
        ("age", 500, 700, True), ("income", 500, 700, True)]
    assert "stopped by SIGINT: watched 700 rows in 2 windows" in err.decode()


STALLING_PRODUCER = """
import io, sys, time
import numpy as np, pyarrow as pa, pyarrow.parquet as pq
t = pa.table({"age": np.linspace(20, 60, 3000), "income": np.linspace(1e4, 9e4, 3000)})
out = sys.stdout.buffer
if sys.argv[1] == "ipc":
    w = pa.ipc.new_stream(out, t.schema)
    w.write_table(t)
else:
    buf = io.BytesIO()
    pq.write_table(t, buf)
    out.write(buf.getvalue()[:5000])
out.flush()
time.sleep(60)
"""


@pytest.mark.parametrize("fmt", ["ipc", "parquet"])
@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_stopping_watch_blocked_on_a_stalled_standard_input(data, tmp_path, fmt, sig, code):
    """The reader thread is stuck in a read of stdin: the exit stays clean and its spool is removed."""
    spool = tmp_path / "spool"
    spool.mkdir()
    env = {**ENV, "TMPDIR": str(spool)}
    producer = subprocess.Popen([sys.executable, "-c", STALLING_PRODUCER, fmt], stdout=subprocess.PIPE)
    watch = subprocess.Popen([*CMD, "watch", "-r", str(data["ref"]), "-w", "1000", "-"], stdin=producer.stdout,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    producer.stdout.close()
    try:
        if fmt == "ipc":  # blocked once the 3 windows of what arrived are out
            first = b""
            while first.count(b"window ") < 3:
                first += watch.stdout.readline()
        else:  # blocked while spooling: the spool is open
            first = b""
            wait_until(lambda: any(str(spool) in target for target in open_files(watch.pid)))
        watch.send_signal(sig)
        out, err = rest_of(watch)
    finally:
        producer.kill()
        producer.wait()
    assert watch.returncode == code, err
    assert b"Fatal Python error" not in err and err.decode().strip().splitlines()[-1].startswith("stopped by SIG")
    assert list(spool.iterdir()) == []
    if fmt == "ipc":
        assert (first + out).decode().count("window ") == 3
