"""``run_code``: arbitrary Python in the sandbox, as ``python -c`` would run it, and a report."""

from __future__ import annotations

import signal
from dataclasses import asdict, dataclass, field

from grader.sandbox.backend import check_setup, execute
from grader.sandbox.limits import DEFAULT_LIMITS, MAX_CODE_CHARS
from grader.sandbox.protocol import EXEC_DONE, EXIT, SYNTAX_ERROR, RawRun


@dataclass
class ExecResult:
    """What running some code in the sandbox did."""

    stdout: str
    stderr: str
    error: str | None
    timed_out: bool
    memory_exceeded: bool
    exit_code: int | None
    duration_s: float
    truncated: bool
    isolation: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def _exit_code(raw: RawRun) -> int | None:
    """The job's own exit status: negative signal number like subprocess, or the code."""
    event = raw.last(EXIT)
    if event is not None:
        if isinstance(event.get("signal"), int):
            return -event["signal"]
        if isinstance(event.get("code"), int):
            return event["code"]
    return raw.exit_code


def _error(raw: RawRun, timeout_s: float, exit_code: int | None) -> tuple[str | None, bool]:
    done, syntax = raw.last(EXEC_DONE), raw.last(SYNTAX_ERROR)
    if raw.timed_out:
        return f"timed out after {timeout_s:g} s (the process group was killed)", False
    if raw.memory_exceeded:
        return "killed: the run's memory exceeded its limit", True
    if syntax is not None:
        return str(syntax.get("error")), False
    if done is not None:
        return (done.get("error") if isinstance(done.get("error"), str) else None), done.get("memory") is True
    if exit_code is not None and exit_code < 0:
        sig = -exit_code
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        return f"killed by signal {name}" + (" (CPU time limit)" if sig in (signal.SIGKILL, signal.SIGXCPU) else ""), False
    return (None if exit_code == 0 else f"process exited with code {exit_code}"), False


def run_code(
    code: str,
    *,
    timeout_s: float = DEFAULT_LIMITS.timeout_s,
    memory_mb: int = DEFAULT_LIMITS.memory_mb,
    output_limit: int = DEFAULT_LIMITS.output_limit,
    isolation: str = "spawn",
    file_mb: int = DEFAULT_LIMITS.file_mb,
    nproc: int = DEFAULT_LIMITS.nproc,
    pool=None,
) -> ExecResult:
    """Run arbitrary Python ``code`` in the sandbox, as ``python -c`` would, and report.

    ``error`` is the last line of the traceback (``"ZeroDivisionError: division by zero"``),
    or why the run ended abnormally (timeout, memory, killed by a signal), else None.
    """
    if not isinstance(code, str):
        raise TypeError(f"code must be a str, got {type(code).__name__}")
    if len(code) > MAX_CODE_CHARS:
        return ExecResult("", "", f"code too long: {len(code)} characters, at most {MAX_CODE_CHARS}",
                          False, False, None, 0.0, False)
    job = {"mode": "exec", "code": code, "memory_mb": memory_mb, "file_mb": file_mb, "nproc": nproc,
           "output_limit": output_limit}
    raw = execute(job, timeout_s=timeout_s, output_limit=output_limit, isolation=isolation, pool=pool)
    check_setup(raw)
    exit_code = _exit_code(raw)
    error, memory = _error(raw, timeout_s, exit_code)
    if memory and error:
        error = f"{error} (memory limit {memory_mb} MB)"
    return ExecResult(
        stdout=raw.stdout.decode("utf-8", "replace"),
        stderr=raw.stderr.decode("utf-8", "replace"),
        error=error,
        timed_out=raw.timed_out,
        memory_exceeded=memory,
        exit_code=exit_code,
        duration_s=raw.duration_s,
        truncated=raw.truncated,
        isolation=raw.isolation,
    )
