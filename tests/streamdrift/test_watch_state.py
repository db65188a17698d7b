"""``watch --state FILE``: killed at any point and restarted, a watch loses no window and repeats only
the one in progress, identically; a state for other settings is refused."""

import json
import random
import signal
import subprocess
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.streamdrift.cli_helpers import CMD, ENV, sd

WINDOW = 700


@pytest.fixture(scope="module")
def stream(tmp_path_factory):
    """A reference and 8 part files of uneven sizes that drift in their second half."""
    root = tmp_path_factory.mktemp("state")
    rng = np.random.default_rng(3)
    pq.write_table(pa.table({"a": rng.normal(0, 1, 2000), "b": rng.integers(0, 50, 2000)}), root / "ref.parquet")
    parts = root / "parts"
    parts.mkdir()
    for i, n in enumerate([500, 900, 300, 1200, 650, 700, 1000, 420]):
        a = rng.normal(0.8 if i >= 4 else 0.0, 1, n)
        a[rng.random(n) < 0.03] = np.nan
        table = pa.table({"a": a, "b": rng.integers(0, 50 + 10 * i, n)})
        pq.write_table(table, parts / f"part-{i:02d}.parquet", row_group_size=250)
    return root


def args(root, state, *extra):
    return [*CMD, "watch", "-r", str(root / "ref.parquet"), str(root / "parts"), "-w", str(WINDOW), "--format",
            "json", "--batch-size", "100", "--threads", "1", "--state", str(state), *extra]


def windows(lines: list[str]) -> dict[int, list[str]]:
    """The JSON records of each window, by window number."""
    out: dict[int, list[str]] = {}
    for line in lines:
        out.setdefault(json.loads(line)["window"], []).append(line)
    return out


def run_killed(command, lines_before_kill: int, delay: float) -> tuple[list[str], int | None]:
    """Start ``command``, read ``lines_before_kill`` whole lines, wait ``delay`` s (the point is
    wherever the watch has got to by then), kill -9 it; the whole lines it wrote."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=ENV)
    lines = []
    while len(lines) < lines_before_kill:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.decode())
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    rest = proc.stdout.read().decode()
    proc.wait(timeout=60)
    lines += [x + "\n" for x in rest.split("\n")[:-1]]  # only whole lines: a kill may cut the last one
    return lines, proc.returncode


def test_kill_9_anywhere_then_restart_gives_the_uninterrupted_windows(stream, tmp_path):
    whole = subprocess.run(args(stream, tmp_path / "once.state"), capture_output=True, env=ENV, timeout=120)
    assert whole.returncode == 1, whole.stderr
    expected = windows(whole.stdout.decode().splitlines(keepends=True))
    assert len(expected) == 9  # 5670 rows: 8 full windows and a partial one

    rng = random.Random(20261201)
    state = tmp_path / "killed.state"
    seen: dict[int, list[str]] = {}
    for attempt in range(12):
        command = args(stream, state)
        if attempt < 8:  # killed after a random number of lines (0: while starting or reading the state)
            lines, code = run_killed(command, rng.randrange(0, 8), rng.uniform(0, 0.05))
        else:
            done = subprocess.run(command, capture_output=True, env=ENV, timeout=120)
            lines, code = done.stdout.decode().splitlines(keepends=True), done.returncode
        reported = windows(lines)
        # It continues: only the window in progress at the kill (at most the last one out) comes again.
        assert min(reported, default=len(expected)) >= max(seen, default=0), (attempt, sorted(reported), sorted(seen))
        for index, records in reported.items():
            if len(records) < 2:
                continue  # the kill cut this window's lines
            assert seen.setdefault(index, records) == records, f"window {index} reported differently"
            assert records == expected[index], f"window {index} differs from the uninterrupted run's"
        if code in (0, 1):
            break
    assert set(seen) == set(expected)


def test_a_state_for_other_settings_is_refused(stream, tmp_path):
    state = tmp_path / "s.state"
    first = sd(*args(stream, state)[3:])
    assert first.returncode == 1, first.stderr
    saved = json.loads(state.read_text())
    assert saved["position"]["window"] == 8 and saved["position"]["row"] == 8 * WINDOW
    for extra, what in [(["-w", "500"], "window"), (["--edges", "reference"], "edges"), (["--bins", "10"], "bins"),
                        (["-c", "a"], "features")]:
        r = sd(*args(stream, state)[3:], *extra)
        message = r.stderr.decode().strip()
        assert r.returncode == 2 and len(message.splitlines()) == 1, message
        assert message.startswith(f"error: state '{state}' was written for another {what}"), message
    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"a": np.arange(10.0), "b": np.arange(10)}), other)
    r = sd("watch", "-r", other, stream / "parts", "-w", WINDOW, "--state", state)
    assert r.returncode == 2 and "written for another reference" in r.stderr.decode()
    r = sd("watch", "-r", stream / "ref.parquet", "-", "--state", state, input=b"")
    assert r.returncode == 2 and "--state" in r.stderr.decode() and "standard input" in r.stderr.decode()
    assert json.loads(state.read_text()) == saved  # refused states are left as they were


def test_a_restart_after_the_end_reports_only_the_open_window_again(stream, tmp_path):
    state = tmp_path / "s.state"
    first = sd(*args(stream, state)[3:])
    again = sd(*args(stream, state)[3:])
    assert first.returncode == again.returncode == 1
    last = [x for x in first.stdout.decode().splitlines() if json.loads(x)["window"] == 8]
    assert again.stdout.decode().splitlines() == last
    assert "watched 5670 rows in 9 windows" in first.stderr.decode()
