"""Grader throughput: submissions per second, warm fork worker vs a fresh interpreter each.

The corpus is the same for both modes: the project's test corpus (tests/grader/corpus/*.py:
the right and mistaken submissions, no hostile ones) when present, plus the built-in
submissions below (right answers and common wrong ones), cycled to the requested count.
Hostile submissions are left out (most wait for a limit: both modes would wait the same
seconds and the ratio would measure the timeout, not the grader), and so are the gold
checks that import streamdrift itself (not what a model submits; timed on their own).
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _harness import Row, timed

ROOT = Path(__file__).resolve().parents[1]

_RIGHT_NUMPY = '''
import numpy as np

def detect_drift(old_df, new_df, threshold=0.1):
    out = {}
    for c in old_df.columns:
        x = old_df[c].to_numpy(dtype=float); y = new_df[c].to_numpy(dtype=float)
        x = x[np.isfinite(x)]; y = y[np.isfinite(y)]
        e = np.linspace(min(x.min(), y.min()), max(x.max(), y.max()), 21)
        p = np.histogram(x, e)[0] + 1e-10; q = np.histogram(y, e)[0] + 1e-10
        p = p / p.sum(); q = q / q.sum()
        out[c] = float(np.sum(p * np.log(p / q)))
        if out[c] > threshold:
            print(f"Drifted: {c} (KL={out[c]:.4f})")
    return out
'''

_RIGHT_PANDAS = '''
import numpy as np
import pandas as pd

def detect_drift(old_df, new_df, threshold=0.1):
    res = {}
    for col in old_df.columns:
        a = old_df[col].replace([np.inf, -np.inf], np.nan).dropna().astype("float64")
        b = new_df[col].replace([np.inf, -np.inf], np.nan).dropna().astype("float64")
        edges = np.linspace(min(a.min(), b.min()), max(a.max(), b.max()), 21)
        ca = pd.Series(np.histogram(a, bins=edges)[0]) + 1e-10
        cb = pd.Series(np.histogram(b, bins=edges)[0]) + 1e-10
        p, q = ca / ca.sum(), cb / cb.sum()
        kl = float((p * np.log(p / q)).sum())
        res[col] = kl
        if kl > threshold:
            print("Drifted: %s (KL=%.4f)" % (col, kl))
    return res

if __name__ == "__main__":
    np.random.seed(42)
    old = pd.DataFrame({"age": np.random.normal(40, 10, 2000)})
    new = old + np.random.normal(5, 2, (2000, 1))
    print(detect_drift(old, new))
'''

_REVERSED = _RIGHT_NUMPY.replace("np.log(p / q)", "np.log(q / p)").replace("np.sum(p *", "np.sum(q *")
_EPS_ON_PROBS = '''
import numpy as np

def detect_drift(old_df, new_df, threshold=0.1):
    out = {}
    for c in old_df.columns:
        x = old_df[c].dropna().to_numpy(float); y = new_df[c].dropna().to_numpy(float)
        e = np.linspace(min(x.min(), y.min()), max(x.max(), y.max()), 21)
        p = np.histogram(x, e)[0] / len(x) + 1e-10; q = np.histogram(y, e)[0] / len(y) + 1e-10
        out[c] = float(np.sum(p * np.log(p / q)))
        if out[c] > threshold:
            print(f"Drifted: {c} (KL={out[c]:.4f})")
    return out
'''
_PER_SAMPLE_RANGE = '''
import numpy as np

def detect_drift(old_df, new_df, threshold=0.1):
    out = {}
    for c in old_df.columns:
        x = old_df[c].dropna().to_numpy(float); y = new_df[c].dropna().to_numpy(float)
        p = np.histogram(x, 20)[0] + 1e-10; q = np.histogram(y, 20)[0] + 1e-10
        p = p / p.sum(); q = q / q.sum()
        out[c] = float(np.sum(p * np.log(p / q)))
        if out[c] > threshold:
            print(f"Drifted: {c} (KL={out[c]:.4f})")
    return out
'''
_SYNTAX_ERROR = "def detect_drift(old_df, new_df, threshold=0.1)\n    return {}\n"
_RAISES = "import numpy as np\n\ndef detect_drift(old_df, new_df, threshold=0.1):\n    raise ValueError('not done')\n"
_EXITS = "import sys\nsys.exit(0)\n"

BUILTIN = [
    ("right_numpy", _RIGHT_NUMPY),
    ("right_pandas", _RIGHT_PANDAS),
    ("reversed_direction", _REVERSED),
    ("epsilon_on_probabilities", _EPS_ON_PROBS),
    ("per_sample_range", _PER_SAMPLE_RANGE),
    ("syntax_error", _SYNTAX_ERROR),
    ("raises", _RAISES),
    ("sys_exit", _EXITS),
]


def corpus(n: int) -> list[tuple[str, str]]:
    items = list(BUILTIN)
    folder = ROOT / "tests" / "grader" / "corpus"
    if folder.is_dir():
        for p in sorted(folder.glob("*.py")):
            if p.stem.startswith(("hostile", "gold")):
                continue
            items.append((f"corpus/{p.name}", p.read_text()))
    return [items[i % len(items)] for i in range(n)]


def bench_grader(grader, sz) -> list[Row]:
    from grader.batch import ForkPool

    n = sz["grader_submissions"]
    subs = corpus(n)
    jobs = os.cpu_count() or 1
    limits = dict(timeout_s=20.0, memory_mb=2048)  # the same limits for both modes
    pool = ForkPool(jobs)
    try:
        pool.warm()

        def run(isolation):
            def one(item):
                return grader.grade_code(item[1], isolation=isolation, pool=pool if isolation == "fork" else None, **limits)

            with ThreadPoolExecutor(jobs) as ex:
                return list(ex.map(one, subs))

        # Warm both modes on one submission (imports, page cache), then the best of
        # (repeats - 1) full passes: a spawn pass is slow.
        for isolation in ("fork", "spawn"):
            grader.grade_code(subs[0][1], isolation=isolation, pool=pool if isolation == "fork" else None, **limits)
        fns = dict(fork=lambda: run("fork"), spawn=lambda: run("spawn"))
        t = timed(fns, max(1, sz["repeats"] - 1), warmup=False)
    finally:
        pool.close()
    fork, spawn = t["fork"].result, t["spawn"].result
    verdicts_fork = [(r.passed, round(r.score, 9), sorted(r.reasons)) for r in fork]
    verdicts_spawn = [(r.passed, round(r.score, 9), sorted(r.reasons)) for r in spawn]
    for (name, _), a, b in zip(subs, verdicts_fork, verdicts_spawn):
        assert a == b, f"grader verdicts differ between fork and spawn for {name}: {a} vs {b}"
    right = [r.passed for (name, _), r in zip(subs, fork) if name.startswith(("right_", "corpus/ok_"))]
    assert right and all(right), "a right submission did not pass"
    rate_fork = n / t["fork"].best
    rate_spawn = n / t["spawn"].best
    s = rate_fork / rate_spawn
    passed = sum(r.passed for r in fork)
    rows = [Row(group="grader", case=f"grade_code throughput, {n} submissions ({passed} pass), {jobs} jobs, same limits",
                value=rate_fork, unit="subs/s", baseline_name="fresh `python` per submission (isolation='spawn')",
                baseline=rate_spawn, ratio=s, ratio_text=f"{s:.1f}x more", target=">= 5x", ok=s >= 5.0,
                extra={"samples": {k: v.samples for k, v in t.items()}})]
    gold = ROOT / "tests" / "grader" / "corpus" / "gold_detect_drift.py"
    if gold.exists() and not sz.get("quick"):
        # The gold check imports streamdrift (numba kernels) inside the sandbox: info only.
        code = gold.read_text()
        res = {}
        with ForkPool(1) as one_pool:
            one_pool.warm()
            for isolation in ("fork", "spawn"):
                t0 = time.perf_counter()
                r = grader.grade_code(code, isolation=isolation, pool=one_pool if isolation == "fork" else None, **limits)
                res[isolation] = (time.perf_counter() - t0, r.passed, r.reasons)
        (tf, pf, rf), (ts, ps, rs) = res["fork"], res["spawn"]
        rows.append(Row(group="grader", case="  gold check (tests/grader/corpus/gold_detect_drift.py, imports "
                        f"streamdrift), seconds per submission; fork {'passed' if pf else rf}, "
                        f"spawn {'passed' if ps else rs}", value=tf, unit="s", baseline_name="spawn", baseline=ts,
                        ratio=ts / tf, ratio_text=f"{ts / tf:.1f}x slower in spawn",
                        note=f"timeout limit {limits['timeout_s']:g} s"))
    return rows
