"""One model attempt at the task, agent or single-shot, graded into an Episode.

``run_episode`` is the Python API for RL loops: it talks to the Messages API through
the caller's ``AsyncAnthropic`` client, runs the model's ``python_expression`` calls in
the grader's sandbox (never in this process), grades the submission with
``grader.grade_code`` and returns the whole conversation with its reward. API failures
that survive the SDK's retries become an Episode with status ``api_error`` instead of an
exception, so one failing run never takes a batch down with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

DEFAULT_MODEL = "claude-haiku-5-5"
MODES = ("agent", "single-shot")

PYTHON_TOOL = {
    "name": "python_expression",
    "description": (
        "Run Python code in a fresh, sandboxed process (numpy and pandas are installed) and "
        "return what it printed to stdout and stderr, and any error. Nothing persists between "
        "calls, so include imports and data each time and use print() to see values."
    ),
    "input_schema": {
        "type": "object",
        "properties": {"expression": {"type": "string", "description": "Python code to run."}},
        "required": ["expression"],
    },
}
SUBMIT_TOOL = {
    "name": "submit_answer",
    "description": (
        "Submit your final answer: complete Python code that defines detect_drift(old_df, new_df, "
        "threshold=0.1). It is graded on hidden datasets. Submitting ends the task."
    ),
    "input_schema": {
        "type": "object",
        "properties": {"code": {"type": "string", "description": "The complete Python source."}},
        "required": ["code"],
    },
}
TOOLS = [PYTHON_TOOL, SUBMIT_TOOL]

AGENT_INSTRUCTIONS = """

## How to answer in this session
You have two tools. Use `python_expression` to run and test code as often as you like.
When you are confident, call `submit_answer` once with the complete code (the code only,
no Markdown fences) instead of writing a final code block; that ends the task."""

CONTINUE_AFTER_MAX_TOKENS = (
    "Your last response was cut off because it reached the max_tokens limit. Continue from where "
    "you stopped; keep it shorter, and call submit_answer when you have the final code."
)


@dataclass
class Episode:
    """A finished attempt: what was said, what was submitted, and how it was graded.

    ``status`` is ``passed``, ``failed`` (including ``no_submission``/``no_code``) or
    ``api_error`` (the API failed after its retries; not the model's fault, so an RL
    loop should drop it rather than learn from ``reward`` 0.0).
    """

    mode: str
    model: str
    messages: list[dict] = field(default_factory=list)
    responses: list[dict] = field(default_factory=list)
    submission: str | None = None
    grade: Any = None
    status: str = "failed"
    reasons: list[str] = field(default_factory=list)
    score: float = 0.0
    ended_by: str = ""
    error: str | None = None
    api_status: int | None = None
    duration_s: float = 0.0
    traceback: str | None = None

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def reward(self) -> float:
        """The grader's score in [0, 1] (fraction of hidden cases passed); 0.0 without a grade."""
        return self.score

    @property
    def usage(self) -> dict:
        """Token totals over every response, plus each response's usage for pricing."""
        per_request = [r["usage"] for r in self.responses]
        totals = {
            key: sum(u.get(key) or 0 for u in per_request)
            for key in ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
        }
        return {**totals, "requests": per_request}

    def to_record(self, *, run_id: int, seed: int, started_at: str = "", params: dict | None = None) -> dict:
        """The JSON-ready line written to runs.jsonl."""
        return {
            "run_id": run_id,
            "seed": seed,
            "model": self.model,
            "mode": self.mode,
            "status": self.status,
            "score": self.score,
            "reasons": self.reasons,
            "ended_by": self.ended_by,
            "error": self.error,
            "api_status": self.api_status,
            **({"traceback": self.traceback} if self.traceback else {}),
            "steps": len(self.responses),
            "started_at": started_at,
            "duration_s": round(self.duration_s, 3),
            "usage": self.usage,
            "params": params or {},
            "submission": self.submission,
            "grade": self.grade.to_dict() if self.grade is not None else None,
            "responses": self.responses,
            "messages": self.messages,
        }


async def run_episode(
    client,
    *,
    mode: str = "agent",
    model: str = DEFAULT_MODEL,
    max_steps: int = 20,
    max_tokens: int = 8192,
    temperature: float | None = None,
    seed: int = 0,
    tolerance: float = 1e-6,
    api_semaphore: asyncio.Semaphore | None = None,
    exec_semaphore: asyncio.Semaphore | None = None,
    tool_timeout_s: float = 10.0,
    tool_output_limit: int = 8_000,
) -> Episode:
    """Run one attempt with ``client`` (an ``anthropic.AsyncAnthropic``) and grade it.

    ``seed`` selects the hidden cases, ``tolerance`` how far a KL may be from the
    reference's (as in ``grade_code``). ``temperature`` is sent only when given, as an
    extra body field: the SDK no longer has the parameter and current models reject it.
    ``api_semaphore`` bounds concurrent requests and ``exec_semaphore`` concurrent
    sandboxed executions when many episodes share them. A response that is not a
    well-formed message (truncated JSON, the wrong shape) is retried under the client's
    retry policy and, if it stays so, ends the episode as ``api_error``; the client's own
    ``timeout`` bounds each request.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    ep = Episode(mode=mode, model=model)
    await play(ep, client, max_steps=max_steps, max_tokens=max_tokens, temperature=temperature, seed=seed,
               tolerance=tolerance, api_semaphore=api_semaphore, exec_semaphore=exec_semaphore,
               tool_timeout_s=tool_timeout_s, tool_output_limit=tool_output_limit)
    return ep


async def play(ep: Episode, client, *, max_steps: int, max_tokens: int, temperature: float | None, seed: int,
               tolerance: float, api_semaphore=None, exec_semaphore=None, tool_timeout_s: float = 10.0,
               tool_output_limit: int = 8_000, grade=None) -> None:
    """Run the attempt recorded in ``ep`` (its mode and model), filling it in as it goes, so the
    caller keeps what was said and the tokens spent even when the attempt is cancelled.
    ``grade(code, seed=, tolerance=)`` grades the submission (default ``grade_code``, here;
    ``functools.partial(grader.grading.batch.grade_on, executor)`` on a Dask cluster).

    API failures end it as ``api_error``; any other exception (a bug of the harness) as
    ``error`` with the reason ``harness_error``. Only cancellation propagates.
    """
    from grader.agent.api import API_FAILURES, check_message, describe_api_error

    run = _Attempt(ep, client.with_middleware(check_message), max_tokens, temperature, api_semaphore,
                   exec_semaphore, tool_timeout_s, tool_output_limit)
    run.grade_fn = grade
    started = time.perf_counter()
    try:
        if ep.mode == "agent":
            await run.agent(max_steps)
        else:
            await run.single_shot()
        if ep.submission is not None:
            await run.grade(seed, tolerance)
        else:
            ep.reasons = ["no_submission" if ep.mode == "agent" else "no_code"]
    except API_FAILURES as exc:
        ep.status, ep.reasons, ep.score = "api_error", ["api_error"], 0.0
        ep.error = describe_api_error(exc)
        ep.api_status = getattr(exc, "status_code", None)
    except Exception as exc:  # noqa: BLE001 - a harness bug ends this episode, never the batch
        ep.status, ep.reasons, ep.score = "error", ["harness_error"], 0.0
        ep.error = f"{type(exc).__name__}: {exc}".replace("\n", " ")[:500]
        ep.traceback = "".join(traceback.format_exception(exc))
    finally:
        ep.duration_s = time.perf_counter() - started


class _Attempt:
    """The conversation loop behind run_episode, recording into an Episode."""

    def __init__(self, ep, client, max_tokens, temperature, api_sem, exec_sem, tool_timeout_s, tool_output_limit):
        self.ep = ep
        self.client = client
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.api_sem = api_sem or contextlib.nullcontext()
        self.exec_sem = exec_sem or contextlib.nullcontext()
        self.tool_timeout_s = tool_timeout_s
        self.tool_output_limit = tool_output_limit
        self.grade_fn = None  # None: grade_code, here

    async def create(self, tools: list | None) -> tuple[list[dict], str]:
        """One Messages API call; records the response and returns its content and stop_reason."""
        params: dict[str, Any] = {"model": self.ep.model, "max_tokens": self.max_tokens, "messages": list(self.ep.messages)}
        if tools:
            params["tools"] = tools
        if self.temperature is not None:
            params["extra_body"] = {"temperature": self.temperature}
        async with self.api_sem:
            resp = await self.client.messages.create(**params)
        content = [block.model_dump(mode="json", exclude_none=True) for block in resp.content]
        stop = resp.stop_reason or "none"
        self.ep.responses.append(
            {"id": resp.id, "model": resp.model, "stop_reason": stop, "usage": resp.usage.model_dump(exclude_none=True)}
        )
        if content:
            self.ep.messages.append({"role": "assistant", "content": content})
        return content, stop

    async def single_shot(self) -> None:
        from grader.grading import extract_code, task_prompt

        self.ep.messages.append({"role": "user", "content": task_prompt()})
        content, stop = await self.create(tools=None)
        self.ep.ended_by = stop
        text = "\n".join(b.get("text", "") for b in content if b.get("type") == "text")
        self.ep.submission = extract_code(text)

    async def agent(self, max_steps: int) -> None:
        from grader.grading import task_prompt

        self.ep.messages.append({"role": "user", "content": task_prompt() + AGENT_INSTRUCTIONS})
        for _ in range(max_steps):
            content, stop = await self.create(tools=TOOLS)
            tool_uses = [b for b in content if b.get("type") == "tool_use"]
            if stop == "tool_use" and tool_uses:
                results = [await self.call_tool(tu) for tu in tool_uses]
                self.ep.messages.append({"role": "user", "content": results})
                if self.ep.submission is not None:
                    self.ep.ended_by = "submit_answer"
                    return
            elif stop in ("max_tokens", "pause_turn") and content:
                note = CONTINUE_AFTER_MAX_TOKENS if stop == "max_tokens" else "Continue."
                cut = [_tool_result(tu, f"Not run: this tool call was cut off ({stop}).", True) for tu in tool_uses]
                self.ep.messages.append({"role": "user", "content": cut + [{"type": "text", "text": note}]})
            else:
                self.ep.ended_by = stop if content else f"{stop} (empty response)"
                return
        self.ep.ended_by = "max_steps"

    async def call_tool(self, tool_use: dict) -> dict:
        """Run one tool call and return its tool_result block."""
        name, args = tool_use.get("name"), tool_use.get("input") or {}
        if not isinstance(args, dict):
            return _tool_result(tool_use, f"The input of {name} must be a JSON object, got {type(args).__name__}.", True)
        if name == "submit_answer":
            code = args.get("code")
            if not isinstance(code, str) or not code.strip():
                return _tool_result(tool_use, "submit_answer needs a non-empty string 'code'.", True)
            if self.ep.submission is not None:
                return _tool_result(tool_use, "An answer was already submitted; only the first is graded.", True)
            self.ep.submission = _as_python(code)
            return _tool_result(tool_use, "Submitted. It will be graded on the hidden datasets.", False)
        if name == "python_expression":
            code = args.get("expression")
            if not isinstance(code, str):
                return _tool_result(tool_use, "python_expression needs a string 'expression'.", True)
            text, failed = await self.blocking(_run_python, code, self.tool_timeout_s, self.tool_output_limit)
            return _tool_result(tool_use, text, failed)
        return _tool_result(tool_use, f"Unknown tool {name!r}; the tools are python_expression and submit_answer.", True)

    async def grade(self, seed: int, tolerance: float) -> None:
        from grader.grading import grade_code

        result = await self.blocking(self.grade_fn or grade_code, self.ep.submission, seed=seed, tolerance=tolerance)
        self.ep.grade = result
        if not result.graded:  # the grader failed on it: no verdict on the model
            self.ep.status, self.ep.reasons, self.ep.error = "error", list(result.reasons), result.error
            return
        self.ep.status = "passed" if result.passed else "failed"
        self.ep.score = float(result.score)
        self.ep.reasons = list(result.reasons)

    async def blocking(self, fn, *args, **kwargs):
        """Run a blocking sandbox call in a thread, within the execution bound."""
        async with self.exec_sem:
            return await asyncio.to_thread(fn, *args, **kwargs)


def _as_python(code: str) -> str:
    """A submitted answer as code: itself when it is Python (a docstring may show a fenced
    example), else the first ```python block in it (a model that wrapped its code in Markdown)."""
    from grader.grading import extract_code

    try:
        compile(code, "<submission>", "exec")
        return code
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return extract_code(code) or code


def _tool_result(tool_use: dict, text: str, is_error: bool) -> dict:
    block = {"type": "tool_result", "tool_use_id": tool_use["id"], "content": text}
    if is_error:
        block["is_error"] = True
    return block


def _run_python(code: str, timeout_s: float, limit: int) -> tuple[str, bool]:
    """Execute the model's code in the sandbox; the text the model sees and whether it failed."""
    from grader.sandbox import run_code

    r = run_code(code, timeout_s=timeout_s, output_limit=limit)
    if r.error:
        status = f"error: {r.error}"
    elif r.timed_out:
        status = f"timed out after {timeout_s:g} s; the process was killed"
    elif r.memory_exceeded:
        status = "memory limit exceeded; the process was killed"
    elif r.exit_code not in (0, None):
        status = f"exit code {r.exit_code}"
    else:
        status = ""
    body = "\n".join(f"{name}:\n{text}" for name, text in (("stdout", r.stdout), ("stderr", r.stderr)) if text)
    budget = max(limit - len(status) - 20, 0)
    if r.truncated or len(body) > budget:
        body = body[:budget] + "\n(output truncated)"
    return "\n".join(part for part in (body, status) if part) or "(no output)", bool(status)

