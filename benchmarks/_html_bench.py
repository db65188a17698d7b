"""HTML report: size and write time for 100 features, and 100 features x 1,000 windows.

Targets (issue 13): under 2 MB for 100 features, written in under 3 s for 100 features x
1,000 windows. The anchor measured for the issue: Evidently 0.7.23's drift report for 10
numeric features is 4.4 MB and takes 0.2 s to save (2.6 s to compute). The baseline in
the same run is writing the same records as JSON Lines with their counts (``--counts``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FEATURES, WINDOWS, BINS = 100, 1000, 20
MB = 1_000_000


@dataclass
class _Window:
    index: int
    start_row: int
    end_row: int
    partial: bool
    features: list

    def records(self) -> list[dict]:  # as streamdrift.watch's Window
        extra = dict(window=self.index, start_row=self.start_row, end_row=self.end_row, partial=self.partial)
        return [{**f.to_dict(), **extra} for f in self.features]


def _features(rng, shift: float):
    """100 real FeatureDrift results (histograms of random data, the kernels' divergences)."""
    from streamdrift.report import FeatureDrift
    from streamdrift.state import Histogram

    out = []
    for i in range(FEATURES):
        x, y = rng.normal(0, 1, 2000), rng.normal(shift * (i % 7) / 7, 1, 2000)
        lo, hi = float(min(x.min(), y.min())), float(max(x.max(), y.max()))
        ref = Histogram.for_range(lo, hi, BINS).update(x)
        cur = Histogram.for_range(lo, hi, BINS).update(y)
        out.append(FeatureDrift.from_histograms(f"feature_{i:03d}", ref, cur, 0.1))
    return out


def bench_html(sz, timed, row, Skip):
    try:
        from streamdrift.html.drift import drift_html
        from streamdrift.html.records import counts_record, with_counts
        from streamdrift.html.watching import WatchReport
    except ImportError as exc:
        raise Skip(f"the report extra is not installed ({exc})")
    rng = np.random.default_rng(13)
    repeats = sz["repeats"]
    windows = [_Window(w, w * 1000, (w + 1) * 1000, False, _features(rng, 1.0 if w % 3 else 0.3))
               for w in range(sz.get("html_windows", WINDOWS))]
    tmp = Path(tempfile.mkdtemp(prefix="streamdrift-html-bench-"))
    rows = []

    compare_records = [counts_record(f) for f in windows[-1].features]
    html = drift_html(compare_records, "bench", ["a", "b"])
    t = timed({
        "html": lambda: (tmp / "c.html").write_text(drift_html(compare_records, "bench", ["a", "b"])),
        "jsonl": lambda: (tmp / "c.jsonl").write_text("".join(json.dumps(r) + "\n" for r in compare_records)),
    }, repeats)
    size = len(html.encode())
    rows.append(row("html", "compare report, 100 features: size", size / MB, "MB",
                    "Evidently, 10 features (issue's anchor)", 4.4, ratio=4.4 * MB / size,
                    ratio_text=f"{size / MB:.2f} MB; {4.4 * MB / size:.1f}x smaller than Evidently's 10-feature report",
                    target="< 2 MB", ok=size < 2 * MB))
    rows.append(_time_row(row, "compare report, 100 features: render + write", t, target=None))

    def watch_final():
        report = WatchReport(str(tmp / "w.html"), ["stream"], clock=lambda: 0.0)
        for w in windows:
            report.note(w)
        report.write()

    jsonl = tmp / "w.jsonl"
    with open(jsonl, "w") as fh:
        for w in windows:
            fh.writelines(json.dumps(r) + "\n" for r in with_counts(w.records(), w.features))
    def watch_jsonl():  # what 'watch --format json' writes for the same windows
        with open(tmp / "plain.jsonl", "w") as fh:
            for w in windows:
                fh.writelines(json.dumps(r) + "\n" for r in w.records())

    t = timed({"html": watch_final, "jsonl": watch_jsonl}, repeats)
    wsize = (tmp / "w.html").stat().st_size
    n = len(windows)
    rows.append(_time_row(row, f"watch report, 100 features x {n} windows: render + write", t, target="< 3 s"))
    rows.append(row("html", f"watch report, 100 features x {n} windows: size", wsize / MB, "MB",
                    ratio_text=f"{wsize / MB:.2f} MB", target="< 2 MB", ok=wsize < 2 * MB))
    cmd = [sys.executable, "-m", "streamdrift", "report", str(jsonl), "-o", str(tmp / "r.html")]
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        samples.append(time.perf_counter() - start)
    rows.append(row("html", f"'streamdrift report' of {jsonl.stat().st_size / MB:.0f} MB of watch JSON Lines "
                    f"(--counts), 100 x {n}: whole command", min(samples), "s",
                    ratio_text=f"{min(samples):.2f} s (range {min(samples):.2f} to {max(samples):.2f})",
                    samples=samples))
    return rows


def _time_row(row, case, t, target):
    html, base = t["html"], t["jsonl"]
    median = html["median"]
    ok = None if target is None else median < 3.0
    return row("html", case, median, "s", "the same windows as JSON Lines", base["median"],
               ratio=median / base["median"],
               ratio_text=(f"median {median:.2f} s (range {min(html['samples']):.2f} to {max(html['samples']):.2f}), "
                           f"CPU {html['best_cpu']:.2f} s; {median / base['median']:.1f}x the JSON Lines"),
               target=target, ok=ok, samples=html["samples"])
