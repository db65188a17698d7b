"""Grader throughput: warm fork workers against a fresh interpreter per submission (benchmarks/_grader_bench.py).

_grader_bench.py (the sandbox engineer's) still takes the old helpers: dict-style timings and
a positional ``row``; the adapters below give it those, as Row records.
"""

from __future__ import annotations

import time

from _harness import Row, Skip, timed

ORDER = 70
SIZES = {"full": {"grader_submissions": 40, "startup_runs": 5}, "quick": {"grader_submissions": 6, "startup_runs": 3}}


def _timed_dicts(fns, repeats, warmup=True, clock=time.perf_counter):
    t = timed(fns, repeats, warmup, clock)
    return {k: {"samples": v.samples, "cpu": v.cpu, "result": v.result, "best": v.best, "median": v.median,
                "best_cpu": min(v.cpu)} for k, v in t.items()}


def _row(group, case, value, unit, baseline_name=None, baseline=None, ratio=None, ratio_text=None, target=None,
         ok=None, note=None, **extra):
    return Row(group=group, case=case, value=value, unit=unit, baseline_name=baseline_name, baseline=baseline,
               ratio=ratio, ratio_text=ratio_text, target=target, ok=ok, note=note, extra=extra)


def run(ctx) -> list[Row]:
    import grader
    from _grader_bench import bench_grader

    return bench_grader(grader, dict(ctx.sizes, repeats=ctx.repeats, quick=ctx.quick), _timed_dicts, _row, Skip)
