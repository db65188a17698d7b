"""HTML reports: size and write time for 100 features, and for 100 features x 1,000 windows.

Targets (issue 13): under 2 MB for 100 features, written in under 3 s for 100 features x
1,000 windows. The anchor measured for the issue: Evidently 0.7.23's drift report for 10
numeric features is 4.4 MB and takes 0.2 s to save (2.6 s to compute). The baseline in the
same run is writing the same records as JSON Lines. A watch report costs twice: recording
each window as it completes (``WatchReport.note``), and rewriting the page (``write``);
they are timed apart.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

from _harness import Row, Skip, cli_command, measured_rounds, ratio_row, timed

ORDER = 80
SIZES = {"full": {"windows": 1000}, "quick": {"windows": 50}}
FEATURES, BINS = 100, 20
MB = 1_000_000
EVIDENTLY_MB = 4.4  # Evidently 0.7.23's report for 10 features (the issue's anchor)


def run(ctx) -> list[Row]:
    try:
        from streamdrift.html.drift import drift_html
        from streamdrift.html.records import counts_record
    except ImportError as exc:
        raise Skip(f"the report extra is not installed ({exc})")
    windows = _windows(ctx.sizes["windows"])
    with tempfile.TemporaryDirectory(prefix="streamdrift-html-bench-") as tmp:
        tmp = Path(tmp)
        records = [counts_record(f) for f in windows[-1].features]
        t = timed({
            "html": lambda: (tmp / "c.html").write_text(drift_html(records, "bench", ["a", "b"])),
            "jsonl": lambda: _write_jsonl(tmp / "c.jsonl", [records]),
        }, ctx.repeats)
        size = (tmp / "c.html").stat().st_size
        rows = [
            Row(group="html", case=f"compare report, {FEATURES} features: size", value=size / MB, unit="MB",
                baseline_name="Evidently, 10 features (issue's anchor)", baseline=EVIDENTLY_MB,
                ratio=EVIDENTLY_MB * MB / size,
                ratio_text=f"{size / MB:.2f} MB; {EVIDENTLY_MB * MB / size:.1f}x smaller than Evidently's "
                           "10-feature report", target="< 2 MB", ok=size < 2 * MB),
            _vs_jsonl(t, f"compare report, {FEATURES} features: render + write", "html"),
        ]
        return rows + _watch_rows(ctx, windows, tmp)


def _watch_rows(ctx, windows, tmp: Path) -> list[Row]:
    from streamdrift.html.records import with_counts
    from streamdrift.html.watching import WatchReport

    n = len(windows)
    recorded = WatchReport(str(tmp / "w.html"), ["stream"], clock=lambda: 0.0)

    def record():
        report = WatchReport(str(tmp / "r.html"), ["stream"], clock=lambda: 0.0)
        for w in windows:
            report.note(w)
        return report

    def rewrite():
        recorded.pending = True  # the page is rewritten whole, from what was recorded
        recorded.write()

    for w in windows:
        recorded.note(w)
    t = timed({"record": record, "rewrite": rewrite,
               "jsonl": lambda: _write_jsonl(tmp / "plain.jsonl", [w.records() for w in windows])}, ctx.repeats)
    wsize = (tmp / "w.html").stat().st_size
    counts = tmp / "w.jsonl"
    _write_jsonl(counts, [with_counts(w.records(), w.features) for w in windows])
    runs = measured_rounds({"report": cli_command("report", counts, "-o", tmp / "report.html")}, ctx.repeats)
    wall = [r.wall for r in runs["report"]]
    return [
        _vs_jsonl(t, f"watch report, {FEATURES} features x {n} windows: recording them (`note`, info)", "record"),
        _vs_jsonl(t, f"watch report, {FEATURES} features x {n} windows: one rewrite of the page", "rewrite",
                  limit=3.0),
        Row(group="html", case=f"watch report, {FEATURES} features x {n} windows: size", value=wsize / MB,
            unit="MB", ratio_text=f"{wsize / MB:.2f} MB", target="< 2 MB", ok=wsize < 2 * MB),
        Row(group="html", case=f"'streamdrift report' of {counts.stat().st_size / MB:.0f} MB of watch JSON Lines "
            f"(--counts), {FEATURES} x {n}: whole command", value=float(np.median(wall)), unit="s",
            ratio_text=f"median {np.median(wall):.2f} s ({min(wall):.2f}-{max(wall):.2f})",
            extra={"samples": wall}),
    ]


def _vs_jsonl(t, case: str, name: str, limit: float | None = None) -> Row:
    """A time row against writing the same records as JSON Lines; ``limit``: a target in seconds."""
    row = ratio_row(group="html", case=case, t=t, name=name, baseline="jsonl",
                    baseline_name="the same records as JSON Lines")
    row.ratio_text = f"{row.ratio_text} of the JSON Lines"
    if limit is not None:
        row.target, row.ok = f"< {limit:g} s", row.value < limit
    return row


def _windows(count: int):
    """``count`` real watch windows of 100 real FeatureDrift results (histograms of random data)."""
    from streamdrift.report import FeatureDrift
    from streamdrift.state import Histogram
    from streamdrift.watch.windows import Window

    rng = np.random.default_rng(13)
    out = []
    for w in range(count):
        shift, features = 1.0 if w % 3 else 0.3, []
        for i in range(FEATURES):
            x, y = rng.normal(0, 1, 2000), rng.normal(shift * (i % 7) / 7, 1, 2000)
            lo, hi = float(min(x.min(), y.min())), float(max(x.max(), y.max()))
            ref = Histogram.for_range(lo, hi, BINS).update(x)
            cur = Histogram.for_range(lo, hi, BINS).update(y)
            features.append(FeatureDrift.from_histograms(f"feature_{i:03d}", ref, cur, 0.1))
        out.append(Window(w, w * 1000, (w + 1) * 1000, False, features))
    return out


def _write_jsonl(path: Path, record_lists) -> None:
    with open(path, "w") as fh:
        for records in record_lists:
            fh.writelines(json.dumps(r) + "\n" for r in records)

