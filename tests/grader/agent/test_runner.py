"""Episodes and batches against the real AsyncAnthropic client over a scripted Messages API.

The client is the SDK's own, on an httpx2 MockTransport (the transport anthropic 2.x is
built on); only the server is fake. Submissions are graded for real by ``grader.grade_code``
and ``python_expression`` runs in the real sandbox.
"""

import asyncio
import os
import signal

import httpx2
import pytest

import grader
from grader.agent.episode import run_episode
from grader.agent.runner import BatchConfig, run_batch
from grader.agent.summary import format_summary
from grader.agent.runlog import RunLog
from tests.grader.runner_fixtures.fake_api import CORRECT, REVERSED, FakeAPI


def client_for(api: FakeAPI, max_retries: int = 2):
    import anthropic

    http = httpx2.AsyncClient(transport=httpx2.MockTransport(api.handle_httpx_async))
    return anthropic.AsyncAnthropic(api_key="test-key", base_url="http://api.test", http_client=http, max_retries=max_retries)


def episode(scenario: str, max_retries: int = 2, **kwargs):
    api = FakeAPI([scenario])

    async def go():
        async with client_for(api, max_retries) as client:
            return await run_episode(client, **kwargs)

    ep = asyncio.run(go())
    assert api.errors == []
    return ep, api


def batch(api: FakeAPI, config: BatchConfig, log: RunLog, on_line=None):
    lines = []

    def echo(line):
        lines.append(line)
        if on_line:
            on_line(line)

    async def go():
        async with client_for(api, max_retries=1) as client:
            return await run_batch(client, config, log, echo=echo)

    return asyncio.run(go()), lines


def tool_results(ep):
    return [b for m in ep.messages if m["role"] == "user" and isinstance(m["content"], list) for b in m["content"]]


def test_run_episode_is_the_package_api():
    assert grader.run_episode is run_episode and grader.Episode.__name__ == "Episode"


def test_fixture_submissions_differ_only_in_direction():
    assert REVERSED != CORRECT and "np.log(q / p)" in REVERSED


def test_a_correct_tool_using_run_passes_and_records_the_whole_conversation():
    ep, api = episode("correct")
    assert (ep.status, ep.score, ep.reasons, ep.reward) == ("passed", 1.0, [], 1.0)
    assert ep.ended_by == "submit_answer" and ep.submission == CORRECT
    assert [m["role"] for m in ep.messages] == ["user", "assistant", "user", "assistant", "user"]
    ran, submitted = tool_results(ep)
    assert "stdout:\n4" in ran["content"] and not ran.get("is_error")
    assert submitted["content"].startswith("Submitted")
    assert ep.usage["input_tokens"] == 2000 and ep.usage["output_tokens"] == 400
    first = api.requests[0][1]
    assert [t["name"] for t in first["tools"]] == ["python_expression", "submit_answer"]
    assert "temperature" not in first and first["model"] == "claude-haiku-5-5"
    record = ep.to_record(run_id=1, seed=0)
    assert record["grade"]["passed"] is True and record["steps"] == 2


def test_a_reversed_direction_submission_fails_with_its_diagnosis():
    ep, _ = episode("wrong", temperature=0.5)
    assert ep.status == "failed" and ep.score < 1.0
    assert "reversed_direction" in ep.reasons


def test_the_tolerance_reaches_the_grading():
    ep, _ = episode("wrong", tolerance=100.0)
    assert (ep.status, ep.reasons) == ("passed", [])


def test_the_temperature_is_sent_only_when_given():
    _, api = episode("refusal", temperature=0.5)
    assert api.requests[0][1]["temperature"] == 0.5


def test_a_run_that_never_submits_is_no_submission_even_with_code_in_its_text():
    ep, _ = episode("no_submit")
    assert (ep.status, ep.reasons, ep.ended_by, ep.submission) == ("failed", ["no_submission"], "end_turn", None)


def test_max_tokens_tells_the_model_and_lets_it_continue():
    ep, api = episode("max_tokens")
    assert ep.status == "passed"
    nudge = api.requests[1][1]["messages"][-1]
    assert nudge["role"] == "user" and "cut off" in nudge["content"][-1]["text"]


def test_a_tool_call_cut_off_by_max_tokens_is_answered_but_not_run():
    ep, _ = episode("max_tokens")
    cut = tool_results(ep)[0]
    assert cut["tool_use_id"] == "toolu_m1" and cut["is_error"] and cut["content"].startswith("Not run")


def test_pause_turn_continues_with_a_user_turn():
    ep, api = episode("pause")
    assert ep.status == "passed" and len(api.requests) == 2


def test_max_steps_bounds_a_model_that_keeps_getting_cut_off():
    ep, api = episode("max_tokens", max_steps=1)
    assert (ep.reasons, ep.ended_by, len(api.requests)) == (["no_submission"], "max_steps", 1)


def test_a_refusal_ends_the_run_as_no_submission():
    ep, api = episode("refusal")
    assert (ep.status, ep.reasons, ep.ended_by) == ("failed", ["no_submission"], "refusal")
    assert len(api.requests) == 1


def test_429_is_retried_by_the_sdk_and_the_run_goes_on():
    ep, api = episode("rate_limited")
    assert ep.status == "passed"
    assert [retry for _, _, retry in api.requests] == [0, 1]


def test_500_until_retries_run_out_is_an_api_error_not_a_failure():
    ep, api = episode("server_error", max_retries=2)
    assert (ep.status, ep.reasons, ep.api_status) == ("api_error", ["api_error"], 500)
    assert ep.error.startswith("500 InternalServerError")
    assert len(api.requests) == 3


def test_an_unreachable_api_is_an_api_error_after_the_sdk_retries():
    import anthropic

    attempts = []

    def refuse(request):
        attempts.append(request.url.path)
        raise httpx2.ConnectError("connection refused", request=request)

    async def go():
        http = httpx2.AsyncClient(transport=httpx2.MockTransport(refuse))
        async with anthropic.AsyncAnthropic(api_key="k", base_url="http://api.test", http_client=http, max_retries=1) as c:
            return await run_episode(c)

    ep = asyncio.run(go())
    assert (ep.status, ep.api_status, len(attempts)) == ("api_error", None, 2)
    assert ep.error.startswith("APIConnectionError")


def test_sys_exit_inside_python_expression_ends_only_the_sandbox():
    ep, api = episode("sys_exit")
    ran = tool_results(ep)[0]
    assert ran["content"] == "stdout:\nbye\n" and not ran.get("is_error")
    assert ep.status == "passed" and len(api.requests) == 2


def test_tool_output_is_capped_and_keeps_the_error():
    ep, _ = episode("flood", tool_output_limit=1000)
    ran = tool_results(ep)[0]
    assert len(ran["content"]) <= 1000 and ran["is_error"]
    assert "(output truncated)" in ran["content"]
    assert ran["content"].endswith("error: ZeroDivisionError: division by zero")


def test_single_shot_grades_the_first_python_block():
    ep, api = episode("single_correct", mode="single-shot")
    assert (ep.status, ep.ended_by, ep.submission.strip()) == ("passed", "end_turn", CORRECT.strip())
    assert "tools" not in api.requests[0][1]


def test_single_shot_without_a_code_block_is_no_code():
    ep, _ = episode("single_no_code", mode="single-shot")
    assert (ep.status, ep.reasons) == ("failed", ["no_code"])


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


def test_a_submitted_answer_is_graded_as_written_even_with_a_fenced_example_in_a_docstring():
    from grader.agent.episode import _as_python

    code = 'def f():\n    """Use it:\n\n    ```python\n    f()\n    ```\n    """\n    return 1\n'
    assert _as_python(code) == code
    assert _as_python("Here it is:\n```python\nx = 1\n```\n") == "x = 1\n"


def test_a_tool_call_whose_input_is_not_an_object_is_answered_with_an_error():
    import grader.agent.episode as E

    attempt = E._Attempt(E.Episode(mode="agent", model="m"), None, 10, None, None, None, 1.0, 100)
    for bad in ("print(1)", ["x"], 5):
        result = asyncio.run(attempt.call_tool({"id": "t", "name": "python_expression", "input": bad}))
        assert result["is_error"] and "must be a JSON object" in result["content"]


@pytest.mark.parametrize("scenario", ["truncated_json", "null_content", "not_an_object", "no_usage"])
def test_a_malformed_200_is_an_api_error_after_the_sdk_retries(scenario):
    """Issue 9: these showed as `harness error: JSONDecodeError` and `TypeError: 'NoneType' ...`."""
    ep, api = episode(scenario, max_retries=1)
    assert (ep.status, ep.reasons, ep.score) == ("api_error", ["api_error"], 0.0)
    assert ep.error.startswith("MalformedResponse: the API answered 200 with ")
    assert [retry for _, _, retry in api.requests] == [0, 1]  # retried once, under the SDK's policy
    assert ep.to_record(run_id=1, seed=0)["status"] == "api_error"


def test_a_response_malformed_once_is_retried_and_the_run_goes_on():
    ep, api = episode("truncated_once", max_retries=1)
    assert (ep.status, ep.score) == ("passed", 1.0)
    assert [retry for _, _, retry in api.requests][:2] == [0, 1]


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
