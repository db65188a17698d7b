"""Diagnosis: values computed the known wrong ways are named as those mistakes."""

import pytest

from grader.task.cases import make_cases
from grader.grading.diagnose import CORRECT, diagnose, variant_kls
from grader.task.reference import expected_kls

CASES = {c.name: c for c in make_cases(0)}


@pytest.mark.parametrize("change, case_name, codes", [
    ({"direction": "reversed"}, "spec_example", ["reversed_direction"]),
    ({"smoothing": "probabilities"}, "constant_columns", ["epsilon_on_probabilities"]),
    ({"smoothing": "none_raw"}, "bimodal_empty_bins", ["no_smoothing"]),
    ({"range": "per_sample"}, "spec_example", ["per_sample_range"]),
    ({"range": "reference_only"}, "spec_example", ["reference_range_only"]),
    ({"log": "2"}, "spec_example", ["wrong_log_base"]),
    ({"log": "10"}, "heavy_tails", ["wrong_log_base"]),
    ({"bins": 10}, "spec_example", ["wrong_bin_count"]),
    ({"bins": 21}, "many_columns", ["wrong_bin_count"]),
    ({"missing": "rows_dropped"}, "nans", ["nan_not_dropped"]),
    ({"missing": "filled_with_zero"}, "nans", ["nan_not_dropped"]),
    ({"direction": "reversed", "smoothing": "probabilities"}, "constant_columns",
     ["reversed_direction", "epsilon_on_probabilities"]),
])
def test_named_mistakes(change, case_name, codes):
    case = CASES[case_name]
    got = variant_kls(case, {**CORRECT, **change})
    named, details = diagnose(case, got, expected_kls(case), 1e-6)
    assert named == codes


def test_unexplained_values_get_no_name():
    case = CASES["spec_example"]
    assert diagnose(case, {c: 0.5 for c in case.columns}, expected_kls(case), 1e-6) == ([], [])


def test_correct_variant_is_the_reference():
    for case in CASES.values():
        got = variant_kls(case, CORRECT)
        exp = expected_kls(case)
        assert all(abs(got[c] - exp[c]) <= 1e-12 for c in case.columns), case.name


def test_each_variant_is_computed_once_per_case(monkeypatch):
    """The variants depend on the case only: a second submission with the same mistake is
    named from the cache (no histogram recomputed), with the same codes and details."""
    from grader.grading import diagnose as d

    case = CASES["spec_example"]
    got = variant_kls(case, {**CORRECT, "log": "2", "bins": 10})
    first = diagnose(case, got, expected_kls(case), 1e-6)
    calls = []
    monkeypatch.setattr(d, "_counts", lambda *a, **k: calls.append(a) or pytest.fail("recomputed"))
    assert diagnose(case, got, expected_kls(case), 1e-6) == first == (["wrong_log_base", "wrong_bin_count"],
                                                                      first[1])
    assert calls == []
