"""``streamdrift-grader run`` and ``report`` as a user runs them: a real subprocess whose
SDK reaches a scripted Messages API on 127.0.0.1 through ANTHROPIC_BASE_URL."""

import json
import os
import signal
import subprocess
import sys

import pytest
from grader.cli import main
from tests.grader.runner_fixtures.fake_api import FakeAPI


def cli_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    env.update(NO_PROXY="127.0.0.1,localhost", PYTHONIOENCODING="utf-8", **extra)
    return env


ENTRY = [sys.executable, "-c", "from grader.cli import main; main()"]


def in_process(args, capsys) -> tuple[int, str]:
    """Run ``main`` here, as the console script does: its exit code and everything it printed."""
    with pytest.raises(SystemExit) as exit_:
        main(args)
    out, err = capsys.readouterr()
    return exit_.value.code, out + err


def grader_cli(*args, cwd, **env_extra):
    return subprocess.run([*ENTRY, *args], env=cli_env(**env_extra), cwd=cwd, capture_output=True, text=True, timeout=600)


@pytest.fixture
def server():
    servers = []

    def start(scenarios, delay_s=0.0):
        api = FakeAPI(scenarios, delay_s=delay_s)
        srv, url = api.serve()
        servers.append(srv)
        return api, url

    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()


@pytest.mark.parametrize("key", [None, "  "])
def test_a_missing_api_key_exits_2_with_one_line_before_any_work(tmp_path, key):
    env = {} if key is None else {"ANTHROPIC_API_KEY": key}
    proc = grader_cli("run", "--log-dir", "out", cwd=tmp_path, **env)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == ["error: ANTHROPIC_API_KEY is not set; export your Anthropic API key and run again"]
    assert list(tmp_path.iterdir()) == []


def test_run_report_and_resume_through_the_command_line(tmp_path, server):
    api, url = server(["correct", "wrong", "server_error"])
    logdir = tmp_path / "batch"
    proc = grader_cli(
        "run", "--runs", "3", "--sequential", "--max-retries", "1", "--log-dir", str(logdir),
        cwd=tmp_path, ANTHROPIC_API_KEY="test-key", ANTHROPIC_BASE_URL=url,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.splitlines()
    assert out[0] == f"3 agent runs of claude-haiku-5-5, 1 at a time; log: {logdir / 'runs.jsonl'}"
    assert out[1] == "✓ run 1: passed (score 1.00)"
    assert out[2].startswith("✗ run 2: failed:") and "reversed_direction" in out[2]
    assert out[3].startswith("! run 3: api_error: 500 InternalServerError")
    summary = proc.stdout.split("\n\n", 1)[1]
    assert "runs: 3  passed: 1  failed: 1  api errors: 1" in summary
    assert "pass rate: 50.0% (1/2), 95% CI 9.5%-90.5% (api/harness errors excluded)" in summary
    assert "tokens: 3,000 in, 600 out" in summary
    assert "estimated cost (claude-haiku-5-5): $0.0006" in summary
    assert api.errors == []
    records = [json.loads(line) for line in (logdir / "runs.jsonl").read_text().splitlines()]
    assert [(r["run_id"], r["status"]) for r in records] == [(1, "passed"), (2, "failed"), (3, "api_error")]

    again = grader_cli("report", str(logdir), cwd=tmp_path)
    assert again.returncode == 0 and again.stdout == summary
    as_json = json.loads(grader_cli("report", str(logdir), "--format", "json", cwd=tmp_path).stdout)
    assert (as_json["passed"], as_json["graded"], as_json["api_errors"]) == (1, 2, 1)
    assert as_json["pass_at_k"] == {"1": 0.5, "2": 1.0}

    refused = grader_cli("run", "--log-dir", str(logdir), cwd=tmp_path, ANTHROPIC_API_KEY="k", ANTHROPIC_BASE_URL=url)
    assert refused.returncode == 2 and len(refused.stderr.splitlines()) == 1
    assert "already holds 3 runs; pass --resume" in refused.stderr

    api2, url2 = server(["refusal", "no_submit"])
    resumed = grader_cli(
        "run", "--runs", "4", "--sequential", "--log-dir", str(logdir), "--resume",
        cwd=tmp_path, ANTHROPIC_API_KEY="test-key", ANTHROPIC_BASE_URL=url2,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert api2.started == ["refusal", "no_submit"]
    assert resumed.stdout.splitlines()[1] == "resuming: 2 of 4 runs already graded"
    assert resumed.stdout.splitlines()[2:4] == [
        "✗ run 3: failed: no_submission (refusal)",
        "✗ run 4: failed: no_submission (end_turn)",
    ]
    assert "runs: 4  passed: 1  failed: 3  api errors: 0" in resumed.stdout


def test_ctrl_c_prints_the_summary_of_the_finished_runs_and_exits_130(tmp_path, server):
    api, url = server(["refusal"] * 8, delay_s=0.3)
    logdir = tmp_path / "batch"
    proc = subprocess.Popen(
        [*ENTRY, "run", "--runs", "8", "--concurrency", "2", "--log-dir", str(logdir)],
        env=cli_env(ANTHROPIC_API_KEY="test-key", ANTHROPIC_BASE_URL=url),
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    seen = [proc.stdout.readline(), proc.stdout.readline()]
    assert seen[1].startswith("✗ run "), seen
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    logged = len((logdir / "runs.jsonl").read_text().splitlines())
    assert 1 <= logged < 8 and len(api.started) == logged
    assert "Interrupted: starting no new runs" in out
    assert f"runs: {logged}  passed: 0  failed: {logged}" in out


def test_a_batch_stopped_by_an_authentication_error_exits_1(tmp_path, monkeypatch, server, capsys):
    api, url = server(["unauthorized"] * 3)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "bad-key")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", url)
    code, output = in_process(["run", "--runs", "3", "--sequential", "--log-dir", "b"], capsys)
    assert code == 1
    assert "! run 1: api_error: 401 AuthenticationError: invalid x-api-key" in output
    assert "Stopped: the API answered 401 (authentication failed); no further runs were started" in output
    assert "pass rate: n/a (no run was graded)" in output
    assert api.started == ["unauthorized"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "--sequential", "--concurrency", "3"], "--sequential and --concurrency 3 contradict each other"),
        (["run", "--resume"], "--resume needs the --log-dir of the batch to continue"),
        (["run", "--log-dir", "x", "--resume", "--mode", "single-shot"], None),
        (["report", "nowhere"], "no run log at nowhere/runs.jsonl"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(tmp_path, monkeypatch, args, message, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "k")
    if message is None:
        (tmp_path / "x").mkdir()
        (tmp_path / "x" / "runs.jsonl").write_text(json.dumps({"run_id": 1, "model": "claude-haiku-5-5", "mode": "agent"}) + "\n")
        message = "resume with the same --model and --mode"
    code, output = in_process(args, capsys)
    assert code == 2
    assert len(output.strip().splitlines()) == 1 and message in output


@pytest.fixture
def silent_server():
    """A server on 127.0.0.1 that accepts connections and never answers (a hung API)."""
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


def test_api_timeout_ends_a_hung_connection(tmp_path, silent_server):
    """Issue 9: a hung connection took 600 s per try; --api-timeout bounds each try."""
    proc = grader_cli("run", "--runs", "1", "--max-retries", "1", "--api-timeout", "0.5", "--log-dir", "b",
                      cwd=tmp_path, ANTHROPIC_API_KEY="test-key", ANTHROPIC_BASE_URL=silent_server)
    assert proc.returncode == 1, proc.stderr  # no run could be graded: the API failed
    assert "! run 1: api_error: APITimeoutError: Request timed out" in proc.stdout
    (record,) = map(json.loads, (tmp_path / "b" / "runs.jsonl").read_text().splitlines())
    assert record["status"] == "api_error"


def test_api_timeout_must_be_a_positive_finite_number(tmp_path):
    for value in ("0", "nan", "-1"):
        proc = grader_cli("run", "--api-timeout", value, cwd=tmp_path, ANTHROPIC_API_KEY="k")
        assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1 and "--api-timeout" in proc.stderr
