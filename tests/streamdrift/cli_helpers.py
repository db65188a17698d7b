"""Running the ``streamdrift`` command in tests: subprocesses, pipes, JSON Lines, shared data."""

import ast
import json
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

CMD = [sys.executable, "-m", "streamdrift"]
ENV = {**os.environ, "PYTHONUNBUFFERED": "0"}


def sd(*args, stdin=None, input=None, timeout=120):
    return subprocess.run([*CMD, *map(str, args)], input=input, stdin=stdin, capture_output=True, timeout=timeout, env=ENV)


def write_data(root):
    """A reference and 4 part files whose second half drifts (age +6, income x1.15); ``name`` is
    binary, a column that is no feature."""
    rng = np.random.default_rng(11)
    n = 3000
    ref = pa.table({"age": rng.normal(40, 10, n), "income": rng.normal(60000, 8000, n).round(),
                    "name": pa.array([b"x"] * n)})
    pq.write_table(ref, root / "ref.parquet", row_group_size=800)
    parts = root / "parts"
    parts.mkdir()
    sizes = [700, 900, 800, 850]
    paths = []
    for i, size in enumerate(sizes):
        age = rng.normal(40 + (6 if i >= 2 else 0), 10, size)
        age[rng.random(size) < 0.02] = np.nan
        income = rng.normal(60000, 8000, size).round() * (1.15 if i >= 2 else 1.0)
        p = parts / f"part-{i}.parquet"
        pq.write_table(pa.table({"age": age, "income": income, "name": pa.array([b"y"] * size)}), p, row_group_size=300)
        paths.append(p)
    return dict(root=root, ref=root / "ref.parquet", parts=parts, paths=paths, rows=sum(sizes))


def modules_loaded(args: list, candidates: tuple[str, ...]) -> list[str]:
    """Which of ``candidates`` a ``streamdrift ARGS`` run in a fresh interpreter imported."""
    code = ("import sys; from streamdrift.cli import run; "
            f"run({[str(a) for a in args]!r}); "
            f"print(sorted(m for m in {candidates!r} if m in sys.modules))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, env=ENV, timeout=300)
    assert p.stdout, p.stderr.decode()
    return ast.literal_eval(p.stdout.decode().splitlines()[-1])


def records(stdout: bytes) -> list[dict]:
    return [json.loads(line) for line in stdout.decode().splitlines() if line.strip()]


def pipe(first: list, second: list, timeout=120):
    """``first | second``; returns both CompletedProcess-like results."""
    a = subprocess.Popen([*CMD, *map(str, first)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    b = subprocess.Popen([*CMD, *map(str, second)], stdin=a.stdout, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=ENV)
    a.stdout.close()
    out, err = b.communicate(timeout=timeout)
    a_err = a.stderr.read()
    a.wait(timeout=timeout)
    return (a.returncode, a_err), (b.returncode, out, err)


def open_files(pid: int) -> list[str]:
    """Where the open descriptors of process ``pid`` lead."""
    targets = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            targets.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            pass
    return targets


def wait_until(predicate, timeout=60.0):
    """Polls ``predicate`` (an event in another process, observable only by looking) until true."""
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.02)


def rest_of(proc, timeout=60) -> tuple[bytes, bytes]:
    """The rest of a process's stdout (with what its reader had buffered) and its stderr, once it exits.

    (``communicate`` after a ``readline`` would skip the lines the buffered reader already holds.)
    """
    err = []
    reader = threading.Thread(target=lambda: err.append(proc.stderr.read()), daemon=True)
    reader.start()
    out = proc.stdout.read()
    proc.wait(timeout=timeout)
    reader.join(timeout)
    return out, err[0]
