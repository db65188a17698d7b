"""``streamdrift watch``, ``cat`` and ``profile`` in real subprocesses: pipes, exit codes, output."""

import json
import os
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.streamdrift.cli_helpers import CMD, ENV, pipe, records, sd, write_data


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_data(tmp_path_factory.mktemp("watch"))


def test_cat_pipe_into_watch_counts_every_row(data):
    (rc_a, err_a), (rc, out, err) = pipe(["cat", *data["paths"]],
                                         ["watch", "-r", data["ref"], "-", "--window", "1000", "--format", "json"])
    assert rc_a == 0, err_a
    assert rc == 1, err
    recs = records(out)
    assert set(r["feature"] for r in recs) == {"age", "income"}
    for feature in ("age", "income"):
        mine = [r for r in recs if r["feature"] == feature]
        assert sum(r["current_count"] + r["missing_current"] for r in mine) == data["rows"]
        assert [r["window"] for r in mine] == list(range(len(mine)))
        assert [r["partial"] for r in mine] == [False] * (len(mine) - 1) + [True]
        assert mine[-1]["end_row"] == data["rows"]
    assert sum(r["missing_current"] for r in recs) > 0
    assert f"watched {data['rows']} rows in 4 windows" in err.decode()


def test_json_keys(data):
    r = sd("watch", "-r", data["ref"], data["parts"], "-w", "1000", "--format", "json")
    rec = records(r.stdout)[0]
    for key in ("feature", "kl", "drifted", "threshold", "reference_count", "current_count", "missing_reference",
                "missing_current", "window", "start_row", "end_row", "partial"):
        assert key in rec
    assert (rec["window"], rec["start_row"], rec["end_row"], rec["partial"]) == (0, 0, 1000, False)
    assert "out_of_range" not in rec
    fixed = records(sd("watch", "-r", data["ref"], data["parts"], "--edges", "reference", "--format", "json").stdout)
    assert all(isinstance(r["out_of_range"], int) for r in fixed)


def test_window_kl_equals_compare_of_the_window(data, tmp_path):
    r = sd("watch", "-r", data["ref"], data["parts"], "-w", "1200", "--format", "json")
    assert r.returncode == 1, r.stderr
    recs = records(r.stdout)
    whole = pa.concat_tables([pq.read_table(p) for p in data["paths"]])
    for index in (0, 2):
        mine = [x for x in recs if x["window"] == index]
        start, end = mine[0]["start_row"], mine[0]["end_row"]
        path = tmp_path / f"window{index}.parquet"
        pq.write_table(whole.slice(start, end - start), path)
        c = sd("compare", data["ref"], path, "--format", "json")
        expected = {x["feature"]: x for x in records(c.stdout)}
        for x in mine:
            assert x["kl"] == expected[x["feature"]]["kl"]
            assert x["current_count"] == expected[x["feature"]]["current_count"]
            assert x["reference_count"] == expected[x["feature"]]["reference_count"]


def test_text_output_and_quiet(data):
    r = sd("watch", "-r", data["ref"], data["parts"], "-w", "1000")
    lines = r.stdout.decode().splitlines()
    assert r.returncode == 1
    assert lines[0] == "window 0 rows 0-999: 0 of 2 features drifted"
    assert lines[-3].startswith("window 3 rows 3000-3249 (partial): 2 of 2 features drifted")
    assert lines[-2].startswith("Drifted: age (KL=") and lines[-1].startswith("Drifted: income (KL=")
    q = sd("watch", "-r", data["ref"], data["parts"], "-w", "1000", "--quiet")
    assert q.returncode == 1 and q.stderr == b""
    windows = [x.split(":")[0] for x in lines if x.startswith("window")]
    named = [f"{w}: {x}" for w, x in _drifted_under(windows, lines)]
    assert q.stdout.decode().splitlines() == named and len(named) >= 2
    assert named[-1].startswith("window 3: Drifted: income (KL=")
    calm = sd("watch", "-r", data["ref"], data["paths"][0], data["paths"][1], "-w", "1000", "-t", "5")
    assert calm.returncode == 0, calm.stderr
    assert "Drifted" not in calm.stdout.decode()


def _drifted_under(windows, lines):
    """``(window N, Drifted: ...)`` for each Drifted line, with the window whose header it follows."""
    out, index = [], -1
    for line in lines:
        if line.startswith("window"):
            index += 1
        elif line.startswith("Drifted:"):
            out.append((windows[index].split(" rows")[0], line))
    return out


def test_no_rows_is_an_error_naming_the_input(data, tmp_path):
    empty = sd("watch", "-r", data["ref"], "-", input=b"")
    assert (empty.returncode, empty.stdout) == (2, b"")
    assert empty.stderr.decode().splitlines()[1:] == [  # after the line on the skipped column 'name'
        "error: standard input is empty; pipe an Arrow IPC stream or Parquet into it"]
    none = tmp_path / "none.parquet"
    pq.write_table(pq.read_table(data["paths"][0]).slice(0, 0), none)
    r = sd("watch", "-r", data["ref"], none)
    assert (r.returncode, r.stdout) == (2, b"")
    assert r.stderr.decode().splitlines()[1:] == [f"error: no rows in '{none}'; a watch needs at least one row"]


def test_saved_profile_gives_the_same_output(data, tmp_path):
    prof = tmp_path / "ref.profile"
    p = sd("profile", data["ref"], "-o", prof)
    assert p.returncode == 0, p.stderr
    assert "profiled 2 features" in p.stdout.decode() and "3000 rows" in p.stdout.decode()
    a = sd("watch", "-r", data["ref"], data["parts"], "-w", "900", "--format", "json")
    b = sd("watch", "-r", prof, data["parts"], "-w", "900", "--format", "json")
    assert a.stdout == b.stdout and a.returncode == b.returncode == 1


def test_parquet_on_stdin_is_spooled(data):
    r = sd("watch", "-r", data["ref"], "-w", "500", "--format", "json", input=data["paths"][1].read_bytes())
    assert r.returncode in (0, 1), r.stderr
    assert sum(x["current_count"] + x["missing_current"] for x in records(r.stdout) if x["feature"] == "age") == 900


def test_corrupt_file_in_a_directory_is_skipped_then_exit_2(data, tmp_path):
    folder = tmp_path / "d"
    folder.mkdir()
    for p in data["paths"]:
        (folder / p.name).write_bytes(p.read_bytes())
    (folder / "part-1b.parquet").write_bytes(b"PAR1" + b"\0" * 100)
    r = sd("watch", "-r", data["ref"], folder, "-w", "1000", "--format", "json")
    err = r.stderr.decode()
    assert r.returncode == 2
    assert f"error: cannot read '{folder / 'part-1b.parquet'}'" in err and "(skipped)" in err
    assert sum(x["current_count"] + x["missing_current"] for x in records(r.stdout) if x["feature"] == "age") == data["rows"]
    strict = sd("watch", "-r", data["ref"], folder, "-w", "1000", "--strict", "--format", "json")
    assert strict.returncode == 2
    assert strict.stderr.decode().count("error:") == 1 and "part-1b.parquet" in strict.stderr.decode()
    assert len(records(strict.stdout)) < len(records(r.stdout))


def test_missing_column_names_file_and_column(data, tmp_path):
    bad = tmp_path / "no-income.parquet"
    pq.write_table(pq.read_table(data["paths"][0]).drop(["income"]), bad)
    r = sd("watch", "-r", data["ref"], data["paths"][1], bad, "-w", "1000")
    assert r.returncode == 2
    assert f"column 'income' is missing from '{bad}'" in r.stderr.decode()
    typed = tmp_path / "text-age.parquet"
    pq.write_table(pa.table({"age": ["old"], "income": [1.0]}), typed)
    r = sd("watch", "-r", data["ref"], typed)
    assert r.returncode == 2 and f"column 'age' is double in reference '{data['ref']}' but string in '{typed}'; " \
        "both sides must be numbers or both categories (or leave it out with --columns) (skipped)" in r.stderr.decode()


def test_usage_errors_exit_2_with_one_line(data, tmp_path):
    for args, message in [
        (["watch", "-r", data["ref"], tmp_path / "nope.parquet"], "no such file"),
        (["watch", "-r", data["ref"], "--follow", data["paths"][0]], "--follow watches one directory"),
        (["watch", "-r", data["ref"], "-c", "zz", data["parts"]], "column 'zz' is not in reference"),
        (["watch", "-r", data["ref"], "-w", "0", data["parts"]], "0 is not in the range"),
        (["watch", data["parts"]], "Missing option '-r'"),
    ]:
        r = sd(*args)
        assert r.returncode == 2, (args, r.stderr)
        err = r.stderr.decode().strip()
        assert len(err.splitlines()) == 1 and err.startswith("error:") and message in err, err


def test_cat_schema_problems(data, tmp_path):
    bad = tmp_path / "no-income.parquet"
    pq.write_table(pq.read_table(data["paths"][0]).drop(["income"]), bad)
    r = sd("cat", data["paths"][0], bad, stdin=subprocess.DEVNULL)
    assert r.returncode == 2
    assert f"column 'income' is missing from '{bad}'" in r.stderr.decode()
    ints = tmp_path / "ints.parquet"
    pq.write_table(pa.table({"age": pa.array([1, 2], pa.int64()), "income": [1.0, 2.0], "name": ["a", "b"]}), ints)
    r = sd("cat", data["paths"][0], ints)
    assert r.returncode == 2
    err = r.stderr.decode().strip()
    assert err.startswith("error:") and len(err.splitlines()) == 1, err
    assert f"column 'age' in '{ints}' has type int64, but earlier data had double" in err
    assert pa.ipc.open_stream(r.stdout).read_all().num_rows == 700  # the first file, whole


def test_cat_takes_the_types_from_the_first_rows(tmp_path):
    empty = tmp_path / "a-empty.parquet"
    pq.write_table(pa.table({"x": pa.array([], pa.null())}), empty)
    full = tmp_path / "b.parquet"
    pq.write_table(pa.table({"x": [1.5, 2.5]}), full)
    r = sd("cat", empty, full, empty)
    assert r.returncode == 0, r.stderr
    table = pa.ipc.open_stream(r.stdout).read_all()
    assert table.schema.field("x").type == pa.float64() and table.column("x").to_pylist() == [1.5, 2.5]
    r = sd("cat", empty)
    assert r.returncode == 0 and pa.ipc.open_stream(r.stdout).read_all().num_rows == 0


def test_cat_into_a_reader_that_stops_early_is_quiet(tmp_path):
    big = tmp_path / "big.parquet"
    pq.write_table(pa.table({"x": np.random.default_rng(0).normal(0, 1, 1_000_000)}), big)
    cat = subprocess.Popen([*CMD, "cat", str(big)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    cat.stdout.read(100)
    cat.stdout.close()
    assert cat.wait(timeout=120) == 0
    assert cat.stderr.read() == b""


def test_broken_pipe_is_quiet(data):
    a = subprocess.Popen([*CMD, "watch", "-r", str(data["ref"]), str(data["parts"]), "-w", "3", "--format", "json"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    line = a.stdout.readline()
    a.stdout.close()
    err = a.stderr.read().decode()
    assert a.wait(timeout=120) in (0, 1)
    assert json.loads(line)["window"] == 0
    assert "Traceback" not in err and "error" not in err.lower()
    (rc_a, err_a), (rc_b, out, _) = pipe(["cat", *data["paths"]], ["watch", "-r", data["ref"], "-", "-w", "5"])
    assert b"Traceback" not in err_a


def test_watch_help_is_light():
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "streamdrift", "watch", "--help"],
                       capture_output=True, timeout=120, env=ENV)
    assert r.returncode == 0
    assert b"--window" in r.stdout and b"Memory:" in r.stdout
    modules = {line.split("|")[-1].strip() for line in r.stderr.decode().splitlines() if "|" in line}
    for heavy in ("pandas", "anthropic", "grader", "numba", "pyarrow", "streamdrift.watch", "streamdrift.profile"):
        assert heavy not in modules, heavy


def test_progress_line_only_on_a_terminal(data):
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen([*CMD, "watch", "-r", str(data["ref"]), str(data["parts"]), "-w", "1000",
                             "--batch-size", "100"], stdout=subprocess.PIPE, stderr=slave, env=ENV)
    os.close(slave)
    out, _ = proc.communicate(timeout=120)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    tty_err = b"".join(chunks).decode()
    assert "watched 3250 rows" in tty_err
    piped = sd("watch", "-r", data["ref"], data["parts"], "-w", "1000", "--batch-size", "100")
    assert "rows/s" not in piped.stderr.decode()
    assert out == piped.stdout


def test_demo_shows_quiet_windows_turning_into_drift(tmp_path):
    r = sd("demo", "--out", tmp_path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().splitlines()
    windows = [x for x in lines if x.startswith("window ")]
    assert len(windows) == 8
    assert all(x.endswith(": 0 of 3 features drifted") for x in windows[:4])
    assert all(x.endswith(": 2 of 3 features drifted") for x in windows[4:])
    assert len(list((tmp_path / "stream").glob("part-*.parquet"))) == 8


def test_profile_refuses_a_profile_and_errors_name_the_profile_file(data, tmp_path):
    prof = tmp_path / "ref.profile"
    assert sd("profile", data["ref"], "-o", prof).returncode == 0
    r = sd("profile", prof, "-o", tmp_path / "twice.profile")
    assert r.returncode == 2 and f"'{prof}' is already a saved profile" in r.stderr.decode()
    r = sd("watch", "-r", prof, "-c", "nosuch", data["paths"][0])
    assert r.returncode == 2 and f"column 'nosuch' is not in profile '{prof}'" in r.stderr.decode()
