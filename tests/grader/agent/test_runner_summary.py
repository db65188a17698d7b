"""Batch statistics and the run log, without any model or sandbox."""

import json
import math
from itertools import combinations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grader.agent.summary import format_summary, pass_at_k, price_for, request_cost, summarize, wilson_interval
from grader.agent.runlog import LogError, RunLog, check_resumable, finished_ids, latest_by_run, report


def rec(run_id, status, score=0.0, reasons=(), model="claude-haiku-5-5", usage=None):
    return {
        "run_id": run_id,
        "status": status,
        "score": score,
        "reasons": list(reasons),
        "model": model,
        "mode": "agent",
        "usage": usage or {"input_tokens": 100, "output_tokens": 10, "requests": [{"input_tokens": 100, "output_tokens": 10}]},
    }


@given(st.integers(1, 12).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n))))
def test_pass_at_k_is_the_probability_that_a_k_subset_holds_a_pass(nck):
    n, c, k = nck
    outcomes = [True] * c + [False] * (n - c)
    subsets = list(combinations(range(n), k))
    brute = sum(any(outcomes[i] for i in s) for s in subsets) / len(subsets)
    assert pass_at_k(n, c, k) == pytest.approx(brute, abs=1e-12)


def test_pass_at_k_edges():
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert pass_at_k(10, 0, 10) == 0.0
    assert pass_at_k(10, 1, 10) == 1.0
    with pytest.raises(ValueError):
        pass_at_k(3, 1, 4)


def test_wilson_interval_matches_the_closed_form_and_stays_in_bounds():
    low, high = wilson_interval(8, 10)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)
    assert wilson_interval(0, 5)[0] == 0.0 and wilson_interval(5, 5)[1] == 1.0
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_haiku_5_5_is_priced_per_request_with_a_long_prompt_tier():
    price = price_for("claude-haiku-5-5")
    assert request_cost(price, {"input_tokens": 1_000_000, "output_tokens": 0}) == pytest.approx(0.50)
    assert request_cost(price, {"input_tokens": 100_000, "output_tokens": 1_000_000}) == pytest.approx(0.01 + 0.50)
    assert price_for("claude-haiku-4-5-20251001") is price_for("claude-haiku-4-5")
    assert price_for("claude-sonnet-5-5") is not price_for("claude-sonnet-5")
    assert price_for("my-proxy-model") is None


def test_summary_leaves_api_errors_out_of_the_rates_but_counts_their_tokens():
    records = [
        rec(1, "passed", 1.0),
        rec(2, "failed", 0.5, ["reversed_direction"]),
        rec(3, "failed", 0.0, ["no_submission"]),
        rec(4, "api_error"),
        rec(5, "passed", 1.0),
    ]
    s = summarize(records)
    assert (s.runs, s.passed, s.failed, s.api_errors, s.graded) == (5, 2, 2, 1, 4)
    assert s.pass_rate == 0.5
    assert s.mean_score == pytest.approx(2.5 / 4)
    assert s.pass_at[1] == pytest.approx(0.5) and s.pass_at[4] == 1.0 and len(s.pass_at) == 4
    assert s.reasons == {"reversed_direction": 1, "no_submission": 1}
    assert (s.input_tokens, s.output_tokens) == (500, 50)
    assert s.cost_usd == pytest.approx(5 * (100 * 0.10 + 10 * 0.50) / 1e6)
    text = format_summary(s)
    assert "runs: 5  passed: 2  failed: 2  api errors: 1" in text
    assert "pass rate: 50.0% (2/4), 95% CI 15.0%-85.0% (api/harness errors excluded)" in text
    assert "pass@k: @1 0.500  @2 0.833  @3 1.000  @4 1.000" in text
    assert "reasons: reversed_direction 1, no_submission 1" in text
    assert "tokens: 500 in, 50 out" in text
    json.dumps(s.to_dict())


def test_summary_of_only_api_errors_has_no_rate_and_unknown_models_no_cost():
    s = summarize([rec(1, "api_error", model="my-proxy-model")])
    assert s.pass_rate is None and s.cost_usd is None
    text = format_summary(s)
    assert "pass rate: n/a (no run was graded)" in text
    assert "estimated cost (my-proxy-model): unknown" in text


def test_long_batches_print_a_short_pass_at_k_ladder():
    s = summarize([rec(i, "passed" if i % 3 else "failed", reasons=["kl_mismatch"]) for i in range(1, 501)])
    line = next(l for l in format_summary(s).splitlines() if l.startswith("pass@k"))
    assert [int(tok[1:]) for tok in line.split()[1::2]] == [1, 2, 3, 4, 5, 10, 20, 50, 100, 200, 500]
    assert len(s.pass_at) == 500 and math.isclose(s.pass_at[1], 334 / 500)


def test_log_round_trip_resume_set_and_torn_last_line(tmp_path):
    log = RunLog(tmp_path / "batch")
    log.append(rec(1, "passed", 1.0))
    log.append(rec(2, "api_error"))
    log.append(rec(3, "failed", reasons=["no_code"]))
    log.append(rec(2, "passed", 1.0) | {"note": "ü"})
    with open(log.path, "a") as fh:
        fh.write('{"run_id": 4, "sta')
    records = log.read()
    assert [r["run_id"] for r in records] == [1, 2, 3, 2]
    assert latest_by_run(records)[2]["note"] == "ü"
    assert finished_ids(records) == {1, 2, 3}
    assert finished_ids(records[:3]) == {1, 3}
    assert "runs: 3  passed: 2  failed: 1  api errors: 0" in format_summary(report(tmp_path / "batch"))


def test_log_errors_name_the_problem(tmp_path):
    log = RunLog(tmp_path)
    log.path.write_text('not json\n{"run_id": 1}\n')
    with pytest.raises(LogError, match=r"runs.jsonl:1 is not valid JSON"):
        log.read()
    with pytest.raises(LogError, match="no run log at"):
        report(tmp_path / "missing")
    with pytest.raises(LogError, match="not single-shot runs of claude-haiku-5-5"):
        check_resumable([rec(1, "passed")], model="claude-haiku-5-5", mode="single-shot")


def test_a_resume_must_grade_as_the_batch_did():
    logged = [{**rec(1, "passed"), "seed": 3, "params": {"tolerance": 1e-6}}]
    check_resumable(logged, model="claude-haiku-5-5", mode="agent", seed=3, tolerance=1e-6)
    with pytest.raises(LogError, match="graded with --seed 3, not 4; resume with --seed 3"):
        check_resumable(logged, model="claude-haiku-5-5", mode="agent", seed=4, tolerance=1e-6)
    with pytest.raises(LogError, match="graded with --tolerance 1e-06, not 0.001"):
        check_resumable(logged, model="claude-haiku-5-5", mode="agent", seed=3, tolerance=1e-3)
    check_resumable([rec(1, "passed")], model="claude-haiku-5-5", mode="agent", seed=4, tolerance=1e-3)  # older logs


def test_the_log_survives_unicode_line_separators_and_a_torn_last_line(tmp_path):
    log = RunLog(tmp_path)
    log.append({**rec(1, "passed"), "text": "a\u2028b\u2029c\x85d"})
    log.path.write_bytes(log.path.read_bytes() + b'{"run_id": 2, "sta')  # a crash mid-write
    assert [r["run_id"] for r in log.read()] == [1]
    log.append(rec(2, "failed"))
    records = log.read()
    assert [r["run_id"] for r in records] == [1, 2] and records[0]["text"] == "a\u2028b\u2029c\x85d"
    assert log.path.read_bytes().count(b"\n") == 2
