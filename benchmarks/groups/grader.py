"""Grader throughput: warm fork workers against a fresh interpreter per submission (benchmarks/_grader_bench.py)."""

from __future__ import annotations

from _harness import Row

ORDER = 70
SIZES = {"full": {"grader_submissions": 40}, "quick": {"grader_submissions": 6}}


def run(ctx) -> list[Row]:
    import grader
    from _grader_bench import bench_grader

    return bench_grader(grader, dict(ctx.sizes, repeats=ctx.repeats, quick=ctx.quick))
