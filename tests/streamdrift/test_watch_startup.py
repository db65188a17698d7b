"""How a watch starts and ends. Files holding more values than the numpy path's budget start
numba's import at once, on a thread of its own (identical results). The command ends its
process at once, without the interpreter's teardown, after flushing everything it wrote (the
teardown of numpy's and pyarrow's modules is a tenth of a small watch's start-up); commands
that do not ask for it keep the normal teardown."""

import json
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from tests.streamdrift.cli_helpers import ENV, records, write_data

# An atexit hook shows whether the interpreter's teardown ran.
ENTRY = ("import atexit, sys\n"
         "atexit.register(lambda: sys.stderr.write('teardown ran\\n'))\n"
         "from streamdrift.cli import main\n"
         "main(sys.argv[1:])\n")


def run(*args):
    return subprocess.run([sys.executable, "-c", ENTRY, *map(str, args)], capture_output=True, env=ENV, timeout=300)


def test_a_watch_ends_without_teardown_and_keeps_every_line_it_wrote(tmp_path):
    data = write_data(tmp_path)
    p = run("watch", "-r", data["ref"], data["parts"], "--window", "7", "--format", "json")
    assert p.returncode == 1, p.stderr.decode()
    out = records(p.stdout)  # hundreds of kilobytes through a buffered pipe: all flushed before the exit
    assert len(out) == 2 * -(-data["rows"] // 7)
    assert sum(r["current_count"] + r["missing_current"] for r in out if r["feature"] == "age") == data["rows"]
    assert p.stderr.decode().splitlines()[-1].startswith(f"watched {data['rows']} rows in ")
    assert b"teardown ran" not in p.stderr


def test_other_commands_and_a_failed_watch_keep_the_teardown(tmp_path):
    data = write_data(tmp_path)
    p = run("compare", data["ref"], data["parts"])
    assert p.returncode == 1 and b"teardown ran" in p.stderr
    p = run("watch", "-r", data["ref"], tmp_path / "missing.parquet")
    assert p.returncode == 2 and b"teardown ran" in p.stderr and b"missing.parquet" in p.stderr


BUDGET = """
import json, sys, threading
from streamdrift import _kernels
from streamdrift.watch import watch
_kernels.SMALL_VALUES = int(sys.argv[3])  # the numpy path's budget, in values
windows = [w.records() for w in watch(sys.argv[1], [sys.argv[2]], columns=["a"], window=700)]
for t in threading.enumerate():
    if t.name == "streamdrift-kernels":
        t.join()
print(json.dumps(dict(numba="numba" in sys.modules, numpy_values=_kernels._small_values, windows=windows)))
"""


def test_files_bigger_than_the_numpy_budget_start_numba_early_with_identical_windows(tmp_path):
    """The files hold 12 columns of 3,000 rows (about 36,000 values by their size); one column is
    watched: 3,000 values counted, within a budget of 10,000, so only the files' size loads numba."""
    rng = np.random.default_rng(2)
    for name in ("ref", "cur"):
        pq.write_table(pa.table({c: rng.normal(0, 1, 3000) for c in "abcdefghijkl"}), tmp_path / f"{name}.parquet",
                       compression="none")
    runs = {}
    for budget in (10_000, 10**9):
        p = subprocess.run([sys.executable, "-c", BUDGET, str(tmp_path / "ref.parquet"), str(tmp_path / "cur.parquet"),
                            str(budget)], capture_output=True, text=True, env=ENV, timeout=300)
        assert p.returncode == 0, p.stderr
        runs[budget] = json.loads(p.stdout.splitlines()[-1])
    assert runs[10_000]["numba"] and not runs[10**9]["numba"]
    assert runs[10**9]["numpy_values"] > 0
    assert runs[10_000]["windows"] == runs[10**9]["windows"]
