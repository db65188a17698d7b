"""The exact KL pass in memory: range, two histograms and the divergence, against numpy.

Baseline: the oracle (tests/oracle.py) itself, SPEC section 2 in plain numpy: the finite
mask, min/max, ``np.histogram`` on ``np.linspace`` edges, the KL formula. Floor: ``np.sum``
over the same arrays (one read of the memory). One thread is timed in thread CPU time, which
other processes cannot inflate; two threads in wall time against numpy's wall time.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import _data
from _baselines import KL_TOL, finite_float64
from _harness import Row, ratio_row, timed

from tests.oracle import oracle_counts, oracle_kl

ORDER = 10
SIZES = {"full": {"n": 20_000_000}, "quick": {"n": 2_000_000}}


def numpy_pass(x, y):
    fx, fy = finite_float64(x), finite_float64(y)
    c = oracle_counts(fx, fy)
    return oracle_kl(c["ref_counts"], c["cur_counts"]), c["ref_counts"], c["cur_counts"]


def streamdrift_pass(x, y, pool=None):
    """The public state API; with a pool, the two sides on two threads."""
    from streamdrift import Histogram, Range, divergence

    run = pool.map if pool is not None else map
    rx, ry = run(lambda v: Range().update(v), (x, y))
    r = rx + ry
    hx, hy = run(lambda v: Histogram.for_range(r.lo, r.hi).update(v), (x, y))
    return divergence(hx.counts, hy.counts).kl, hx.counts, hy.counts


def run(ctx) -> list[Row]:
    from streamdrift._kernels import fill_histogram, value_range

    n = ctx.sizes["n"]
    x, y = _data.normal_pair(n)
    per_value = 1e9 / (2 * n)
    edges = np.linspace(-6.0, 6.5, 21)

    def fill_only():
        c = np.zeros(20, np.int64)
        fill_histogram(x, edges, c)
        fill_histogram(y, edges, c)
        return c

    fns = dict(streamdrift=lambda: streamdrift_pass(x, y), numpy=lambda: numpy_pass(x, y),
               floor=lambda: float(np.sum(x) + np.sum(y)), range_only=lambda: (value_range(x), value_range(y)),
               fill_only=fill_only)
    t = timed(fns, ctx.repeats, clock=time.thread_time)
    _check(t["streamdrift"].result, t["numpy"].result, "1 thread")
    with ThreadPoolExecutor(2) as pool:
        t2 = timed(dict(two=lambda: streamdrift_pass(x, y, pool), numpy=lambda: numpy_pass(x, y)), ctx.repeats)
    _check(t2["two"].result, t2["numpy"].result, "2 threads")

    size = f"{n / 1e6:g}M + {n / 1e6:g}M float64"
    common = dict(group="kernel", unit="ns/value", scale=per_value)
    return [
        ratio_row(case=f"one KL pass (2 ranges + 2 histograms + KL), {size}, 1 thread, CPU time", t=t,
                  name="streamdrift", baseline="numpy", baseline_name="numpy (tests/oracle.py)", faster=True,
                  limit=4.5, target=">= 4.5x faster", **common),
        ratio_row(case=f"same pass, 2 threads (one side each), wall time", t=t2, name="two", baseline="numpy",
                  baseline_name="numpy, 1 thread", faster=True, limit=8.0, target=">= 8x faster (both cores free)",
                  **common),
        ratio_row(case="  fill_histogram alone (both sides) vs the memory floor", t=t, name="fill_only",
                  baseline="floor", baseline_name="np.sum over both arrays", limit=2.0, target="<= 2x the floor",
                  **common),
        ratio_row(case="  value_range alone (both sides) vs the memory floor (info)", t=t, name="range_only",
                  baseline="floor", baseline_name="np.sum over both arrays", **common),
        ratio_row(case="  the whole pass vs the memory floor (info)", t=t, name="streamdrift",
                  baseline="floor", baseline_name="np.sum over both arrays", **common),
    ]


def _check(got, want, what):
    kl, cx, cy = got
    okl, ocx, ocy = want
    assert np.array_equal(cx, ocx) and np.array_equal(cy, ocy), f"kernel counts ({what}) differ from numpy's"
    assert abs(kl - okl) <= KL_TOL, f"kernel KL ({what}) {kl!r} != numpy {okl!r}"
