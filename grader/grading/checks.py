"""The checks of one case: what the sandboxed child reported against the expected values.

The child's report is untrusted plain JSON (``grader.sandbox.harness.encode_result``): every
field is type-checked here before use; nothing it sends is evaluated or unpickled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from grader.grading.failure import classify, describe
from grader.grading.printed import parse_printed, printed_number, printed_tolerance
from grader.sandbox.limits import DEFAULT_LIMITS
from grader.sandbox.protocol import MAX_ITEMS

if TYPE_CHECKING:
    from grader.task.cases import Case


@dataclass
class CaseResult:
    name: str
    passed: bool
    reasons: list[str]
    expected: dict
    got: object
    details: list[str] = field(default_factory=list)
    error: str | None = None
    """The exception the call raised, described (type, message, the submission's line)."""

    def to_dict(self) -> dict:
        return {"name": self.name, "passed": self.passed, "reasons": list(self.reasons),
                "expected": dict(self.expected), "got": self.got, "error": self.error}


def json_float(x: float):
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
    for item in result["items"][:MAX_ITEMS]:
        if not (isinstance(item, list) and len(item) == 2 and all(isinstance(x, dict) for x in item)):
            return "wrong_type", "<malformed>"
        key, value = item
        if key.get("t") != "str" or not isinstance(key.get("v"), str):
            problem = problem or "wrong_type"
            got[f"<{str(key.get('type', key.get('t')))[:100]} key>"] = "<key>"
            continue
        if value.get("t") in ("float", "int") and isinstance(value.get("v"), str):
            try:
                got[key["v"]] = float(value["v"])
            except ValueError:
                problem = problem or "wrong_type"
                got[key["v"]] = "<unreadable>"
        else:
            problem = problem or "wrong_type"
            got[key["v"]] = f"<{str(value.get('type', value.get('t')))[:100]}>"
    return problem, got


MAX_DETAILS = 5
"""Lines of one kind shown in a case's details; the rest are counted."""


def _some(items: list, describe) -> list[str]:
    """``describe(item)`` for the first MAX_DETAILS items, then how many more there were."""
    lines = [describe(item) for item in items[:MAX_DETAILS]]
    if len(items) > MAX_DETAILS:
        lines.append(f"print_mismatch: ... and {len(items) - MAX_DETAILS} more")
    return lines


def _names(columns) -> str:
    """A short list of column names for a detail line."""
    shown = [c[:60] for c in sorted(columns)[:10]]
    return f"{shown}" + (f" and {len(columns) - 10} more" if len(columns) > 10 else "")


def check_prints(stdout: str, got: dict[str, float], threshold: float,
                 columns: list[str] | None = None) -> tuple[list[str], list[str]]:
    """Reasons and details for the printed lines of one call, judged against the returned values.

    ``columns`` is the DataFrame's column order, which the lines must follow. Linear in the
    length of ``stdout``, and at most a dozen details whatever it holds.
    """
    found, bad = parse_printed(stdout)
    details = _some(bad, lambda line: f"print_mismatch: cannot read the line {line[:100]!r}")
    printed: dict[str, str] = {}
    twice = []
    for col, val in found:
        if col in printed:
            twice.append(col)
        printed[col] = val
    details += _some(twice, lambda col: f"print_mismatch: {col[:60]!r} printed twice")
    strict = {c for c, v in got.items() if v > threshold}
    inclusive = {c for c, v in got.items() if v >= threshold}
    names = set(printed)
    reasons = []
    if names != strict:
        if names == inclusive:
            reasons.append("threshold_inclusive")
            details.append(f"threshold_inclusive: printed {_names(inclusive - strict)} whose KL equals the "
                           f"threshold {threshold!r}")
        else:
            details.append(f"print_mismatch: missing lines for {_names(strict - names)}, "
                           f"unexpected lines for {_names(names - strict)}")
    if columns is not None and not twice:
        order = {c: i for i, c in enumerate(columns)}
        seen = [c for c, _ in found if c in order]
        if seen != sorted(seen, key=order.__getitem__):
            details.append(f"print_mismatch: lines not in the DataFrame's column order: printed {seen[:10]}")
    wrong = []
    for col in sorted(names & set(got)):
        text = printed[col]
        value = printed_number(text)
        if value is None:
            wrong.append(f"print_mismatch: {col[:60]!r} printed KL {text[:60]!r} is not a number")
            continue
        slack = printed_tolerance(text) + 1e-12 * abs(got[col])
        if not (value == got[col] or abs(value - got[col]) <= slack):
            wrong.append(f"print_mismatch: {col[:60]!r} printed KL={text[:60]} but returned {got[col]!r}")
    details += _some(wrong, str)
    if bad or twice or any(d.startswith("print_mismatch") for d in details):
        reasons.append("print_mismatch")
    return reasons, details


def _unreported(case: Case, exp: dict, timed_out: bool, died: str | None, ended: str) -> CaseResult:
    if timed_out:
        return CaseResult(case.name, False, ["timeout"], exp, None, ["timeout: no result before the time limit"])
    code = "memory_limit" if ended == "memory_limit" else "crash"
    return CaseResult(case.name, False, [code], exp, None, [f"{code}: {died or 'the process ended early'}"])


def _raised(case: Case, exp: dict, event: dict, code: str | None) -> CaseResult:
    """The call raised: ``memory_limit``, ``disallowed_import`` or ``crash``, with the exception described."""
    if event.get("memory") is True:
        error = describe(event.get("error"))
        reason, detail = "memory_limit", f"memory_limit: {error}"
    else:
        reason, detail, error = classify(event.get("error"), event.get("line"), code, "crash")
    return CaseResult(case.name, False, [reason], exp, None, [detail], error=error)


def _values(case: Case, expected: dict, got: dict, tolerance: float, found: list | None) -> tuple[list, list]:
    """Reasons and details of the returned values: non-finite, off the reference, and the diagnosis."""
    reasons, details = [], []
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
        from grader.grading.diagnose import diagnose

        codes, why = diagnose(case, got, expected, tolerance, found)
        reasons += [c for c in codes if c not in reasons]
        details += why
    return reasons, details


def _prints(case: Case, event: dict, got: dict, output_limit: int) -> tuple[list, list]:
    """Reasons and details of the call's printed lines; at most ``output_limit`` characters are read
    (the child keeps no more; a forged report may claim more, and what is beyond is not read)."""
    stdout = event.get("stdout")
    stdout = stdout if isinstance(stdout, str) else ""
    numbers = {c: v for c, v in got.items() if not math.isnan(v)}
    reasons, details = check_prints(stdout[:output_limit], numbers, case.threshold, list(case.columns))
    if event.get("stdout_truncated") is True or len(stdout) > output_limit:
        details.append("print_mismatch: the call printed more than the output limit")
        if "print_mismatch" not in reasons:
            reasons.append("print_mismatch")
    return reasons, details


def check_case(case: Case, expected: dict[str, float], event: dict | None, tolerance: float,
               *, timed_out: bool, died: str | None, found: list | None = None, code: str | None = None,
               output_limit: int = DEFAULT_LIMITS.output_limit, ended: str = "crash") -> CaseResult:
    """Judge one case from its ``case`` event (None when the child never reported it).

    ``found`` is passed to ``diagnose`` (the mistakes already named for this submission);
    ``code`` is the submission's source, to quote the line an exception came from; ``ended``
    is the reason for a case never reported (``crash`` or ``memory_limit``).
    """
    exp = {c: json_float(v) for c, v in expected.items()}
    if event is None:
        return _unreported(case, exp, timed_out, died, ended)
    if event.get("error") is not None:
        return _raised(case, exp, event, code)
    problem, got = decode_result(event.get("result"))
    if problem:
        if isinstance(got, dict):
            got = {c: json_float(v) if isinstance(v, float) else v for c, v in got.items()}
        return CaseResult(case.name, False, [problem], exp, got, [f"{problem}: returned {got!r}"[:300]])
    shown = {c: json_float(v) for c, v in got.items()}
    if set(got) != set(case.columns):
        missing = [c for c in case.columns if c not in got]
        extra = [c[:60] for c in got if c not in set(case.columns)]
        return CaseResult(case.name, False, ["wrong_keys"], exp, shown,
                          [f"wrong_keys: missing {missing[:10]}, unexpected {extra[:10]}"])
    reasons, details = _values(case, expected, got, tolerance, found)
    print_reasons, print_details = _prints(case, event, got, output_limit)
    reasons += [r for r in print_reasons if r not in reasons]
    details += print_details
    if event.get("modified") is True:
        reasons.append("modified_input")
        details.append("modified_input: after the call, old_df or new_df no longer held the values given")
    return CaseResult(case.name, not reasons, reasons, exp, shown, details)
