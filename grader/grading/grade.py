"""Grade one submission: run it in the sandbox on every hidden case and judge what it did.

The result's ``to_dict()`` is the JSON of issue 4:
``{"passed", "score", "reasons", "error", "cases": [{"name", "passed", "reasons", "expected", "got",
"error"}], "duration_s"}``; ``score`` is the fraction of cases passed. ``judge`` reads the
child's report through ``checks``; any exception while judging is the submission's
``harness_error``.
"""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass, field
from functools import lru_cache

from grader.grading.checks import CaseResult, check_case, json_float
from grader.grading.failure import classify, describe
from grader.grading.reasons import NOT_GRADED, REASONS
from grader.sandbox import DEFAULT_LIMITS, MAX_CODE_CHARS, RawRun, check_setup, encode_cases, execute, protocol


@lru_cache(maxsize=8)
def _case_data(seed: int):
    """The hidden cases' data as the sandbox gets it: arrays only, no seed, no expected values."""
    from grader.task.cases import make_cases

    return encode_cases(make_cases(seed))


@dataclass
class GradeResult:
    """The verdict on one submission. ``details``, ``stdout`` and ``isolation`` are for people
    and debugging; they are not part of ``to_dict()``.

    ``error`` describes the first exception the submission raised (type, message, its line).
    A result whose reasons are ``["harness_error"]`` is no verdict: the grader failed while
    judging (``graded`` is False) and it is left out of every pass rate.
    """

    passed: bool
    score: float
    reasons: list[str]
    cases: list[CaseResult]
    duration_s: float
    details: list[str] = field(default_factory=list)
    stdout: str = ""
    stderr: str = ""
    isolation: dict = field(default_factory=dict)
    error: str | None = None

    @property
    def graded(self) -> bool:
        """False when the grader, not the submission, failed (``harness_error``)."""
        return "harness_error" not in self.reasons

    def to_dict(self) -> dict:
        return {
            "passed": self.passed,
            "score": self.score,
            "reasons": list(self.reasons),
            "error": self.error,
            "cases": [c.to_dict() for c in self.cases],
            "duration_s": self.duration_s,
        }

    def explain(self, details: bool = True) -> list[str]:
        """One line per reason, in words, the error (if any), then (with ``details``) what was seen per case."""
        lines = [f"{code}: {_words(code)}" for code in self.reasons]
        if self.error:
            lines.append(f"error: {self.error}")
        if not details:
            return lines
        seen = set()
        for d in self.details:
            if d not in seen:
                seen.add(d)
                lines.append("  " + d)
        return lines


def _words(code: str) -> str:
    return REASONS.get(code) or NOT_GRADED.get(code) or code


def _all_cases_fail(cases, code: str, detail: str, error: str | None = None) -> list[CaseResult]:
    return [CaseResult(case.name, False, [code], {c: json_float(v) for c, v in exp.items()}, None,
                       [f"{code}: {detail}"], error) for case, exp in cases]


def _ending(raw: RawRun) -> tuple[str, str]:
    """How the child ended: a reason code for unreported cases and words for the details."""
    if raw.timed_out:
        return "timeout", "timed out"
    if raw.memory_exceeded:
        return "memory_limit", "killed: the run's memory (all of it: heap, memfd, shm, tmpfs, pipes) exceeded its limit"
    exit_event = raw.last(protocol.EXIT)
    sig = exit_event.get("signal") if exit_event else None
    code = exit_event.get("code") if exit_event else None
    if sig is None and code is None and raw.exit_code is not None:
        sig, code = (-raw.exit_code, None) if raw.exit_code < 0 else (None, raw.exit_code)
    if isinstance(sig, int):
        if sig in (signal.SIGKILL, signal.SIGXCPU):
            return "timeout", f"killed by signal {sig} (CPU time limit)"
        return "crash", f"killed by signal {sig}"
    return "crash", f"the process exited with code {str(code)[:20]} before reporting this case"


def _summarise(cases: list[CaseResult], started: float, raw: RawRun | None, extra: list[str] | None = None) -> GradeResult:
    reasons: list[str] = []
    details: list[str] = list(extra or [])
    for c in cases:
        reasons += [r for r in c.reasons if r not in reasons]
        details += [f"[{c.name}] {d}" for d in c.details]
    passed_n = sum(c.passed for c in cases)
    score = passed_n / len(cases) if cases else 0.0
    return GradeResult(
        passed=bool(cases) and passed_n == len(cases),
        score=score,
        reasons=reasons,
        cases=cases,
        duration_s=time.monotonic() - started,
        details=details,
        stdout=raw.stdout.decode("utf-8", "replace") if raw else "",
        stderr=raw.stderr.decode("utf-8", "replace") if raw else "",
        isolation=raw.isolation if raw else {},
        error=next((c.error for c in cases if c.error), None),
    )


def harness_error(exc: BaseException, started: float, raw: RawRun | None = None) -> GradeResult:
    """The result of a submission the grader failed to judge: no verdict, left out of pass rates."""
    detail = f"{type(exc).__name__}: {exc}".replace("\n", " ")[:300]
    result = _summarise([], started, raw, [f"harness_error: {detail}"])
    result.reasons, result.error = ["harness_error"], detail
    return result


def _selected(seed: int, cases: list[str] | None):
    """The hidden cases of ``seed`` (those named in ``cases``) with their expected values."""
    from grader.task.reference import expected_for_seed

    every = expected_for_seed(int(seed))
    selected = [(c, e) for c, e in every if cases is None or c.name in cases]
    if cases is not None and len(selected) != len(set(cases)):
        known = [c.name for c, _ in every]
        raise ValueError(f"unknown case names {sorted(set(cases) - set(known))}; known cases: {known}")
    return selected


def _refused(code, selected, started: float) -> GradeResult | None:
    """The result of code that is not run at all (none, too long, does not compile), else None."""
    if code is None or not isinstance(code, str) or not code.strip():
        return _summarise(_all_cases_fail(selected, "no_code", "nothing to run"), started, None)
    if len(code) > MAX_CODE_CHARS:
        return _summarise(_all_cases_fail(selected, "exec_error", f"code is {len(code)} characters, at most "
                                          f"{MAX_CODE_CHARS}"), started, None)
    try:
        compile(code, "<submission>", "exec", dont_inherit=True)
    except BaseException as exc:  # SyntaxError, ValueError (NUL byte), RecursionError, MemoryError
        detail = describe(f"{type(exc).__name__}: {exc}", getattr(exc, "lineno", None), code)
        return _summarise(_all_cases_fail(selected, "syntax_error", detail, detail), started, None)
    return None


def _before_cases(raw: RawRun, code: str) -> tuple[str, str, str | None] | None:
    """``(reason, detail, error)`` when the child stopped before calling detect_drift, else None."""
    for name in (protocol.SYNTAX_ERROR, protocol.EXEC_ERROR, protocol.NO_FUNCTION):
        event = raw.first(name)
        if event is None:
            continue
        if name == protocol.EXEC_ERROR and event.get("memory") is True:
            return "memory_limit", f"the top level raised {describe(event.get('error'))}", None
        if name == protocol.EXEC_ERROR:
            reason, detail, error = classify(event.get("error"), event.get("line"), code, "exec_error")
            return reason, detail.partition(": ")[2], error
        if name == protocol.NO_FUNCTION:
            return "no_function", f"detect_drift is {str(event.get('type'))[:100]}", None
        error = describe(event.get("error"), event.get("line"), code)
        return "syntax_error", error, error
    return None


def judge(raw: RawRun, code: str, selected, tolerance: float, output_limit: int, started: float) -> GradeResult:
    """The verdict on what the sandboxed run of ``code`` reported (untrusted: every field checked)."""
    extra = []
    if raw.channel_garbage:
        extra.append(f"the result channel carried {raw.channel_garbage} unreadable line(s)")
    harness = raw.last(protocol.HARNESS_ERROR)
    if harness is not None:
        extra.append(f"harness error in the child: {describe(harness.get('error'))}")
    early = _before_cases(raw, code)
    if early is not None:
        return _summarise(_all_cases_fail(selected, *early), started, raw, extra)
    wanted = {case.name for case, _ in selected}
    reported = {}
    for event in raw.events:
        if event.get("event") == protocol.CASE and event.get("name") in wanted:
            reported[event["name"]] = event  # the last one: the harness reports after the call returns
    started_cases = any(e.get("event") == protocol.CASE_START for e in raw.events)
    ending_code, ending_words = _ending(raw)
    if not started_cases and ending_code == "crash" and raw.last(protocol.DONE) is None:
        # the top level ended the process before any case ran (os._exit, a signal, ...)
        ending_words = "the process ended while running the top level: " + ending_words
    found: list = []  # the mistakes named so far, tried first on the next cases
    results = [check_case(case, expected, reported.get(case.name), float(tolerance), timed_out=ending_code == "timeout",
                          died=ending_words, found=found, code=code, output_limit=output_limit,
                          ended=ending_code)
               for case, expected in selected]
    return _summarise(results, started, raw, extra)


def grade_code(
    code: str | None,
    *,
    seed: int = 0,
    tolerance: float = 1e-6,
    timeout_s: float = DEFAULT_LIMITS.timeout_s,
    memory_mb: int = DEFAULT_LIMITS.memory_mb,
    output_limit: int = DEFAULT_LIMITS.output_limit,
    isolation: str = "fork",
    cases: list[str] | None = None,
    pool=None,
) -> GradeResult:
    """Grade ``code`` (the submission's Python source) on the hidden cases of ``seed``.

    ``isolation`` is ``"fork"`` (a child forked from a warm worker, the default; ``pool`` is a
    ``grader.sandbox.ForkPool``, else a shared one) or ``"spawn"`` (a fresh interpreter).
    ``timeout_s`` is the wall-time limit of the whole run (top level and every case; cases
    not reached score ``timeout``), ``memory_mb`` its memory limit (cgroup and address space), ``output_limit``
    the characters kept of each call's printed output. ``cases`` restricts grading to the
    named cases (default: all of them). Thread-safe. Whatever the submission does, this
    returns a result: a failure of the grader itself is the reason ``harness_error``; only
    bad arguments (an unknown case name) and a sandbox that cannot start raise.
    """
    started = time.monotonic()
    selected = _selected(seed, cases)
    if isinstance(code, str):
        code = code.removeprefix("\ufeff")  # a byte-order mark is an editor's, not code
    refused = _refused(code, selected, started)
    if refused is not None:
        return refused
    job = {"mode": "grade", "code": code, "memory_mb": int(memory_mb),
           "output_limit": int(output_limit), "cases": [c.name for c, _ in selected]}
    raw = execute(job, timeout_s=float(timeout_s), output_limit=int(output_limit), isolation=isolation, pool=pool,
                  data=_case_data(int(seed)))
    check_setup(raw)  # a sandbox that failed to start is never scored as the submission's crash
    try:
        return judge(raw, code, selected, tolerance, int(output_limit), started)
    except Exception as exc:  # noqa: BLE001 - a bug of the grader is this submission's harness_error
        return harness_error(exc, started, raw)


def reward(code: str | None, **kw) -> float:
    """The score in [0, 1] of ``code``: the fraction of hidden cases it passes (for RL loops)."""
    return grade_code(code, **kw).score
