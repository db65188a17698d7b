"""Batches of episodes (``run_batch``) against the real AsyncAnthropic client over a scripted Messages
API: logs, summaries, resume, concurrency, Ctrl-C, and the tokens every run spent."""

import asyncio
import os
import signal

import httpx2

from grader.agent.runner import BatchConfig, run_batch
from grader.agent.summary import format_summary
from grader.agent.runlog import RunLog
from tests.grader.agent.runs import batch, client_for
from tests.grader.runner_fixtures.fake_api import FakeAPI


SEQUENCE = ["correct", "wrong", "no_submit", "max_tokens", "refusal", "rate_limited", "server_error", "sys_exit"]


def test_a_sequential_batch_prints_logs_and_summarises_every_outcome(tmp_path):
    log = RunLog(tmp_path)
    api = FakeAPI(SEQUENCE)
    result, lines = batch(api, BatchConfig(runs=len(SEQUENCE), concurrency=1), log)
    assert api.errors == [] and api.started == SEQUENCE
    assert lines[0] == "✓ run 1: passed (score 1.00)"
    assert lines[1].startswith("✗ run 2: failed: ") and "reversed_direction" in lines[1]
    assert lines[2] == "✗ run 3: failed: no_submission (end_turn)"
    assert lines[4] == "✗ run 5: failed: no_submission (refusal)"
    assert lines[6].startswith("! run 7: api_error: 500 InternalServerError")
    assert [line[0] for line in lines] == ["✓", "✗", "✗", "✓", "✗", "✓", "!", "✓"]

    records = log.read()
    assert [r["run_id"] for r in records] == list(range(1, 9))
    assert [r["status"] for r in records] == ["passed", "failed", "failed", "passed", "failed", "passed", "api_error", "passed"]
    run1 = records[0]
    assert run1["model"] == "claude-haiku-5-5" and run1["seed"] == 0 and run1["grade"]["score"] == 1.0
    assert run1["messages"][2]["content"][0]["type"] == "tool_result"
    assert run1["usage"]["requests"] == [{"input_tokens": 1000, "output_tokens": 200}] * 2

    s = result.summary
    assert (s.passed, s.failed, s.api_errors, s.graded) == (4, 3, 1, 7)
    text = format_summary(s)
    assert "runs: 8  passed: 4  failed: 3  api errors: 1" in text
    assert "pass rate: 57.1% (4/7)" in text
    assert "no_submission 2" in text


def test_resume_skips_finished_runs_and_retries_api_errors(tmp_path):
    log = RunLog(tmp_path)
    batch(FakeAPI(["correct", "server_error", "wrong"]), BatchConfig(runs=3, concurrency=1), log)
    api = FakeAPI(["correct", "refusal"])
    result, lines = batch(api, BatchConfig(runs=4, concurrency=1), log)
    assert api.started == ["correct", "refusal"]
    assert [line.split(":")[0] for line in lines] == ["✓ run 2", "✗ run 4"]
    assert [r["run_id"] for r in log.read()] == [1, 2, 3, 2, 4]
    s = result.summary
    assert (s.runs, s.passed, s.failed, s.api_errors) == (4, 2, 2, 0)


def test_concurrent_runs_each_keep_their_own_conversation(tmp_path):
    mix = ["correct", "wrong", "no_submit", "refusal", "sys_exit", "correct"]
    log = RunLog(tmp_path)
    result, lines = batch(FakeAPI(mix), BatchConfig(runs=6, concurrency=3, exec_concurrency=2), log)
    assert len(lines) == 6
    expected = {"correct": "passed", "sys_exit": "passed", "wrong": "failed", "no_submit": "failed", "refusal": "failed"}
    for rec in log.read():
        marker = rec["messages"][1]["content"][0]["text"]
        name = marker.removeprefix("[scenario ").removesuffix("]")
        assert rec["status"] == expected[name], (name, rec["reasons"])
    assert result.summary.passed == 3


def test_an_authentication_error_stops_the_batch(tmp_path):
    log = RunLog(tmp_path)
    result, lines = batch(FakeAPI(["unauthorized"] * 3), BatchConfig(runs=3, concurrency=1), log)
    assert lines == ["! run 1: api_error: 401 AuthenticationError: invalid x-api-key"]
    assert result.stopped.startswith("the API answered 401")
    assert len(log.read()) == 1


def test_a_harness_error_in_one_run_is_recorded_and_the_batch_goes_on(tmp_path, monkeypatch):
    import grader.agent.episode

    real = grader.agent.episode._Attempt.grade
    calls = []

    async def flaky(self, seed, tolerance):
        calls.append(seed)
        if len(calls) == 1:
            raise RuntimeError("grader exploded")
        return await real(self, seed, tolerance)

    monkeypatch.setattr(grader.agent.episode._Attempt, "grade", flaky)
    log = RunLog(tmp_path)
    result, lines = batch(FakeAPI(["wrong", "correct"]), BatchConfig(runs=2, concurrency=1), log)
    assert lines == ["! run 1: harness error: RuntimeError: grader exploded", "✓ run 2: passed (score 1.00)"]
    assert "Traceback" in log.read()[0]["traceback"]
    assert (result.summary.errors, result.summary.graded) == (1, 1)


def test_ctrl_c_stops_new_runs_lets_those_in_flight_finish_and_resume_completes(tmp_path):
    log = RunLog(tmp_path)
    sent = []

    def interrupt_after_first(line):
        if not sent and line.startswith("✓"):
            sent.append(line)
            os.kill(os.getpid(), signal.SIGINT)

    api = FakeAPI(["slow"] * 8, delay_s=0.2)
    result, lines = batch(api, BatchConfig(runs=8, concurrency=2), log, on_line=interrupt_after_first)
    assert result.interrupted and result.cancelled == 0
    assert any(line.startswith("Interrupted: starting no new runs") for line in lines)
    finished = [r["run_id"] for r in log.read()]
    assert 2 <= len(finished) < 8 and len(api.started) == len(finished)
    assert all(r["status"] == "passed" for r in log.read())

    api2 = FakeAPI(["slow"] * 8)
    result2, _ = batch(api2, BatchConfig(runs=8, concurrency=2), log)
    assert len(api2.started) == 8 - len(finished)
    assert sorted(r["run_id"] for r in log.read()) == list(range(1, 9))
    assert result2.summary.passed == 8


def test_runs_still_in_flight_after_the_grace_period_are_cancelled_and_not_logged(tmp_path):
    log = RunLog(tmp_path)
    api = FakeAPI(["slow"] * 4, delay_s=30)

    async def go():
        async with client_for(api) as client:
            loop = asyncio.get_running_loop()
            loop.call_later(0.3, os.kill, os.getpid(), signal.SIGINT)
            return await run_batch(client, BatchConfig(runs=4, concurrency=2, grace_s=0.2), log, echo=lambda _: None)

    result = asyncio.run(go())
    assert result.interrupted and result.cancelled == 2
    assert log.read() == [] and result.records == []


def test_tokens_of_every_request_count_however_the_run_ended(tmp_path):
    log = RunLog(tmp_path)
    result, _ = batch(FakeAPI(["api_error_after_a_reply", "wrong"]), BatchConfig(runs=2, concurrency=1), log)
    first = log.read()[0]
    assert (first["status"], first["usage"]["input_tokens"]) == ("api_error", 1000)
    assert result.summary.input_tokens == 2000 and result.summary.output_tokens == 400
    result, _ = batch(FakeAPI(["correct"]), BatchConfig(runs=2, concurrency=1), log)  # resume reruns run 1
    s = result.summary
    assert (s.runs, s.passed, s.failed, s.api_errors) == (2, 1, 1, 0)
    assert s.input_tokens == 1000 + 1000 + 2000  # the api_error attempt's tokens are still counted
    from grader.agent.runlog import report

    assert report(tmp_path).input_tokens == s.input_tokens


def test_a_harness_error_keeps_the_tokens_spent(tmp_path, monkeypatch):
    import grader.agent.episode

    async def broken(self, seed, tolerance):
        raise RuntimeError("grader exploded")

    monkeypatch.setattr(grader.agent.episode._Attempt, "grade", broken)
    result, lines = batch(FakeAPI(["correct"]), BatchConfig(runs=1, concurrency=1), RunLog(tmp_path))
    assert lines == ["! run 1: harness error: RuntimeError: grader exploded"]
    assert result.summary.input_tokens == 2000 and result.summary.errors == 1


def test_a_run_cancelled_after_spending_tokens_is_logged_as_cancelled_and_rerun(tmp_path):
    log = RunLog(tmp_path)
    api = FakeAPI(["correct"])
    gate = asyncio.Event()
    real = api.handle_httpx_async

    async def second_request_hangs(request):
        if len(api.requests) >= 1:
            gate.set()
            await asyncio.Event().wait()  # never answers: cancelled by the second Ctrl-C
        return await real(request)

    async def go():
        http = httpx2.AsyncClient(transport=httpx2.MockTransport(second_request_hangs))
        async with anthropic.AsyncAnthropic(api_key="k", base_url="http://api.test", http_client=http,
                                            max_retries=0) as client:
            task = asyncio.create_task(run_batch(client, BatchConfig(runs=1, concurrency=1, grace_s=60), log,
                                                 echo=lambda _: None))
            await gate.wait()
            os.kill(os.getpid(), signal.SIGINT)
            await asyncio.sleep(0)
            os.kill(os.getpid(), signal.SIGINT)  # the second Ctrl-C: stop now
            return await task

    import anthropic

    result = asyncio.run(go())
    assert result.interrupted and result.cancelled == 1
    (rec,) = log.read()
    assert (rec["status"], rec["usage"]["input_tokens"]) == ("cancelled", 1000)
    s = result.summary
    assert (s.runs, s.cancelled, s.graded, s.input_tokens) == (1, 1, 0, 1000)
    result, _ = batch(FakeAPI(["correct"]), BatchConfig(runs=1, concurrency=1), log)
    assert result.summary.passed == 1 and result.summary.input_tokens == 3000
