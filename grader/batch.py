"""Grading at scale: many submissions graded in parallel on a sandbox backend.

The warm fork pool itself is the ``fork`` backend, ``grader.sandbox.forkserver.ForkPool``
(re-exported here for callers of the former layout).
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from grader.sandbox.forkserver import ForkPool, WorkerError, shared_pool  # noqa: F401


@dataclass
class Graded:
    """One submission's verdict in a batch: where it came from and its ``GradeResult``."""

    source: str
    result: object

    def to_dict(self) -> dict:
        return {"submission": self.source, **self.result.to_dict()}


def grade_many(submissions, *, jobs: int | None = None, isolation: str = "fork", on_result=None,
               pool: ForkPool | None = None, **kw) -> list[Graded]:
    """Grade ``(source, code)`` pairs with ``jobs`` in parallel; results in input order.

    ``on_result(graded)`` is called as each finishes (in completion order), e.g. to stream
    JSON lines. With ``isolation="fork"`` a pool of ``jobs`` workers (no more than there are
    submissions) is started, in the background, and closed here, unless ``pool`` is given (e.g. already warmed with ``ForkPool.warm()`` for a
    benchmark; it is left open). Extra keywords go to ``grade_code``.
    """
    from grader.grade import grade_code

    items = list(submissions)
    jobs = max(1, int(jobs or os.cpu_count() or 1))
    own_pool = isolation == "fork" and pool is None
    if own_pool:
        pool = ForkPool(min(jobs, len(items)) or 1)
        pool.warm(wait=False)  # the workers start while the first grade_code computes the expected values
    elif isolation != "fork":
        pool = None
    lock = threading.Lock()

    def one(item):
        source, code = item
        graded = Graded(source, grade_code(code, isolation=isolation, pool=pool, **kw))
        if on_result is not None:
            with lock:
                on_result(graded)
        return graded

    ex = ThreadPoolExecutor(max_workers=jobs)
    try:
        results = list(ex.map(one, items))
    except BaseException:  # Ctrl-C: drop what has not started; closing the pool ends the rest
        ex.shutdown(wait=False, cancel_futures=True)
        if own_pool:
            pool.close()
        raise
    ex.shutdown()
    if own_pool:
        pool.close()
    return results
