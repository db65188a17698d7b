"""The run's description (machine, versions, commit) and its markdown table."""

from __future__ import annotations

import datetime as _dt
import os
import platform
import subprocess
from pathlib import Path

from _harness import Row, fmt_value


def machine(root: Path) -> dict:
    import numba
    import numpy
    import pyarrow

    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "?"
    return dict(
        cpu=cpu,
        usable_cores=len(os.sched_getaffinity(0)),
        memory_gib=round(mem, 1),
        python=platform.python_version(),
        numba=numba.__version__,
        numpy=numpy.__version__,
        pyarrow=pyarrow.__version__,
        os=platform.platform(),
        loadavg=os.getloadavg(),
        commit=commit,
        date=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    )


def markdown(m: dict, rows: list[Row], quick: bool, duration: float) -> str:
    lines = [
        f"streamdrift benchmarks, {m['date']}{' (--quick sizes)' if quick else ''}, commit {m['commit']}",
        "",
        f"Machine: {m['cpu']}, {m['usable_cores']} cores, {m['memory_gib']} GiB; Python {m['python']}, "
        f"numba {m['numba']}, numpy {m['numpy']}, pyarrow {m['pyarrow']}; load average at start "
        f"{', '.join(f'{x:.2f}' for x in m['loadavg'])}. Medians of interleaved rounds; the ratio is the "
        "median of the per-round ratios, (min-max) in brackets.",
        "",
        *(["With --quick the sizes are too small for the targets (start-up costs dominate): this run shows that "
           "every group runs and agrees with its baseline; judge PASS/MISS on a full run.", ""] if quick else []),
        "| group | case | streamdrift | baseline | ratio | target | result |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        base = "-" if r.baseline is None else f"{fmt_value(r.baseline, r.unit)} ({r.baseline_name})"
        value = fmt_value(r.value, r.unit) if r.value is not None else (r.note or "-")
        result = r.status if r.status not in ("info", "n/a") else "-"
        if r.case == "ERROR":
            result = "ERROR"
        lines.append(f"| {r.group} | {r.case} | {value} | {base} | {r.ratio_text or '-'} | {r.target or '-'} | {result} |")
    lines.append("")
    loads = m.get("load_by_group") or {}
    if loads:
        lines.append("1-minute load average when each group started (2 cores; above ~1 other work competes): "
                     + ", ".join(f"{g} {v:.1f}" for g, v in loads.items()) + ".")
    lines.append(f"Total run time {duration:.0f} s.")
    return "\n".join(lines)
