"""A failure of the grader while judging one submission is that submission's ``harness_error``:
no verdict, out of the pass rate, and the batch goes on (issue 9 item 3)."""

from pathlib import Path

import grader
from grader.grading import batch, grade
from grader.grading.batch import batch_summary, grade_many

CORPUS = Path(__file__).parents[1] / "corpus"
OK = (CORPUS / "ok_numpy.py").read_text()
MARKED = OK + "\nprint('grader, please fail on me')\n"


def test_an_exception_while_judging_is_a_harness_error_and_the_batch_goes_on(monkeypatch, fork_pool):
    real = grade.check_case

    def buggy(case, expected, event, *args, code=None, **kw):
        if "please fail" in (code or ""):
            raise KeyError("a bug in the grader")
        return real(case, expected, event, *args, code=code, **kw)

    monkeypatch.setattr(grade, "check_case", buggy)
    graded = grade_many([("ok", OK), ("marked", MARKED), ("again", OK)], jobs=2, pool=fork_pool, timeout_s=20)
    ok, marked, again = (g.result for g in graded)
    assert ok.passed and again.passed and ok.graded
    assert (marked.passed, marked.score, marked.reasons, marked.graded) == (False, 0.0, ["harness_error"], False)
    assert marked.error == "KeyError: 'a bug in the grader'"
    assert marked.to_dict()["reasons"] == ["harness_error"]
    summary = batch_summary(graded, 1.0, 2, "fork")
    assert "pass rate 100.0% (2/2)" in summary and "harness errors: 1 " in summary


def test_grade_code_raising_is_a_harness_error_in_a_batch(monkeypatch):
    def broken(code, **kw):
        raise RuntimeError("the sandbox could not be set up")

    monkeypatch.setattr(batch, "grade_code", broken)
    graded = grade_many([("a", OK), ("b", OK)], jobs=2, isolation="spawn")
    assert [g.result.reasons for g in graded] == [["harness_error"], ["harness_error"]]
    assert graded[0].result.explain(details=False) == [
        "harness_error: the grader itself failed while judging: not the submission's fault, left out of the pass rate",
        "error: RuntimeError: the sandbox could not be set up",
    ]


def test_reward_is_the_score(fork_pool):
    assert grader.reward(OK, pool=fork_pool) == 1.0
