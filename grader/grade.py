"""Grade one submission: run it in the sandbox on every hidden case and judge what it did.

The result's ``to_dict()`` is the JSON of issue 4:
``{"passed", "score", "reasons", "cases": [{"name", "passed", "reasons", "expected", "got"}],
"duration_s"}``; ``score`` is the fraction of cases passed.
"""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass, field
from functools import lru_cache

from grader.checks import REASONS, CaseResult, check_case
from grader.sandbox import DEFAULT_LIMITS, MAX_CODE_CHARS, RawRun, check_setup, encode_cases, execute

DEFAULT_TIMEOUT_S = DEFAULT_LIMITS.timeout_s
DEFAULT_MEMORY_MB = DEFAULT_LIMITS.memory_mb


@lru_cache(maxsize=8)
def _case_data(seed: int):
    """The hidden cases' data as the sandbox gets it: arrays only, no seed, no expected values."""
    from grader.cases import make_cases

    return encode_cases(make_cases(seed))


@dataclass
class GradeResult:
    """The verdict on one submission. ``details``, ``stdout`` and ``isolation`` are for people
    and debugging; they are not part of ``to_dict()``."""

    passed: bool
    score: float
    reasons: list[str]
    cases: list[CaseResult]
    duration_s: float
    details: list[str] = field(default_factory=list)
    stdout: str = ""
    stderr: str = ""
    isolation: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "passed": self.passed,
            "score": self.score,
            "reasons": list(self.reasons),
            "cases": [c.to_dict() for c in self.cases],
            "duration_s": self.duration_s,
        }

    def explain(self, details: bool = True) -> list[str]:
        """One line per reason, in words, then (with ``details``) what was seen per case."""
        lines = [f"{code}: {REASONS.get(code, code)}" for code in self.reasons]
        if not details:
            return lines
        seen = set()
        for d in self.details:
            if d not in seen:
                seen.add(d)
                lines.append("  " + d)
        return lines


def _all_cases_fail(cases, code: str, detail: str) -> list[CaseResult]:
    from grader.checks import _json_float

    return [CaseResult(case.name, False, [code], {c: _json_float(v) for c, v in exp.items()}, None, [f"{code}: {detail}"])
            for case, exp in cases]


def _ending(raw: RawRun) -> tuple[str, str]:
    """How the child ended: a reason code for unreported cases and words for the details."""
    if raw.timed_out:
        return "timeout", "timed out"
    if raw.memory_exceeded:
        return "memory_limit", "killed: the run's memory (all of it: heap, memfd, shm, tmpfs, pipes) exceeded its limit"
    exit_event = raw.last("exit")
    sig = exit_event.get("signal") if exit_event else None
    code = exit_event.get("code") if exit_event else None
    if sig is None and code is None and raw.exit_code is not None:
        sig, code = (-raw.exit_code, None) if raw.exit_code < 0 else (None, raw.exit_code)
    if isinstance(sig, int):
        if sig in (signal.SIGKILL, signal.SIGXCPU):
            return "timeout", f"killed by signal {sig} (CPU time limit)"
        return "crash", f"killed by signal {sig}"
    return "crash", f"the process exited with code {code} before reporting this case"


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
    )


def grade_code(
    code: str | None,
    *,
    seed: int = 0,
    tolerance: float = 1e-6,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    memory_mb: int = DEFAULT_MEMORY_MB,
    output_limit: int = 64_000,
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
    named cases (default: all of them). Thread-safe.
    """
    from grader.reference import expected_for_seed

    started = time.monotonic()
    selected = [(c, e) for c, e in expected_for_seed(int(seed)) if cases is None or c.name in cases]
    if cases is not None and len(selected) != len(set(cases)):
        known = [c.name for c, _ in expected_for_seed(int(seed))]
        raise ValueError(f"unknown case names {sorted(set(cases) - set(known))}; known cases: {known}")
    if isinstance(code, str):
        code = code.removeprefix("\ufeff")  # a byte-order mark is an editor's, not code
    if code is None or not isinstance(code, str) or not code.strip():
        return _summarise(_all_cases_fail(selected, "no_code", "nothing to run"), started, None)
    if len(code) > MAX_CODE_CHARS:
        return _summarise(_all_cases_fail(selected, "exec_error", f"code is {len(code)} characters, at most "
                                          f"{MAX_CODE_CHARS}"), started, None)
    try:
        compile(code, "<submission>", "exec", dont_inherit=True)
    except BaseException as exc:  # SyntaxError, ValueError (NUL byte), RecursionError, MemoryError
        detail = f"{type(exc).__name__}: {exc}"[:300]
        return _summarise(_all_cases_fail(selected, "syntax_error", detail), started, None)

    job = {"mode": "grade", "code": code, "memory_mb": int(memory_mb),
           "output_limit": int(output_limit), "cases": [c.name for c, _ in selected]}
    raw = execute(job, timeout_s=float(timeout_s), output_limit=int(output_limit), isolation=isolation, pool=pool,
                  data=_case_data(int(seed)))
    check_setup(raw)  # a sandbox that failed to start is never scored as the submission's crash

    extra = []
    if raw.channel_garbage:
        extra.append(f"the result channel carried {raw.channel_garbage} unreadable line(s)")
    harness = raw.last("harness_error")
    if harness is not None:
        extra.append(f"harness error in the child: {harness.get('error')}")
    for name in ("syntax_error", "exec_error", "no_function"):
        event = next((e for e in raw.events if e.get("event") == name), None)
        if event is None:
            continue
        if name == "exec_error" and event.get("memory") is True:
            code_name, detail = "memory_limit", f"the top level raised {event.get('error')}"
        elif name == "no_function":
            code_name, detail = name, f"detect_drift is {event.get('type')!s}"[:200]
        else:
            code_name, detail = name, str(event.get("error"))[:300]
        return _summarise(_all_cases_fail(selected, code_name, detail), started, raw, extra)

    reported = {}
    for event in raw.events:
        if event.get("event") == "case" and isinstance(event.get("name"), str):
            reported[event["name"]] = event  # the last one: the harness reports after the call returns
    started_cases = {e.get("name") for e in raw.events if e.get("event") == "case_start"}
    ending_code, ending_words = _ending(raw)
    if not started_cases and ending_code == "crash" and raw.last("done") is None:
        # the top level ended the process before any case ran (os._exit, a signal, ...)
        ending_words = "the process ended while running the top level: " + ending_words
    results = []
    found: list = []  # the mistakes named so far, tried first on the next cases
    for case, expected in selected:
        event = reported.get(case.name)
        results.append(
            check_case(case, expected, event, float(tolerance), timed_out=ending_code == "timeout",
                       died=ending_words, found=found, ended=ending_code)
        )
    return _summarise(results, started, raw, extra)


def reward(code: str | None, **kw) -> float:
    """The score in [0, 1] of ``code``: the fraction of hidden cases it passes (for RL loops)."""
    return grade_code(code, **kw).score
