"""Episodes against the real AsyncAnthropic client over a scripted Messages API.

The client is the SDK's own, on an httpx2 MockTransport (the transport anthropic 2.x is
built on); only the server is fake. Submissions are graded for real by ``grader.grade_code``
and ``python_expression`` runs in the real sandbox. Batches: test_batch.py.
"""

import asyncio

import httpx2
import pytest

import grader
from grader.agent.episode import run_episode
from tests.grader.agent.runs import episode, tool_results
from tests.grader.runner_fixtures.fake_api import CORRECT, REVERSED


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
