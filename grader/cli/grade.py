"""``streamdrift-grader prompt``, ``reasons`` and ``grade``: thin commands over ``grader.grading``."""

from __future__ import annotations

import json
import os
import time
from contextlib import nullcontext

import click

from grader.cli.base import Failed, GraderError, cli, cluster, dask_options, echo, finite, require_bubblewrap
from grader.sandbox.limits import DEFAULT_LIMITS


@cli.command("prompt")
def prompt_command() -> None:
    """Print the task prompt (Markdown) that a model receives."""
    from grader.grading import task_prompt

    echo(task_prompt(), nl=False)


@cli.command("reasons")
def reasons_command() -> None:
    """List the reason codes a verdict can carry, with what each means."""
    from grader.grading.reasons import NOT_GRADED, REASONS, RUN_REASONS

    width = max(map(len, {**REASONS, **RUN_REASONS, **NOT_GRADED}))
    for title, codes in ((None, REASONS), ("of a whole run (streamdrift-grader run)", RUN_REASONS),
                         ("no verdict (left out of the pass rate)", NOT_GRADED)):
        if title:
            echo(f"\n{title}:")
        for code, text in codes.items():
            echo(f"{code:<{width}}  {text}")


def _text_line(graded) -> str:
    r = graded.result
    verdict = "PASS" if r.passed else "FAIL"
    line = f"{verdict}  {r.score:.3f}  {r.duration_s:6.2f}s  {graded.source}"
    if r.reasons:
        line += "  [" + ", ".join(r.reasons) + "]"
    return line


def _outcome(graded: list) -> None:
    """Like pytest: nothing when every submission passed, ``Failed`` (1) when one failed,
    ``GraderError`` (2) when the grader failed on one."""
    broken = sum(not g.result.graded for g in graded)
    if broken:
        raise GraderError(f"the grader failed on {broken} submission{'s' * (broken != 1)} (harness_error, above)")
    if not all(g.result.passed for g in graded):
        raise Failed()


@cli.command("grade")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Submissions graded at once.  [default: CPU count]")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: a line per submission and a summary; json: one JSON object per submission (JSON Lines).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the hidden cases.")
@click.option("--tolerance", type=click.FloatRange(min=0.0), default=1e-6, show_default=True, callback=finite,
              help="Largest accepted |KL - reference|.")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0.1), default=DEFAULT_LIMITS.timeout_s,
              show_default=True, callback=finite, help="Wall-time limit per submission, seconds (all cases).")
@click.option("--memory", "memory_mb", type=click.IntRange(min=64), default=DEFAULT_LIMITS.memory_mb,
              show_default=True,
              help="Memory limit per submission, MB (everything it holds, through a memory cgroup; and its address space).")
@click.option("--isolation", type=click.Choice(["fork", "spawn", "none"]), default="fork", show_default=True,
              help="fork: children of warm workers (fast); spawn: a fresh interpreter per submission; both in a "
                   "minimal root (bubblewrap). none: the host's file system, for trusted code only.")
@click.option("--verbose", "-v", is_flag=True,
              help="Text format: also show what was seen in each failed case (values, errors, printed lines).")
@dask_options
def grade_command(paths, jobs, fmt, seed, tolerance, timeout_s, memory_mb, isolation, verbose, dask, dask_timeout):
    """Grade submissions: .py files, model responses (.md/.txt: the first ```python block),
    directories of them, or JSON Lines files with a "code" field.

    \b
    Examples:
      streamdrift-grader grade answer.py
      streamdrift-grader grade runs/ --jobs 4 --format json > results.jsonl
      streamdrift-grader grade runs/ --dask tcp://scheduler:8786 --format json

    \b
    Exit status (like pytest):
      0  every submission passed
      1  at least one submission failed (a syntax error is a failure)
      2  bad usage or input, or the grader failed on a submission (harness_error)
    """
    jobs = jobs or os.cpu_count() or 1
    if isolation != "none" and dask is None:  # on a cluster, each worker checks its own
        require_bubblewrap()
    with _early_pool(isolation, dask, jobs) as pool:
        _grade(paths, jobs, fmt, verbose, dask, dask_timeout, pool, isolation=isolation, seed=seed,
               tolerance=tolerance, timeout_s=timeout_s, memory_mb=memory_mb)


def _early_pool(isolation: str, dask, jobs: int):
    """The fork servers' pool, its first worker starting now: it imports numpy and pandas while
    this process imports the grading code and computes the expected values."""
    if isolation != "fork" or dask is not None:
        return nullcontext()
    from grader.sandbox import ForkPool

    pool = ForkPool(jobs)
    pool.warm(wait=False, count=1)
    return pool


def _grade(paths, jobs, fmt, verbose, dask, dask_timeout, pool, **kw) -> None:
    from grader.grading import SubmissionError, batch_summary, grade_many, load_submissions

    try:
        submissions = load_submissions(paths)
    except SubmissionError as exc:
        raise GraderError(str(exc)) from None
    if not submissions:
        raise GraderError(f"no submissions found in {', '.join(paths)} (looked for .py, .md, .txt, .jsonl)")

    def emit(graded):
        if fmt == "json":
            echo(json.dumps(graded.to_dict()))
            return
        echo(_text_line(graded))
        if not graded.result.passed:
            for line in graded.result.explain(details=verbose):
                echo("    " + line)

    with cluster(dask, dask_timeout) as executor:
        started = time.monotonic()
        graded = grade_many(submissions, jobs=jobs, on_result=emit, executor=executor, pool=pool, **kw)
        wall = time.monotonic() - started
        if executor is not None:
            jobs = executor.describe()
    echo(batch_summary(graded, wall, jobs, kw["isolation"]), err=fmt == "json")
    _outcome(graded)
