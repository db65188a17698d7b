"""``streamdrift-grader run`` and ``report``: batches of Claude runs graded on the hidden cases
(thin commands over ``grader.agent``).

``run`` exits 0 when the batch ran (whatever the verdicts), 1 when no run could be graded
because the API failed (or it answered 401/403/404), 2 on bad usage, a missing
``ANTHROPIC_API_KEY`` or an unusable log, 130 after Ctrl-C.
"""

from __future__ import annotations

import asyncio
import json
import os
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

import click

from grader.agent.episode import DEFAULT_MODEL, MODES
from grader.agent.runlog import LogError, RunLog, check_resumable, finished_ids, report
from grader.agent.runner import BatchConfig, BatchResult, run_batch
from grader.agent.summary import format_summary
from grader.cli.base import Failed, GraderError, Interrupted, cli, cluster, dask_options, echo, finite, require_bubblewrap


@cli.command("run")
@click.option("--mode", type=click.Choice(MODES), default="agent", show_default=True,
              help="agent: tools python_expression and submit_answer; single-shot: grade the first ```python block.")
@click.option("--model", default=DEFAULT_MODEL, show_default=True, help="Claude model id.")
@click.option("--runs", type=click.IntRange(min=1), default=10, show_default=True, help="Number of runs (ids 1..N).")
@click.option("--concurrency", type=click.IntRange(min=1), default=None,
              help="Runs in flight at once (and bound on concurrent API requests).  [default: 4]")
@click.option("--sequential", is_flag=True, help="One run at a time (same as --concurrency 1).")
@click.option("--exec-concurrency", type=click.IntRange(min=1), default=None,
              help="Sandboxed executions at once (tool calls, grading).  [default: CPU count]")
@click.option("--max-steps", type=click.IntRange(min=1), default=20, show_default=True,
              help="Agent mode: most API requests per run.")
@click.option("--max-tokens", type=click.IntRange(min=1), default=8192, show_default=True,
              help="max_tokens of each request.")
@click.option("--temperature", type=click.FloatRange(0.0, 1.0), default=None,
              help="Sampling temperature, sent only when given; current models (Haiku 5.5 and later) reject it.")
@click.option("--log-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where runs.jsonl goes.  [default: grader-runs/<UTC time>]")
@click.option("--resume", is_flag=True, help="Continue the batch in --log-dir: skip runs already graded there.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the hidden grading cases.")
@click.option("--tolerance", type=click.FloatRange(min=0.0), default=1e-6, show_default=True, callback=finite,
              help="Largest accepted |KL - reference KL| (as in 'grade').")
@click.option("--max-retries", type=click.IntRange(min=0), default=4, show_default=True,
              help="SDK retries (with backoff) of 429, 5xx, connection errors, timeouts and malformed responses.")
@click.option("--api-timeout", type=click.FloatRange(min=0.001), default=120.0, show_default=True, callback=finite,
              help="Seconds one API request may take (connect, send, each wait for data) before it is "
                   "abandoned and retried.")
@dask_options
def run_command(mode, model, runs, concurrency, sequential, exec_concurrency, max_steps, max_tokens,
                temperature, log_dir, resume, seed, tolerance, max_retries, api_timeout, dask, dask_timeout):
    """Run Claude on the detect_drift task N times, grade every run, print a pass rate.

    \b
    Examples:
      streamdrift-grader run --runs 20 --concurrency 8
      streamdrift-grader run --mode single-shot --runs 50 --log-dir runs/haiku
      streamdrift-grader run --runs 50 --log-dir runs/haiku --resume   # after Ctrl-C
    """
    if not os.environ.get("ANTHROPIC_API_KEY", "").strip():
        raise GraderError("ANTHROPIC_API_KEY is not set; export your Anthropic API key and run again")
    if sequential and concurrency not in (None, 1):
        raise GraderError(f"--sequential and --concurrency {concurrency} contradict each other; give one of them")
    if resume and log_dir is None:
        raise GraderError("--resume needs the --log-dir of the batch to continue")
    require_bubblewrap()  # the python tool and grading run in the sandbox here, even with --dask
    config = BatchConfig(
        mode=mode, model=model, runs=runs, concurrency=1 if sequential else (concurrency or 4),
        max_steps=max_steps, max_tokens=max_tokens, temperature=temperature, seed=seed, tolerance=tolerance,
    )
    if exec_concurrency:
        config.exec_concurrency = exec_concurrency
    log = RunLog(log_dir or Path("grader-runs") / datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ"))
    previous = _previous_runs(log, resume, model=model, mode=mode, seed=seed, tolerance=tolerance)
    with cluster(dask, dask_timeout) as executor:
        echo(f"{runs} {mode} runs of {model}, {config.concurrency} at a time; log: {log.path}")
        if previous:
            echo(f"resuming: {len(finished_ids(previous) & set(range(1, runs + 1)))} of {runs} runs already graded")
        if executor is not None:
            echo(f"grading on {executor.describe()}")
        echo(nl=False, flush=True)
        result = asyncio.run(_run(config, log, max_retries, api_timeout, executor))
    _finish(result)


def _previous_runs(log: RunLog, resume: bool, **batch) -> list[dict]:
    """The runs already in the log, when the batch may continue it."""
    try:
        previous = log.read()
        if previous and not resume:
            raise LogError(f"{log.path} already holds {len(previous)} runs; pass --resume to continue it, "
                           "or another --log-dir")
        check_resumable(previous, **batch)
    except LogError as exc:
        raise GraderError(str(exc)) from None
    return previous


def _finish(result: BatchResult) -> None:
    """Print how the batch ended and its summary; raise its exit."""
    if result.cancelled:
        echo(f"{result.cancelled} runs in flight were stopped; --resume reruns them")
    if result.stopped:
        echo(f"Stopped: {result.stopped}", err=True)
    summary = result.summary
    echo("")
    echo(format_summary(summary))
    if result.interrupted:
        raise Interrupted()
    if result.stopped or (summary.graded == 0 and summary.api_errors):
        raise Failed()


async def _run(config: BatchConfig, log: RunLog, max_retries: int, api_timeout: float, executor=None) -> BatchResult:
    import anthropic

    from grader.grading.batch import grade_on

    grade = None if executor is None else partial(grade_on, executor)  # on the cluster's workers
    async with anthropic.AsyncAnthropic(max_retries=max_retries, timeout=api_timeout) as client:
        return await run_batch(client, config, log, echo=lambda line: echo(line, flush=True), grade=grade)


@cli.command("report")
@click.argument("log_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: one object with every number of the summary (pass@k for every k).")
@click.option("--html", metavar="PATH", default=None,
              help="Also write a self-contained HTML report: pass rate, pass@k, reasons, and every run's "
                   "transcript, code and cases (needs streamdrift[report]).")
def report_command(log_dir, fmt, html):
    """Re-print the summary of the batch logged in LOG_DIR (its runs.jsonl)."""
    try:
        summary = report(log_dir)
        if html is not None:
            _write_html(html, log_dir, summary)
    except (LogError, ValueError) as exc:  # streamdrift's DriftError is a ValueError
        raise GraderError(str(exc)) from None
    echo(json.dumps(summary.to_dict()) if fmt == "json" else format_summary(summary))


def _write_html(path, log_dir: Path, summary) -> None:
    from streamdrift.html import require

    require()
    from grader.agent.summary import latest_by_run
    from grader.grading.reasons import REASONS
    from streamdrift.html.runs import write_runs

    records = list(latest_by_run(RunLog(log_dir).read()).values())
    write_runs(path, records, summary.to_dict(), REASONS, str(log_dir))
