"""Grader throughput: submissions per second, warm fork servers vs a fresh interpreter each,
both in the hardened sandbox; the cost of each isolation layer; the cold start of one file.

The corpus is the same for both modes: the project's test corpus (tests/grader/corpus/*.py:
the right and mistaken submissions, no hostile ones) when present, plus the built-in
submissions below (right answers and common wrong ones), cycled to the requested count.
Hostile submissions are left out (most wait for a limit: both modes would wait the same
seconds and the ratio would measure the timeout, not the grader), and so are the gold
checks that import streamdrift itself (hidden from submissions by the sandbox).
"""

from __future__ import annotations

import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

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


def _run_all(grader, subs, isolation, pool, jobs, limits):
    def one(item):
        return grader.grade_code(item[1], isolation=isolation, pool=pool, **limits)

    with ThreadPoolExecutor(jobs) as ex:
        return list(ex.map(one, subs))


def _verdicts(results):
    return [(r.passed, round(r.score, 9), sorted(r.reasons)) for r in results]


def _cold_start(runs: int) -> list[float]:
    """Wall seconds of `streamdrift-grader grade ok_numpy.py` from a fresh process, each run."""
    import subprocess
    import sys

    target = ROOT / "tests" / "grader" / "corpus" / "ok_numpy.py"
    cmd = [sys.executable, "-c", "from grader.cli import main; main()", "grade", str(target)]
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        out.append(time.perf_counter() - t0)
        assert done.returncode == 0 and "PASS" in done.stdout, done.stdout + done.stderr
    return out


def bench_grader(grader, sz, timed, row, Skip):
    from grader.sandbox import ForkPool, cgroup

    n = sz["grader_submissions"]
    subs = corpus(n)
    jobs = os.cpu_count() or 1
    limits = dict(timeout_s=20.0, memory_mb=2048)  # the same limits for every mode
    pools = {"fork": ForkPool(jobs), "fork_none": ForkPool(jobs, isolated=False)}
    try:
        for p in pools.values():
            p.warm()
        modes = {"fork": ("fork", pools["fork"]), "spawn": ("spawn", None),
                 "fork_none": ("fork", pools["fork_none"]), "spawn_none": ("none", None)}
        for isolation, pool in modes.values():  # warm each mode once (imports, page cache)
            _run_all(grader, subs[:1], isolation, pool, 1, limits)
        fns = {name: (lambda iso=iso, pool=pool: _run_all(grader, subs, iso, pool, jobs, limits))
               for name, (iso, pool) in modes.items()}
        t = timed(fns, max(1, sz["repeats"] - 1), warmup=False)
        cgroup.ENABLED = False
        try:
            with ForkPool(jobs) as no_cgroup:
                no_cgroup.warm()
                t.update(timed({"fork_no_cgroup": lambda: _run_all(grader, subs, "fork", no_cgroup, jobs, limits)},
                               max(1, sz["repeats"] - 1), warmup=False))
        finally:
            cgroup.ENABLED = True
    finally:
        for p in pools.values():
            p.close()
    base = _verdicts(t["spawn"]["result"])
    for mode in ("fork", "fork_none", "spawn_none", "fork_no_cgroup"):
        for (name, _), a, b in zip(subs, _verdicts(t[mode]["result"]), base):
            assert a == b, f"grader verdicts differ between {mode} and spawn for {name}: {a} vs {b}"
    right = [r.passed for (name, _), r in zip(subs, t["fork"]["result"]) if name.startswith(("right_", "corpus/ok_"))]
    assert right and all(right), "a right submission did not pass"
    rate = {k: n / v["best"] for k, v in t.items()}
    s = rate["fork"] / rate["spawn"]
    passed = sum(r.passed for r in t["fork"]["result"])
    samples = {k: v["samples"] for k, v in t.items()}
    rows = [
        row("grader", f"grade_code throughput, warm fork servers in the hardened sandbox, {n} submissions "
            f"({passed} pass), {jobs} jobs, same limits", rate["fork"], "subs/s",
            "a fresh sandboxed `python` per submission (isolation='spawn')", rate["spawn"], s, f"{s:.1f}x more",
            ">= 5x", s >= 5.0, samples=samples),
        row("grader", "  the same, absolute (issue 9: >= 35/s; issue 14 target 6: >= 50/s on 2 cores)", rate["fork"],
            "subs/s", "35 subs/s", 35.0, rate["fork"] / 35.0, f"{rate['fork']:.1f}/s", ">= 35/s", rate["fork"] >= 35.0),
    ]
    for mode, layer, base_mode in (("fork", "bubblewrap root + memory cgroup, fork servers", "fork_none"),
                                   ("spawn", "bubblewrap root + memory cgroup, spawn", "spawn_none"),
                                   ("fork", "memory cgroup alone, fork servers", "fork_no_cgroup")):
        cost = rate[base_mode] / rate[mode]
        rows.append(row("grader", f"  cost of the isolation layer: {layer} (info)", 1.0 / rate[mode], "s/sub",
                        f"without it ({base_mode})", 1.0 / rate[base_mode], cost, f"{cost:.2f}x the time"))
    cold = _cold_start(sz.get("startup_runs", 3))
    med = statistics.median(cold)
    rows.append(row("grader", f"  cold start: `streamdrift-grader grade ok_numpy.py`, median of {len(cold)} "
                    f"(range {min(cold):.2f}-{max(cold):.2f} s)", med, "s", "the target", 1.5, med / 1.5,
                    f"{med:.2f} s", "< 1.5 s", med < 1.5, samples={"cold": cold}))
    return rows
