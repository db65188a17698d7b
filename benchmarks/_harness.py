"""What every benchmark group shares: the ``Row`` record, interleaved timing, subprocess measurement.

A group times streamdrift and its baseline in the same run, interleaved (A, B, A, B, ...),
and reports the *paired* ratio of each round: its median and its range. The machine is
shared, so a single best or mean hides how much a number moved.
"""

from __future__ import annotations

import dataclasses
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


class Skip(Exception):
    """A group that cannot run on this machine (say, no second CPU); never for unfinished code."""


@dataclasses.dataclass(kw_only=True)
class Row:
    """One line of the results table: a measurement, its baseline and the ratio between them.

    ``ratio`` is the median of the paired per-round ratios and ``ratio_range`` their (min, max);
    ``ok`` is None for information rows (no target).
    """

    group: str
    case: str
    value: float | None
    unit: str
    baseline_name: str | None = None
    baseline: float | None = None
    ratio: float | None = None
    ratio_range: tuple[float, float] | None = None
    ratio_text: str | None = None
    target: str | None = None
    ok: bool | None = None
    note: str | None = None
    extra: dict = dataclasses.field(default_factory=dict)

    @property
    def status(self) -> str:
        if self.ok is None:
            return "info" if self.target is None else "n/a"
        return "PASS" if self.ok else "MISS"

    def as_dict(self) -> dict:
        return dataclasses.asdict(self) | {"status": self.status}


@dataclasses.dataclass
class Timing:
    """Samples of one timed callable: wall (or thread) seconds, process CPU seconds, last result."""

    samples: list[float] = dataclasses.field(default_factory=list)
    cpu: list[float] = dataclasses.field(default_factory=list)
    result: object = None

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def best(self) -> float:
        return min(self.samples)


def timed(fns: dict, repeats: int, warmup: bool = True, clock=time.perf_counter) -> dict[str, Timing]:
    """Time each callable ``repeats`` times, interleaved round by round.

    ``clock`` is wall time by default; single-threaded groups pass ``time.thread_time``
    (CPU time of this thread), which other processes on a shared machine cannot inflate.
    """
    out = {name: Timing() for name in fns}
    if warmup:
        for name, fn in fns.items():
            out[name].result = fn()
    for _ in range(repeats):
        for name, fn in fns.items():
            gc.collect()
            c0 = process_cpu()
            t0 = clock()
            res = fn()
            out[name].samples.append(clock() - t0)
            out[name].cpu.append(process_cpu() - c0)
            out[name].result = res
    return out


def paired(numerator: list[float], denominator: list[float]) -> tuple[float, tuple[float, float]]:
    """Median and (min, max) of the per-round ratios ``numerator[i] / denominator[i]``."""
    ratios = [a / b for a, b in zip(numerator, denominator)]
    return statistics.median(ratios), (min(ratios), max(ratios))


def ratio_row(*, group: str, case: str, t: dict[str, Timing], name: str, baseline: str, baseline_name: str,
              unit: str = "s", scale: float = 1.0, faster: bool = False, limit: float | None = None,
              target: str | None = None, key: str = "samples", **more) -> Row:
    """A Row for ``t[name]`` against ``t[baseline]``: medians, the paired ratio and its range.

    ``faster``: the ratio is baseline / name ("3.5x faster"), checked as ``>= limit``;
    otherwise name / baseline ("1.08x of pyarrow"), checked as ``<= limit``.
    """
    a, b = getattr(t[name], key), getattr(t[baseline], key)
    if faster:
        ratio, rng = paired(b, a)
        text = f"{ratio:.2f}x faster ({rng[0]:.2f}-{rng[1]:.2f})"
        ok = None if limit is None else ratio >= limit
    else:
        ratio, rng = paired(a, b)
        text = f"{ratio:.2f}x ({rng[0]:.2f}-{rng[1]:.2f})"
        ok = None if limit is None else ratio <= limit
    return Row(group=group, case=case, value=statistics.median(a) * scale, unit=unit, baseline_name=baseline_name,
               baseline=statistics.median(b) * scale, ratio=ratio, ratio_range=rng, ratio_text=text,
               target=target, ok=ok, extra={"samples": {name: a, baseline: b}}, **more)


def process_cpu() -> float:
    """CPU seconds (user + sys) of this process, all threads."""
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def fmt_value(v, unit) -> str:
    if v is None:
        return "-"
    if unit == "s":
        return f"{v * 1e3:.0f} ms" if v < 1 else f"{v:.2f} s"
    if unit == "ns/value":
        return f"{v:.2f} ns/value"
    if unit == "MiB":
        return f"{v:.0f} MiB"
    if unit == "subs/s":
        return f"{v:.1f} subs/s"
    return f"{v:.4g} {unit}"


# --------------------------------------------------------------------------- subprocesses


def cli_command(*args) -> list[str]:
    """The ``streamdrift`` command line run from this checkout (no install needed)."""
    code = "import sys; sys.argv[0] = 'streamdrift'; from streamdrift.cli import main; sys.exit(main())"
    return [sys.executable, "-c", code, *map(str, args)]


def child_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env.pop("PYTHONSTARTUP", None)
    return env


# A small launcher process runs the command and reports its rusage: Linux starts a forked
# child's ru_maxrss at the parent's RSS, so forking from this (large) process would report
# this process's memory, not the command's.
LAUNCHER = """
import os, sys
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], 'w') as f:
    f.write('%d %d %r' % (os.waitstatus_to_exitcode(status), usage.ru_maxrss, usage.ru_utime + usage.ru_stime))
"""


@dataclasses.dataclass
class Measured:
    """One subprocess run: wall seconds, exit code, its own peak RSS (MiB), CPU seconds, stderr."""

    wall: float
    code: int
    rss_mib: float
    cpu: float
    stderr: str


def run_measured(cmd: list[str], stdout_path=None, timeout=1800, ok_codes=(0, 1)) -> Measured:
    """Run ``cmd``; wall time, exit code and the command's own peak RSS (``wait4`` rusage)."""
    out = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "rusage"
        err = Path(tmp) / "stderr"
        with open(err, "wb") as errf:
            try:
                t0 = time.perf_counter()
                proc = subprocess.run([sys.executable, "-S", "-c", LAUNCHER, str(report), *map(str, cmd)],
                                      stdout=out, stderr=errf, env=child_env(), cwd=str(ROOT), timeout=timeout)
                wall = time.perf_counter() - t0
            finally:
                if stdout_path:
                    out.close()
        stderr = err.read_text(errors="replace")
        if proc.returncode != 0 or not report.exists():
            raise RuntimeError(f"launcher failed ({proc.returncode}): {stderr.strip()[-800:]}")
        code, maxrss, cpu = report.read_text().split()
    if int(code) not in ok_codes:
        raise RuntimeError(f"exit {code} from {' '.join(map(str, cmd[3:]))}: {stderr.strip()[-800:]}")
    return Measured(wall=wall, code=int(code), rss_mib=int(maxrss) / 1024, cpu=float(cpu), stderr=stderr)


def measured_rounds(cmds: dict[str, list[str]], repeats: int, **kw) -> dict[str, list[Measured]]:
    """Run each command ``repeats`` times, interleaved round by round (A, B, A, B, ...)."""
    out = {name: [] for name in cmds}
    for _ in range(repeats):
        for name, cmd in cmds.items():
            out[name].append(run_measured(cmd, **kw))
    return out


def as_timing(runs: list[Measured], key: str = "wall") -> Timing:
    return Timing(samples=[getattr(r, key) for r in runs], cpu=[r.cpu for r in runs])
