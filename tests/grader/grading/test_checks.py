"""The per-case checks on untrusted reports: printed lines, types, keys, tolerances."""

import math

import pytest

from grader.task.cases import make_cases
from grader.grading.checks import check_case, check_prints, decode_result
from grader.task.reference import expected_kls


def test_check_prints_strict_threshold_and_precision():
    got = {"a": 0.25, "b": 0.1, "c": 0.05}
    assert check_prints("Drifted: a (KL=0.2500)\n", got, 0.1) == ([], [])
    reasons, _ = check_prints("Drifted: a (KL=0.2500)\nDrifted: b (KL=0.1000)\n", got, 0.1)
    assert reasons == ["threshold_inclusive"]
    reasons, details = check_prints("Drifted: a (KL=0.2600)\n", got, 0.1)
    assert reasons == ["print_mismatch"] and "returned 0.25" in details[0]
    assert check_prints("", got, 0.1)[0] == ["print_mismatch"]  # a drifted column not printed
    assert check_prints("Drifted: a (KL=0.25)\nDrifted: a (KL=0.25)\n", got, 0.1)[0] == ["print_mismatch"]
    assert check_prints("Drifted: a (KL=0.25)\nDrifted: c (KL=0.05)\n", got, 0.1)[0] == ["print_mismatch"]


def _dict(*items):
    return {"kind": "dict", "type": "dict", "items": [[{"t": "str", "v": k}, v] for k, v in items]}


def test_decode_result_types():
    assert decode_result(_dict(("a", {"t": "float", "v": "0.5"}))) == (None, {"a": 0.5})
    assert decode_result(_dict(("a", {"t": "float", "v": "nan"})))[1]["a"] != 0.5
    assert decode_result(_dict(("a", {"t": "str", "v": "0.5"}))) == ("wrong_type", {"a": "<str>"})
    assert decode_result({"kind": "other", "type": "list"}) == ("wrong_type", "<list>")
    assert decode_result("garbage")[0] == "wrong_type"
    assert decode_result({"kind": "dict", "items": [[1, 2, 3]]})[0] == "wrong_type"


def _event(case, values, stdout=""):
    items = [(c, {"t": "float", "v": repr(float(v))}) for c, v in values.items()]
    return {"event": "case", "name": case.name, "error": None, "memory": False, "stdout": stdout,
            "result": _dict(*items)}


def test_check_case_verdicts():
    case = make_cases(0)[0]  # spec_example: age and income drift
    exp = expected_kls(case)
    good = "".join(f"Drifted: {c} (KL={v:.4f})\n" for c, v in exp.items() if v > 0.1)
    assert check_case(case, exp, _event(case, exp, good), 1e-6, timed_out=False, died=None).passed
    off = {**exp, "age": exp["age"] + 2e-6}
    r = check_case(case, exp, _event(case, off, good), 1e-6, timed_out=False, died=None)
    assert r.reasons == ["kl_mismatch"]
    assert check_case(case, exp, _event(case, off, good), 1e-5, timed_out=False, died=None).passed
    r = check_case(case, exp, _event(case, {"age": 1.0}, good), 1e-6, timed_out=False, died=None)
    assert r.reasons == ["wrong_keys"]
    r = check_case(case, exp, _event(case, {**exp, "height": math.inf}, good), 1e-6, timed_out=False, died=None)
    assert "non_finite" in r.reasons
    assert check_case(case, exp, None, 1e-6, timed_out=True, died=None).reasons == ["timeout"]
    assert check_case(case, exp, None, 1e-6, timed_out=False, died="x").reasons == ["crash"]
    mem = {"event": "case", "name": case.name, "error": "MemoryError", "memory": True}
    assert check_case(case, exp, mem, 1e-6, timed_out=False, died=None).reasons == ["memory_limit"]
