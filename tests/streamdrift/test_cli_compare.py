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
    nan_cur = cur.set_column(2, "height", pa.array(np.full(cur.num_rows, np.nan)))
    pq.write_table(nan_cur, d / "nan_height.parquet")
    (d / "notes.txt").write_text("not parquet\n")
    return d


def test_compare_prints_drifted_lines_and_exits_1(files):
    p = streamdrift("compare", files / "ref.parquet", files / "cur.parquet")
    assert p.returncode == 1, p.stderr
    assert p.stdout.decode() == "Drifted: age (KL=0.1858)\nDrifted: income (KL=0.3224)\n"
    assert p.stderr == b""


def test_no_drift_exits_0_silently(files):
    p = streamdrift("compare", files / "ref.parquet", files / "ref.parquet")
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
        (["{d}/named.parquet", "{d}/named.parquet", "-c", "name"],
         "error: column 'name' in reference '{d}/named.parquet' has type string, not a number; "
         "drift is computed for integer, float, boolean and decimal columns"),
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
    assert text.stderr.decode() == "warning: height: KL undefined: no finite values in current (all missing)\n"


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
    assert err == b""
    assert proc.returncode == 1


def test_pipe_into_head(files):
    p = subprocess.run(
        f"{sys.executable} -m streamdrift compare {files}/ref.parquet {files}/cur.parquet | head -1",
        shell=True, capture_output=True, timeout=120,
    )
    assert p.stdout == b"Drifted: age (KL=0.1858)\n"
    assert p.stderr == b""


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
    code = (
        "import sys; from streamdrift.cli import run; "
        f"run(['compare', r'{files}/ref.parquet', r'{files}/cur.parquet']); "
        "print(sorted(m for m in ('pandas', 'anthropic', 'grader') if m in sys.modules))"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
    assert p.stdout.decode().splitlines()[-1] == "[]"


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
