"""How ``streamdrift watch`` ends its process: at once, without the interpreter's teardown, after
flushing everything it wrote (the teardown of numpy's and pyarrow's modules is a tenth of a
small watch's start-up); commands that do not ask for it keep the normal teardown."""

import subprocess
import sys

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
