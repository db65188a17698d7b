"""A batch of graded model runs: concurrent episodes on one client, logged and printed as they finish.

``concurrency`` episodes are in flight at once and share one ``AsyncAnthropic`` client;
an API semaphore bounds concurrent requests and a smaller one bounds sandboxed
executions (tool calls and grading), which cost a CPU each. Every finished run is
appended to the log before its line is printed, so an interrupted batch loses only
the runs still in flight, and ``--resume`` reruns exactly those.

Ctrl-C stops new runs, gives those in flight ``grace_s`` seconds to finish (a second
Ctrl-C cancels them; a sandboxed call already running, a tool call or a grading, still
ends first, within its own time limit), and the summary is printed from what finished. An
authentication, permission or not-found error from the API stops the batch the same
way, since every further run would fail alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

from grader.agent.episode import DEFAULT_MODEL, Episode, play
from grader.agent.summary import Summary, summarize
from grader.agent.runlog import RunLog, finished_ids

FATAL_STATUSES = {401: "authentication failed", 403: "permission denied", 404: "not found (check --model)"}


@dataclass
class BatchConfig:
    """What to run; ``params()`` is logged with every run."""

    mode: str = "agent"
    model: str = DEFAULT_MODEL
    runs: int = 10
    concurrency: int = 4
    exec_concurrency: int = field(default_factory=lambda: os.cpu_count() or 1)
    max_steps: int = 20
    max_tokens: int = 8192
    temperature: float | None = None
    seed: int = 0
    tolerance: float = 1e-6
    grace_s: float = 10.0

    def params(self) -> dict:
        return {"max_steps": self.max_steps, "max_tokens": self.max_tokens, "temperature": self.temperature,
                "tolerance": self.tolerance}


@dataclass
class BatchResult:
    """The batch after it ended: every record of the log, and how it ended."""

    records: list[dict]
    new_runs: int
    interrupted: bool = False
    stopped: str | None = None
    cancelled: int = 0

    @property
    def summary(self) -> Summary:
        return summarize(self.records)


def result_line(rec: dict) -> str:
    """The line printed when a run finishes."""
    rid, status = rec["run_id"], rec.get("status")
    if status == "passed":
        return f"✓ run {rid}: passed (score {rec.get('score', 0.0):.2f})"
    if status == "failed":
        reasons = ", ".join(rec.get("reasons") or ["unknown"])
        detail = f" ({rec['ended_by']})" if rec.get("submission") is None and rec.get("ended_by") else ""
        score = f" (score {rec['score']:.2f})" if rec.get("score") else ""
        return f"✗ run {rid}: failed: {reasons}{detail}{score}"
    if status == "api_error":
        return f"! run {rid}: api_error: {rec.get('error')}"
    return f"! run {rid}: harness error: {rec.get('error')}"


def _error_record(run_id: int, config: BatchConfig, exc: BaseException, started_at: str, ep: Episode) -> dict:
    """The record of a run that failed inside the harness (a bug, not the model or the API),
    with what the episode said and spent up to then."""
    record = ep.to_record(run_id=run_id, seed=config.seed, started_at=started_at, params=config.params())
    record.update(status="error", score=0.0, reasons=["harness_error"], grade=None,
                  error=f"{type(exc).__name__}: {exc}".replace("\n", " ")[:500],
                  traceback="".join(traceback.format_exception(exc)))
    return record


async def _one_run(client, config: BatchConfig, log: RunLog, run_id: int, api_sem, exec_sem, grade=None) -> dict:
    """Play run ``run_id``, log its record and return it. A run cancelled after it spent tokens
    is logged as ``cancelled`` (retried on resume) before the cancellation goes on."""
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    ep = Episode(mode=config.mode, model=config.model)
    try:
        await play(ep, client, max_steps=config.max_steps, max_tokens=config.max_tokens,
                   temperature=config.temperature, seed=config.seed, tolerance=config.tolerance,
                   api_semaphore=api_sem, exec_semaphore=exec_sem, grade=grade)
        rec = ep.to_record(run_id=run_id, seed=config.seed, started_at=started_at, params=config.params())
    except asyncio.CancelledError:
        if ep.responses:
            ep.status, ep.reasons, ep.score = "cancelled", ["cancelled"], 0.0
            log.append(ep.to_record(run_id=run_id, seed=config.seed, started_at=started_at, params=config.params()))
        raise
    except Exception as exc:  # noqa: BLE001 - one broken run must not end the batch
        rec = _error_record(run_id, config, exc, started_at, ep)
    log.append(rec)
    return rec


async def run_batch(client, config: BatchConfig, log: RunLog, *, echo: Callable[[str], None] = print,
                    grade=None) -> BatchResult:
    """Run the runs of ``config`` not yet finished in ``log``, appending each as it finishes
    (``grade``: how a submission is graded, as in ``episode.play``)."""
    done = finished_ids(log.read())
    queue = [rid for rid in range(1, config.runs + 1) if rid not in done]
    queue.reverse()
    api_sem = asyncio.Semaphore(config.concurrency)
    exec_sem = asyncio.Semaphore(config.exec_concurrency)
    stop, hard_stop = asyncio.Event(), asyncio.Event()
    result = BatchResult(records=[], new_runs=0)

    async def worker() -> None:
        while queue and not stop.is_set():
            rec = await _one_run(client, config, log, queue.pop(), api_sem, exec_sem, grade)
            result.new_runs += 1
            echo(result_line(rec))
            status = rec.get("api_status")
            fatal = FATAL_STATUSES.get(status) if rec.get("status") == "api_error" else None
            if fatal and not stop.is_set():
                result.stopped = f"the API answered {status} ({fatal}); no further runs were started"
                stop.set()

    def on_sigint() -> None:
        if stop.is_set():
            hard_stop.set()
            return
        result.interrupted = True
        stop.set()
        echo(f"Interrupted: starting no new runs; waiting up to {config.grace_s:g} s for those in flight (Ctrl-C again to stop now)")

    def on_worker_done(task: asyncio.Task) -> None:
        if not task.cancelled() and task.exception() is not None:
            stop.set()

    workers = [asyncio.create_task(worker()) for _ in range(min(config.concurrency, len(queue)))]
    for task in workers:
        task.add_done_callback(on_worker_done)
    with _sigint_handler(on_sigint):
        if workers:
            await _wait_then_cancel(workers, stop, hard_stop, config.grace_s, result)
    for task in workers:
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()
    result.records = log.read()
    return result


async def _wait_then_cancel(workers, stop, hard_stop, grace_s, result) -> None:
    """Wait for the workers; once stopped, allow ``grace_s`` (or until a hard stop) and cancel the rest."""
    stopping = asyncio.create_task(stop.wait())
    hard = asyncio.create_task(hard_stop.wait())
    try:
        pending = set(workers)
        while pending and not stopping.done():
            _, pending = await asyncio.wait(pending | {stopping}, return_when=asyncio.FIRST_COMPLETED)
            pending.discard(stopping)
        deadline = time.monotonic() + grace_s
        while pending and not hard.done() and time.monotonic() < deadline:
            _, pending = await asyncio.wait(
                pending | {hard}, timeout=deadline - time.monotonic(), return_when=asyncio.FIRST_COMPLETED
            )
            pending.discard(hard)
        if pending:
            result.cancelled = len(pending)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
    finally:
        stopping.cancel()
        hard.cancel()


@contextlib.contextmanager
def _sigint_handler(callback):
    """Route SIGINT to ``callback`` in the running loop while the batch runs (main thread only)."""
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGINT, callback)
    except (NotImplementedError, RuntimeError, ValueError):
        yield
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGINT)
