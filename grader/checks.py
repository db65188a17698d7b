"""The checks of one case: what the sandboxed child reported against the expected values.

The child's report is untrusted plain JSON (``grader.sandbox.harness.encode_result``): every
field is type-checked here before use; nothing it sends is evaluated or unpickled.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from grader.cases import Case

# The reason codes, stable: the JSON results name them, the text output explains them.
REASONS: dict[str, str] = {
    "no_code": "no code to grade (no ```python block in the response, or an empty file)",
    "syntax_error": "the code does not compile",
    "exec_error": "running the code's top level raised an exception",
    "no_function": "the code does not define a callable detect_drift",
    "crash": "detect_drift raised an exception, or the process died",
    "timeout": "the run exceeded its time limit and was killed",
    "memory_limit": "the run exceeded its memory limit",
    "wrong_type": "detect_drift did not return a dict of column name -> float",
    "wrong_keys": "the returned dict does not have exactly the numeric columns as keys",
    "non_finite": "a returned KL is nan or infinite",
    "kl_mismatch": "a returned KL differs from the reference by more than the tolerance",
    "print_mismatch": "the printed 'Drifted: <column> (KL=<value>)' lines do not match the returned values "
                      "and the threshold, or are not in the DataFrame's column order",
    "modified_input": "detect_drift changed the values or columns of the DataFrames it was given",
    "threshold_inclusive": "uses KL >= threshold; the task asks for a strict KL > threshold",
    "reversed_direction": "computes KL(new || old); the task asks for KL(old || new)",
    "epsilon_on_probabilities": "adds epsilon to the probabilities; the task adds 1e-10 to each bin's count "
                                "before normalising",
    "per_sample_range": "bins each sample on its own min..max; the task bins both on their combined range",
    "reference_range_only": "bins on the old data's range only; the task uses the combined min..max of both",
    "wrong_log_base": "uses log base 2 or 10; the task uses the natural log",
    "wrong_bin_count": "uses a bin count other than 20 (edges numpy.linspace(lo, hi, 21))",
    "no_smoothing": "does not add epsilon: empty bins give inf/nan or are dropped",
    "nan_not_dropped": "does not drop NaN/inf per column on each side independently",
}

RUN_REASONS: dict[str, str] = {
    "no_submission": "an agent run ended without calling submit_answer (graded as a failure)",
    "api_error": "the Messages API failed after the SDK's retries: not the model's fault, "
                 "left out of the pass rate",
}
"""Codes of a whole agent run (``streamdrift-grader run``), beside the verdict's REASONS."""

_DRIFTED = re.compile(r"^\s*Drifted:\s*(?P<col>.*?)\s*\(\s*KL\s*[=:]\s*(?P<val>[^()]*?(?:\([^()]*\))?)\s*\)\s*$")
_WRAPPED = re.compile(r"^(?:np\.|numpy\.)?float(?:64|32)?\((?P<v>[^()]*)\)$")


@dataclass
class CaseResult:
    name: str
    passed: bool
    reasons: list[str]
    expected: dict
    got: object
    details: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"name": self.name, "passed": self.passed, "reasons": list(self.reasons),
                "expected": dict(self.expected), "got": self.got}


def _json_float(x: float):
    """A float for JSON output: non-finite values as strings so the output stays valid JSON."""
    return x if math.isfinite(x) else repr(x)


def decode_result(result) -> tuple[str | None, dict | str]:
    """``(problem, got)``: the returned dict as ``{column: float}`` or why it is not one.

    ``got`` keeps non-numeric values as ``"<type name>"`` strings for the report.
    """
    if not isinstance(result, dict) or result.get("kind") != "dict" or not isinstance(result.get("items"), list):
        name = result.get("type") if isinstance(result, dict) else None
        return "wrong_type", f"<{name if isinstance(name, str) else '?'}>"
    got: dict = {}
    problem = None
    for item in result["items"]:
        if not (isinstance(item, list) and len(item) == 2 and all(isinstance(x, dict) for x in item)):
            return "wrong_type", "<malformed>"
        key, value = item
        if key.get("t") != "str" or not isinstance(key.get("v"), str):
            problem = problem or "wrong_type"
            got[f"<{key.get('type', key.get('t'))} key>"] = "<key>"
            continue
        if value.get("t") in ("float", "int") and isinstance(value.get("v"), str):
            try:
                got[key["v"]] = float(value["v"])
            except ValueError:
                problem = problem or "wrong_type"
                got[key["v"]] = "<unreadable>"
        else:
            problem = problem or "wrong_type"
            got[key["v"]] = f"<{value.get('type', value.get('t'))}>"
    return problem, got


def printed_tolerance(text: str) -> float:
    """Half a unit in the last printed digit of ``text`` ("0.1858" -> 5e-05)."""
    try:
        exponent = Decimal(text).as_tuple().exponent
    except InvalidOperation:
        return 0.0
    if not isinstance(exponent, int):
        return 0.0
    return 0.5 * 10.0**exponent


def parse_printed(stdout: str) -> tuple[list[tuple[str, str]], list[str]]:
    """The lines starting with ``Drifted:`` as ``(column, value text)``, and those that do not parse."""
    found, bad = [], []
    for line in stdout.splitlines():
        if not line.lstrip().startswith("Drifted:"):
            continue  # other output, even "Drifted columns: ...", is the submission's business
        m = _DRIFTED.match(line)
        if not m:
            bad.append(line.strip()[:200])
            continue
        val = m.group("val").strip()
        w = _WRAPPED.match(val)
        found.append((m.group("col"), w.group("v").strip() if w else val))
    return found, bad


def check_prints(stdout: str, got: dict[str, float], threshold: float,
                 columns: list[str] | None = None) -> tuple[list[str], list[str]]:
    """Reasons and details for the printed lines of one call, judged against the returned values.

    ``columns`` is the DataFrame's column order, which the lines must follow.
    """
    found, bad = parse_printed(stdout)
    details = [f"print_mismatch: cannot read the line {line!r}" for line in bad]
    printed: dict[str, str] = {}
    for col, val in found:
        if col in printed:
            details.append(f"print_mismatch: {col!r} printed twice")
        printed[col] = val
    strict = {c for c, v in got.items() if v > threshold}
    inclusive = {c for c, v in got.items() if v >= threshold}
    names = set(printed)
    reasons = []
    if names != strict:
        if names == inclusive:
            reasons.append("threshold_inclusive")
            details.append(f"threshold_inclusive: printed {sorted(inclusive - strict)} whose KL equals the "
                           f"threshold {threshold!r}")
        else:
            missing, extra = sorted(strict - names), sorted(names - strict)
            details.append(f"print_mismatch: missing lines for {missing}, unexpected lines for {extra}")
    if columns is not None and len(found) == len(printed):
        order = {c: i for i, c in enumerate(columns)}
        seen = [c for c, _ in found if c in order]
        if seen != sorted(seen, key=order.__getitem__):
            details.append(f"print_mismatch: lines not in the DataFrame's column order: printed {seen[:10]}")
    for col in sorted(names & set(got)):
        text = printed[col]
        try:
            value = float(text)
        except ValueError:
            details.append(f"print_mismatch: {col!r} printed KL {text!r} is not a number")
            continue
        slack = printed_tolerance(text) + 1e-12 * abs(got[col])
        if not (value == got[col] or abs(value - got[col]) <= slack):
            details.append(f"print_mismatch: {col!r} printed KL={text} but returned {got[col]!r}")
    if bad or len(found) != len(printed) or any(d.startswith("print_mismatch") for d in details):
        reasons.append("print_mismatch")
    return reasons, details


def check_case(case: Case, expected: dict[str, float], event: dict | None, tolerance: float,
               *, timed_out: bool, died: str | None, found: list | None = None, ended: str = "crash") -> CaseResult:
    """Judge one case from its ``case`` event (None when the child never reported it).

    ``found`` is passed to ``diagnose`` (the mistakes already named for this submission);
    ``ended`` is the reason for a case never reported (``crash`` or ``memory_limit``).
    """
    exp = {c: _json_float(v) for c, v in expected.items()}
    if event is None:
        if timed_out:
            return CaseResult(case.name, False, ["timeout"], exp, None, ["timeout: no result before the time limit"])
        code = "memory_limit" if ended == "memory_limit" else "crash"
        return CaseResult(case.name, False, [code], exp, None, [f"{code}: {died or 'the process ended early'}"])
    error = event.get("error")
    if error is not None:
        text = str(error)[:300]
        code = "memory_limit" if event.get("memory") is True else "crash"
        return CaseResult(case.name, False, [code], exp, None, [f"{code}: {text}"])
    problem, got = decode_result(event.get("result"))
    if problem:
        if isinstance(got, dict):
            got = {c: _json_float(v) if isinstance(v, float) else v for c, v in got.items()}
        return CaseResult(case.name, False, [problem], exp, got, [f"{problem}: returned {got!r}"[:300]])
    reasons: list[str] = []
    details: list[str] = []
    shown = {c: _json_float(v) for c, v in got.items()}
    if set(got) != set(case.columns):
        missing = [c for c in case.columns if c not in got]
        extra = [c for c in got if c not in set(case.columns)]
        return CaseResult(case.name, False, ["wrong_keys"], exp, shown,
                          [f"wrong_keys: missing {missing[:10]}, unexpected {extra[:10]}"])
    bad = [c for c in case.columns if not math.isfinite(got[c])]
    off = [c for c in case.columns if math.isfinite(got[c]) and not abs(got[c] - expected[c]) <= tolerance]
    if bad:
        reasons.append("non_finite")
        details.append(f"non_finite: {', '.join(f'{c}={got[c]!r}' for c in bad[:5])}")
    if off:
        reasons.append("kl_mismatch")
        worst = max(off, key=lambda c: abs(got[c] - expected[c]))
        details.append(f"kl_mismatch: {len(off)} of {len(case.columns)} columns, worst {worst!r}: "
                       f"got {got[worst]!r}, expected {expected[worst]!r}")
    if bad or off:
        from grader.diagnose import diagnose

        codes, why = diagnose(case, got, expected, tolerance, found)
        reasons += [c for c in codes if c not in reasons]
        details += why
    stdout = event.get("stdout")
    numbers = {c: v for c, v in got.items() if not math.isnan(v)}
    print_reasons, print_details = check_prints(stdout if isinstance(stdout, str) else "", numbers, case.threshold,
                                                list(case.columns))
    if event.get("stdout_truncated") is True:
        print_details.append("print_mismatch: the call printed more than the output limit")
        if "print_mismatch" not in print_reasons:
            print_reasons.append("print_mismatch")
    reasons += [r for r in print_reasons if r not in reasons]
    details += print_details
    if event.get("modified") is True:
        reasons.append("modified_input")
        details.append("modified_input: after the call, old_df or new_df no longer held the values given")
    return CaseResult(case.name, not reasons, reasons, exp, shown, details)
