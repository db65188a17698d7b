"""``streamdrift compare`` and ``demo`` in real subprocesses: output, exit codes, error texts."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from streamdrift.demo import example_tables
from tests.streamdrift.cli_helpers import modules_loaded


def streamdrift(*args, input=None, **kw):
    return subprocess.run(
        [sys.executable, "-m", "streamdrift", *map(str, args)],
        input=input, capture_output=True, timeout=120, **kw,
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    ref, cur = example_tables()
    pq.write_table(ref, d / "ref.parquet")
    pq.write_table(cur, d / "cur.parquet")
    pq.write_table(ref.append_column("name", pa.array(["x"] * ref.num_rows)), d / "named.parquet")
    pq.write_table(ref.drop_columns(["income"]), d / "no_income.parquet")
    pq.write_table(ref.slice(0, 0), d / "empty.parquet")
    nan_cur = cur.set_column(2, "height", pa.array(np.full(cur.num_rows, np.nan)))
    pq.write_table(nan_cur, d / "nan_height.parquet")
    (d / "notes.txt").write_text("not parquet\n")
    return d


def test_compare_prints_drifted_lines_and_exits_1(files):
    p = streamdrift("compare", files / "ref.parquet", files / "cur.parquet")
    assert p.returncode == 1, p.stderr
    assert p.stdout.decode() == "Drifted: age (KL=0.1858)\nDrifted: income (KL=0.3224)\n"
    assert p.stderr == b"checked 3 features: 3 numeric, 0 categorical; 2 drifted\n"


def test_no_drift_says_so_on_stderr_and_quiet_is_silent(files):
    p = streamdrift("compare", files / "ref.parquet", files / "ref.parquet")
    assert (p.returncode, p.stdout, p.stderr) == (0, b"", b"checked 3 features: 3 numeric, 0 categorical; 0 drifted\n")
    p = streamdrift("compare", files / "ref.parquet", files / "ref.parquet", "--quiet")
    assert (p.returncode, p.stdout, p.stderr) == (0, b"", b"")


def test_json_lines(files):
    p = streamdrift("compare", files / "ref.parquet", files / "cur.parquet", "--format", "json", "-t", "0.2")
    assert p.returncode == 1
    records = [json.loads(line) for line in p.stdout.decode().splitlines()]
    assert [r["feature"] for r in records] == ["age", "income", "height"]
    assert [r["drifted"] for r in records] == [False, True, False]
    assert records[0]["threshold"] == 0.2 and records[0]["reference_count"] == 2000
    assert abs(records[0]["kl"] - 0.18582326832174803) <= 1e-12


@pytest.mark.parametrize(
    "args, message",
    [
        (["nope.parquet", "{d}/cur.parquet"], "error: cannot read 'nope.parquet': no such file or directory"),
        (["{d}/notes.txt", "{d}/cur.parquet"],
         "error: '{d}/notes.txt' is not a Parquet or Arrow IPC file (it starts with b'not '); "
         "pass Parquet files, a directory of them, or an Arrow IPC stream"),
        (["{d}/ref.parquet", "{d}/cur.parquet", "--columns", "age,weight"],
         "error: column 'weight' is not in reference '{d}/ref.parquet'; its columns are: age, income, height"),
        (["{d}/named.parquet", "{d}/named.parquet", "--categorical", "age"],
         "error: column 'age' in reference '{d}/named.parquet' has type double, which cannot be categorical; "
         "only integer, string and dictionary columns can be named in --categorical"),
        (["{d}/named.parquet", "{d}/named.parquet", "-c", ""],
         "error: --columns names no column; give column names separated by commas, or leave it out "
         "(see 'streamdrift compare --help')"),
        (["{d}/ref.parquet", "{d}/empty.parquet"],
         "error: current '{d}/empty.parquet' has no rows; drift needs at least one row on each side"),
        (["{d}/ref.parquet", "{d}/no_income.parquet"],
         "error: numeric column 'income' is in reference '{d}/ref.parquet' but not in current "
         "'{d}/no_income.parquet'; name the columns to compare with --columns"),
        (["{d}/ref.parquet", "{d}/cur.parquet", "--bins", "0"],
         "error: Invalid value for '--bins': 0 is not in the range x>=1. (see 'streamdrift compare --help')"),
        (["{d}/ref.parquet"], "error: Missing argument 'CURRENT'. (see 'streamdrift compare --help')"),
        (["-", "-"], "error: only one of REFERENCE and CURRENT can be '-' (standard input) (see 'streamdrift compare --help')"),
    ],
)
def test_errors_are_one_line_and_exit_2(files, args, message):
    p = streamdrift("compare", *[a.format(d=files) for a in args], input=b"")
    assert p.returncode == 2
    assert p.stdout == b""
    assert p.stderr.decode() == message.format(d=files) + "\n"


def test_debug_shows_the_traceback(files):
    p = streamdrift("compare", "nope.parquet", files / "cur.parquet", "--debug")
    assert p.returncode == 2
    assert "Traceback (most recent call last)" in p.stderr.decode()
    assert p.stderr.decode().rstrip().endswith("error: cannot read 'nope.parquet': no such file or directory")


def test_all_nan_column_is_null_with_reason(files):
    p = streamdrift("compare", files / "ref.parquet", files / "nan_height.parquet", "--format", "json")
    height = json.loads(p.stdout.decode().splitlines()[2])
    assert height["kl"] is None and height["drifted"] is False
    assert height["reason"] == "no finite values in current (all missing)"
    assert height["missing_current"] == 2000
    text = streamdrift("compare", files / "ref.parquet", files / "nan_height.parquet")
    assert text.returncode == 1
    assert text.stderr.decode() == ("warning: height: KL undefined: no finite values in current (all missing)\n"
                                    "checked 3 features: 3 numeric, 0 categorical; 2 drifted, 1 undefined\n")


@pytest.mark.parametrize("fmt", ["parquet", "arrow-stream"])
def test_current_from_stdin(files, fmt):
    if fmt == "parquet":
        data = (files / "cur.parquet").read_bytes()
    else:
        table = pq.read_table(files / "cur.parquet")
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as w:
            for b in table.to_batches(max_chunksize=128):
                w.write_batch(b)
        data = sink.getvalue().to_pybytes()
    p = streamdrift("compare", files / "ref.parquet", "-", input=data)
    assert p.returncode == 1, p.stderr
    assert p.stdout.decode() == "Drifted: age (KL=0.1858)\nDrifted: income (KL=0.3224)\n"


def test_empty_stdin_is_an_error(files):
    p = streamdrift("compare", files / "ref.parquet", "-", input=b"")
    assert p.returncode == 2
    assert p.stderr.decode() == (
        "error: current '-': standard input is empty; pipe Parquet or an Arrow IPC stream into it\n"
    )


def test_closed_stdout_is_quiet(files):
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamdrift", "compare", files / "ref.parquet", files / "cur.parquet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    assert err == b"checked 3 features: 3 numeric, 0 categorical; 2 drifted\n"
    assert proc.returncode == 1


def test_pipe_into_head(files):
    p = subprocess.run(
        f"{sys.executable} -m streamdrift compare {files}/ref.parquet {files}/cur.parquet | head -1",
        shell=True, capture_output=True, timeout=120,
    )
    assert p.stdout == b"Drifted: age (KL=0.1858)\n"
    assert p.stderr == b"checked 3 features: 3 numeric, 0 categorical; 2 drifted\n"


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupt_while_waiting_for_stdin(files, sig, code):
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamdrift", "compare", files / "ref.parquet", "-"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    proc.stdin.write(b"PAR1")
    proc.stdin.flush()
    time.sleep(1.5)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code
    assert b"Traceback" not in err


def test_demo_runs_the_main_job(tmp_path):
    p = streamdrift("demo", "--out", tmp_path / "demo")
    assert p.returncode == 0, p.stderr
    out = p.stdout.decode()
    assert "Drifted: age (KL=0.1858)\nDrifted: income (KL=0.3224)\n" in out
    assert (tmp_path / "demo" / "reference.parquet").exists()


def test_version_and_help():
    assert streamdrift("--version").stdout.decode().startswith("streamdrift, version ")
    help_text = streamdrift("compare", "--help")
    assert help_text.returncode == 0 and b"Exit status: 0 no feature drifted" in help_text.stdout


def test_no_command_prints_the_whole_help():
    p = streamdrift()
    err = p.stderr.decode()
    assert p.returncode == 2 and p.stdout == b""
    assert err.startswith("Usage: streamdrift [OPTIONS] COMMAND") and "Commands:" in err and "watch" in err


def test_unknown_command_is_one_line():
    p = streamdrift("comapre")
    assert p.returncode == 2
    assert p.stderr.decode().count("\n") == 1 and p.stderr.decode().startswith("error: No such command 'comapre'")


def test_no_pandas_or_anthropic_on_the_cli_path(files):
    args = ["compare", files / "ref.parquet", files / "cur.parquet"]
    assert modules_loaded(args, ("pandas", "anthropic", "grader")) == []


@pytest.mark.parametrize("data", [b"not parquet at all" * 100, b"PAR1" + b"x" * 5000])
def test_bad_standard_input_is_named_so_and_its_copy_removed(files, tmp_path, data):
    spool = tmp_path / "spool"
    spool.mkdir()
    p = streamdrift("compare", files / "ref.parquet", "-", input=data, env={**os.environ, "TMPDIR": str(spool)})
    err = p.stderr.decode()
    assert p.returncode == 2 and "standard input" in err and "stdin'" not in err and str(spool) not in err, err
    assert list(spool.iterdir()) == []


def test_more_part_files_than_open_file_descriptors(tmp_path):
    import resource

    parts = tmp_path / "parts"
    parts.mkdir()
    for i in range(300):
        pq.write_table(pa.table({"a": [float(i), i + 0.5]}), parts / f"part-{i:05d}.parquet")
    pq.write_table(pa.table({"a": [1.0, 2.0]}), tmp_path / "ref.parquet")

    def limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (200, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))

    p = streamdrift("compare", tmp_path / "ref.parquet", parts, "--format", "json", preexec_fn=limit)
    assert p.returncode == 1, p.stderr
    assert json.loads(p.stdout)["current_count"] == 600


@pytest.fixture(scope="module")
def flights(tmp_path_factory):
    """A small flights-like table: numbers, strings, a dictionary column and a timestamp."""
    import datetime

    d = tmp_path_factory.mktemp("flights")
    hours = [datetime.datetime(2013, 1, 1, h % 24) for h in range(40)]
    ref = pa.table({"dep_delay": np.arange(40.0), "carrier": ["UA", "AA", "B6", "DL"] * 10,
                    "origin": pa.array(["EWR", "JFK"] * 20).dictionary_encode(), "time_hour": hours})
    cur = pa.table({"dep_delay": np.arange(40.0), "carrier": ["UA", "UA", "WN", "DL"] * 10,
                    "origin": pa.array(["EWR", "JFK"] * 20).dictionary_encode(), "time_hour": hours})
    pq.write_table(ref, d / "jan.parquet")
    pq.write_table(cur, d / "jul.parquet")
    return d


def test_categorical_features_and_skipped_columns_in_text(flights):
    p = streamdrift("compare", flights / "jan.parquet", flights / "jul.parquet")
    assert p.returncode == 1
    assert p.stdout.decode().startswith("Drifted: carrier (KL=")
    assert p.stderr.decode() == (
        "skipped 1 column that is neither a number nor a category: time_hour (timestamp[us]); "
        "name it with --columns to bin it as numbers\n"
        "checked 3 features: 1 numeric, 2 categorical; 1 drifted; 1 column skipped\n"
    )
    quiet = streamdrift("compare", flights / "jan.parquet", flights / "jul.parquet", "-q")
    assert quiet.stderr.decode().startswith("skipped 1 column") and "checked" not in quiet.stderr.decode()


def test_categorical_and_skipped_records_in_json(flights):
    p = streamdrift("compare", flights / "jan.parquet", flights / "jul.parquet", "--format", "json")
    records = {r["feature"]: r for r in map(json.loads, p.stdout.decode().splitlines())}
    assert [r["kind"] for r in records.values()] == ["numeric", "categorical", "categorical", "skipped"]
    carrier = records["carrier"]
    assert (carrier["categories"], carrier["new_categories"], carrier["new_category_examples"]) == (5, 1, ["WN"])
    assert carrier["drifted"] and carrier["kl"] > 10 and {"psi", "js", "kl_reversed"} <= set(carrier)
    assert records["time_hour"] == {
        "feature": "time_hour", "kind": "skipped", "kl": None, "drifted": False, "type": "timestamp[us]",
        "reason": "neither a number nor a category; name it with --columns to bin it on its integer values"}
    assert p.stderr == b""


def test_a_time_named_with_columns_is_binned_on_its_integers(flights):
    p = streamdrift("compare", flights / "jan.parquet", flights / "jul.parquet", "-c", "time_hour", "--format", "json")
    record = json.loads(p.stdout)
    assert (p.returncode, record["kind"], record["kl"]) == (0, "numeric", 0.0)


def test_too_many_categories_names_the_flag(flights):
    p = streamdrift("compare", flights / "jan.parquet", flights / "jul.parquet", "--max-categories", "3", "-q")
    assert "warning: carrier: KL undefined: more than 3 distinct categories (the cap); raise --max-categories " \
           "to compare it\n" in p.stderr.decode()


def test_help_explains_the_statistic():
    p = streamdrift("compare", "--help")
    text = p.stdout.decode()
    assert "(SPEC)" not in text and "docs/statistic.md" in text and "--categorical" in text
