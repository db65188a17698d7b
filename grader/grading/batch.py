"""Grading at scale: many submissions graded in parallel on a sandbox backend, and the summary
of such a batch (the warm fork pool itself is the ``fork`` backend, ``grader.sandbox.ForkPool``)."""

from __future__ import annotations

import os
import time
from collections import Counter
from contextlib import nullcontext
from dataclasses import dataclass
from functools import partial

from grader.grading.grade import grade_code, harness_error
from grader.grading.reasons import NOT_GRADED, REASONS
from grader.sandbox import ForkPool, describe_isolation


@dataclass
class Graded:
    """One submission's verdict in a batch: where it came from and its ``GradeResult``."""

    source: str
    result: object

    def to_dict(self) -> dict:
        return {"submission": self.source, **self.result.to_dict()}


class WorkersDied(RuntimeError):
    """The cluster gave up on a submission: every worker that took it died (no verdict on it)."""


def grade_many(submissions, *, jobs: int | None = None, isolation: str = "fork", on_result=None,
               pool: ForkPool | None = None, executor=None, **kw) -> list[Graded]:
    """Grade ``(source, code)`` pairs with ``jobs`` in parallel; results in input order.

    ``on_result(graded)`` is called as each finishes (in completion order), e.g. to stream
    JSON lines. With ``isolation="fork"`` a pool of ``jobs`` workers (no more than there are
    submissions) is started, in the background, and closed here, unless ``pool`` is given (e.g. already warmed with ``ForkPool.warm()`` for a
    benchmark; it is left open). Extra keywords go to ``grade_code``.

    ``executor`` (``streamdrift.executors.executor_for("tcp://host:8786")``) grades on a
    Dask cluster instead: each worker process grades with its own warm pool (``jobs`` and
    ``pool`` are not used); a submission whose worker died is graded again on another, and
    one whose workers kept dying is a ``harness_error`` (no verdict), never a failure.
    """
    items = list(enumerate(submissions))
    jobs = max(1, int(jobs or os.cpu_count() or 1))
    own_pool = executor is None and isolation == "fork" and pool is None
    if own_pool:
        pool = ForkPool(min(jobs, len(items)) or 1)
        pool.warm(wait=False)  # the workers start while the first grade_code computes the expected values
    elif isolation != "fork" or executor is not None:
        pool = None  # on a cluster: the worker's own pool
    from streamdrift.executors import executor_for  # imported (pyarrow with it) while the workers start

    results: list[Graded | None] = [None] * len(items)
    try:
        with nullcontext(executor) if executor is not None else executor_for(None, threads=jobs) as ex:
            for (i, (source, _)), result in ex.map_unordered(
                    partial(grade_item, isolation=isolation, pool=pool, kw=kw), items, lost=_lost):
                results[i] = Graded(source, result)
                if on_result is not None:
                    on_result(results[i])
    finally:  # also on Ctrl-C: the executor dropped what had not started; closing the pool ends the rest
        if own_pool:
            pool.close()
    return results


def grade_item(item, *, isolation: str, kw: dict, pool: ForkPool | None = None):
    """The ``GradeResult`` of one ``(index, (source, code))`` item (run where the executor runs it:
    on a Dask worker, ``pool`` is None and the worker process's own warm pool grades it)."""
    _, (_, code) = item
    started = time.monotonic()
    try:
        return grade_code(code, isolation=isolation, pool=pool, **kw)
    except Exception as exc:  # noqa: BLE001 - one submission the grader failed on; the batch goes on
        return harness_error(exc, started)


def _lost(item, message: str):
    return harness_error(WorkersDied(message), time.monotonic())


def grade_on(executor, code: str | None, *, isolation: str = "fork", **kw):
    """``grade_code(code, **kw)`` run by ``executor`` (a Dask cluster's worker, with its warm pool)."""
    for _, result in executor.map_unordered(partial(grade_item, isolation=isolation, kw=kw), [(0, ("", code))],
                                            lost=_lost):
        return result
    raise AssertionError("unreachable: one item, one result")


def batch_summary(graded: list[Graded], wall_s: float, jobs: int, isolation: str, slowest: int = 5) -> str:
    """Pass rate, mean score, counts per reason (with what each means), slowest submissions.

    Submissions the grader failed on (``harness_error``) are counted apart, out of the rates.
    """
    n = len(graded)
    layers = next((g.result.isolation for g in graded if g.result.isolation.get("uid")),
                  next((g.result.isolation for g in graded if g.result.isolation), {}))
    judged = [g for g in graded if g.result.graded]
    k = len(judged)
    passed = sum(g.result.passed for g in judged)
    mean = sum(g.result.score for g in judged) / k if k else 0.0
    lines = [
        f"graded {n} submission{'s' if n != 1 else ''} in {wall_s:.1f} s "
        f"({n / wall_s if wall_s > 0 else 0.0:.1f}/s, jobs {jobs}, isolation {isolation})",
        f"isolation in force: {describe_isolation(layers) if layers else 'none (nothing was run)'}",
        f"pass rate {100.0 * passed / k if k else 0.0:.1f}% ({passed}/{k}), mean score {mean:.3f}",
    ]
    if n > k:
        lines.append(f"harness errors: {n - k} (the grader failed on them; left out of the pass rate)")
    counts = Counter(code for g in graded for code in g.result.reasons)
    if counts:
        lines.append("reasons (submissions):")
        width = max(map(len, counts))
        for code, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"  {code:<{width}}  {c:>5}  {REASONS.get(code) or NOT_GRADED.get(code, '')}")
    if graded:
        lines.append("slowest:")
        for g in sorted(graded, key=lambda g: -g.result.duration_s)[:slowest]:
            lines.append(f"  {g.result.duration_s:6.2f} s  {g.source}")
    return "\n".join(lines)
