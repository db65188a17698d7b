"""Features counted on threads: the state API and ``compare(threads=k)``, 2 threads against 1."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

import _data
from _harness import Row, ratio_row, timed

ORDER = 20
SIZES = {"full": {"features": 10, "n": 2_000_000}, "quick": {"features": 10, "n": 200_000}}


def run(ctx) -> list[Row]:
    import streamdrift
    from groups.kernel import streamdrift_pass

    k, n = ctx.sizes["features"], ctx.sizes["n"]
    ref, cur = _data.feature_arrays(k, n)
    names = list(ref)

    def one(name):
        kl, cx, cy = streamdrift_pass(ref[name], cur[name])
        return kl, cx.tolist(), cy.tolist()

    def read(name):  # the memory's own scaling: one read of the same arrays
        return float(np.sum(ref[name]) + np.sum(cur[name]))

    with ThreadPoolExecutor(2) as pool:
        fns = dict(one_thread=lambda: [one(c) for c in names], two_threads=lambda: list(pool.map(one, names)),
                   compare_1=lambda: streamdrift.compare(ref, cur, threads=1),
                   compare_2=lambda: streamdrift.compare(ref, cur, threads=2),
                   sum_1=lambda: [read(c) for c in names], sum_2=lambda: list(pool.map(read, names)))
        # Cheap rounds (~0.1 s each): take more, so that quiet moments of the shared machine are among them.
        t = timed(fns, ctx.repeats + 4)
    a = t["one_thread"].result
    assert a == t["two_threads"].result, "2 threads gave other results than 1 thread"
    for key in ("compare_1", "compare_2"):
        assert [f.kl for f in t[key].result] == [r[0] for r in a], f"{key}: KL differs from the state API's"
    size = f"{k} features x {n / 1e6:g}M + {n / 1e6:g}M float64"
    common = dict(group="threads", unit="ns/value", scale=1e9 / (2 * k * n), faster=True, limit=1.8,
                  target=">= 1.8x faster")
    return [
        ratio_row(case=f"state API over features, {size}: 2 threads vs 1", t=t, name="two_threads",
                  baseline="one_thread", baseline_name="same, 1 thread", **common),
        ratio_row(case=f"compare(threads=2) vs threads=1, {size}", t=t, name="compare_2", baseline="compare_1",
                  baseline_name="compare(threads=1)", **common),
        ratio_row(case="  the memory's ceiling: np.sum over the same arrays, 2 threads vs 1 (info)", t=t,
                  name="sum_2", baseline="sum_1", baseline_name="np.sum, 1 thread", group="threads",
                  unit="ns/value", scale=1e9 / (2 * k * n), faster=True),
    ]
