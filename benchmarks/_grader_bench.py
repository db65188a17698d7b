"""Grader throughput: submissions per second, warm fork servers vs a fresh interpreter each,
both in the hardened sandbox; the cost of each isolation layer; the cold start of one file.

Two ceilings bound the throughput: the submissions' own calls on the hidden cases (the
floor, measured in bare forks) and the grader's own work per submission (measured with a
submission that returns at once). The corpus below is bounded by the first on 2 cores.

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
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
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
NOOP = "def detect_drift(old_df, new_df, threshold=0.1):\n    return {}\n"
"""Returns at once: every case is still called, its inputs checked and its result judged, so
grading it costs only the grader's own work (fork, confinement, checks, verdict)."""

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


class _Only:
    """An import finder that refuses top-level modules the sandbox does not have (as there, an
    import of scipy fails at once instead of taking a second)."""

    def __init__(self, allowed: set):
        self.allowed = allowed

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] not in self.allowed:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


@lru_cache(maxsize=1)
def _bare_frames() -> list:
    """The hidden cases as DataFrames, prepared as the fork server prepares them (columns looked
    up once, its warm-up run), so that the floor pays no first-call cost the server does not."""
    import pandas as pd

    from grader.sandbox import serve
    from grader.task.cases import make_cases

    frames = [(c, pd.DataFrame({k: c.old[k].copy() for k in c.columns}),
               pd.DataFrame({k: c.new[k].copy() for k in c.columns})) for c in make_cases(0)]
    for _, old, new in frames:
        [df[k].to_numpy() for df in (old, new) for k in df.columns]
    for _ in serve.warm_up():
        pass
    return frames


def _bare_calls(subs, jobs: int) -> None:
    """The floor: the submissions' own calls on the hidden cases, nothing else. ``jobs`` plain
    processes (no sandbox, no limits, no checks, no result channel) each fork a child per
    submission that runs its top level and calls ``detect_drift`` on every case."""
    import contextlib
    import io

    from grader.sandbox import bwrap

    frames = _bare_frames()

    def child(code: str) -> None:
        allowed = set(sys.stdlib_module_names) | set(bwrap.PACKAGES)  # what the minimal root holds
        sys.meta_path.insert(0, _Only(allowed))
        ns = {"__name__": "__main__"}
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            exec(compile(code, "<submission>", "exec"), ns)
            for case, old, new in frames:
                try:
                    ns["detect_drift"](old, new, threshold=case.threshold) if case.pass_threshold \
                        else ns["detect_drift"](old, new)
                except Exception:  # noqa: BLE001 - a wrong submission's error is part of its run
                    pass

    def share(items) -> None:
        for _, code in items:
            pid = os.fork()
            if pid == 0:
                try:
                    child(code)
                finally:
                    os._exit(0)
            os.waitpid(pid, 0)

    workers = []
    for k in range(jobs):
        pid = os.fork()
        if pid == 0:
            try:
                share(subs[k::jobs])
            finally:
                os._exit(0)
        workers.append(pid)
    for pid in workers:
        os.waitpid(pid, 0)


def _tree_cpu() -> float:
    """CPU seconds used so far by this process and every live descendant (the fork servers), each
    with the children it reaped (the jobs): steady under load, unlike wall time."""
    import psutil

    me = psutil.Process()
    total = 0.0
    for p in [me, *me.children(recursive=True)]:
        try:
            t = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


def _cpu_per_submission(grader, subs, pool, jobs: int, limits: dict) -> float:
    """CPU seconds per submission over the whole process tree, for one pass over ``subs``."""
    before = _tree_cpu()
    _run_all(grader, subs, "fork", pool, jobs, limits)
    return (_tree_cpu() - before) / len(subs)


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


def _measure(grader, subs, jobs: int, timed, repeats: int) -> dict:
    """Timings of every mode on the same corpus and limits: the fork servers and spawn, each with
    and without the minimal root, the fork servers without the memory cgroup, and the floor."""
    from grader.sandbox import ForkPool, cgroup

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
        fns["bare"] = lambda: _bare_calls(subs, jobs)
        noop = [("noop", NOOP)] * len(subs)
        fns["noop"] = lambda: _run_all(grader, noop, "fork", pools["fork"], jobs, limits)
        cpu = {"corpus": _cpu_per_submission(grader, subs, pools["fork"], jobs, limits),
               "noop": _cpu_per_submission(grader, noop, pools["fork"], jobs, limits)}
        t = timed(fns, repeats, warmup=False)
        cgroup.ENABLED = False
        try:
            with ForkPool(jobs) as no_cgroup:
                no_cgroup.warm()
                t.update(timed({"fork_no_cgroup": lambda: _run_all(grader, subs, "fork", no_cgroup, jobs, limits)},
                               repeats, warmup=False))
        finally:
            cgroup.ENABLED = True
    finally:
        for p in pools.values():
            p.close()
    return t, cpu


def _check_verdicts(subs, t: dict) -> None:
    """Every mode gives spawn's verdicts, and every right submission passes."""
    base = _verdicts(t["spawn"]["result"])
    for mode in ("fork", "fork_none", "spawn_none", "fork_no_cgroup"):
        for (name, _), a, b in zip(subs, _verdicts(t[mode]["result"]), base):
            assert a == b, f"grader verdicts differ between {mode} and spawn for {name}: {a} vs {b}"
    right = [r.passed for (name, _), r in zip(subs, t["fork"]["result"]) if name.startswith(("right_", "corpus/ok_"))]
    assert right and all(right), "a right submission did not pass"
    noop = {(r.passed, tuple(r.reasons)) for r in t["noop"]["result"]}
    assert noop == {(False, ("wrong_keys",))}, f"the empty submission was not failed as wrong_keys: {noop}"


def _spread(n: int, samples: list[float]) -> str:
    return f"median of {len(samples)}, range {n / max(samples):.1f}-{n / min(samples):.1f}/s"


def _throughput_rows(row, n: int, jobs: int, t: dict, cpu: dict) -> list:
    rate = {k: n / v["median"] for k, v in t.items()}
    samples = {k: v["samples"] for k, v in t.items()}
    s, floor = rate["fork"] / rate["spawn"], rate["fork"] / rate["bare"]
    passed = sum(r.passed for r in t["fork"]["result"])
    return [
        row("grader", f"grade_code throughput, warm fork servers in the hardened sandbox, {n} submissions "
            f"({passed} pass), {jobs} jobs, same limits ({_spread(n, samples['fork'])})", rate["fork"], "subs/s",
            "a fresh sandboxed `python` per submission (isolation='spawn')", rate["spawn"], s, f"{s:.1f}x more",
            ">= 5x", s >= 5.0, samples=samples),
        row("grader", f"  the same against the floor: the submissions' own calls in bare forks, no sandbox, "
            f"no checks ({_spread(n, samples['bare'])}) (info)", rate["fork"], "subs/s", "bare calls", rate["bare"],
            floor, f"{100 * floor:.0f}% of the floor"),
        row("grader", f"  the grader's own work: {n} submissions returning {{}} at once (every case still called, "
            f"checked and judged), same servers and jobs ({_spread(n, samples['noop'])}; issue 9: >= 35/s)",
            rate["noop"], "subs/s", "50 subs/s", 50.0, rate["noop"] / 50.0, f"{rate['noop']:.1f}/s", ">= 50/s",
            rate["noop"] >= 50.0),
        *(row("grader", f"  CPU per submission over the whole process tree (grader, fork servers, jobs): {what} "
              "(info; steady under load)", 1000 * cpu[key], "ms", None, None, None,
              f"at most {jobs / cpu[key]:.0f}/s on {jobs} free cores") for key, what in
          (("corpus", f"the {n} submissions"), ("noop", "submissions returning {} at once"))),
    ]


def bench_grader(grader, sz, timed, row, Skip):
    n = sz["grader_submissions"]
    subs = corpus(n)
    jobs = os.cpu_count() or 1
    t, cpu = _measure(grader, subs, jobs, timed, max(1, sz["repeats"] - 1))
    _check_verdicts(subs, t)
    rate = {k: n / v["median"] for k, v in t.items()}
    rows = _throughput_rows(row, n, jobs, t, cpu)
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
