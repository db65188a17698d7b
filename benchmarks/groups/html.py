"""HTML reports (benchmarks/_html_bench.py, the report engineer's), through the grader group's adapters."""

from __future__ import annotations

from _harness import Row, Skip

from groups.grader import _row, _timed_dicts

ORDER = 80
SIZES = {"full": {}, "quick": {}}


def run(ctx) -> list[Row]:
    from _html_bench import bench_html

    return bench_html(dict(ctx.sizes, repeats=ctx.repeats, quick=ctx.quick), _timed_dicts, _row, Skip)
