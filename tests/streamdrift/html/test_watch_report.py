"""The watch report: KL over windows, the latest window's bins, rewritten atomically and not too often."""

import json
import math

import numpy as np
import pyarrow as pa
import pytest

import streamdrift
from streamdrift.html.records import with_counts
from streamdrift.html.watching import SLOWDOWN, WatchReport
from streamdrift.watch.windows import Window
from tests.streamdrift.html.conftest import TABLE, assert_clean, shown
from tests.streamdrift.html.conftest import streamdrift as cli

WINDOWS = 12


@pytest.fixture(scope="module")
def windows():
    """Real compare results of 12 windows of 500 rows; from window 6 on, age shifts."""
    rng = np.random.default_rng(11)
    reference = pa.table({"age": rng.normal(40, 10, 4000), "<b>x</b>": rng.normal(0, 1, 4000)})
    out = []
    for w in range(WINDOWS):
        current = pa.table({"age": rng.normal(40 + (8 if w >= 6 else 0), 10, 500),
                            "<b>x</b>": rng.normal(0, 1, 500)})
        out.append(Window(w, w * 500, (w + 1) * 500, False, streamdrift.compare(reference, current).features))
    return out


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        self.now += 1.0  # each reading one second later: a rewrite "takes" one second
        return self.now


def test_timelines_and_latest_bins_match_the_records(browser, windows, tmp_path):
    out = tmp_path / "watch.html"
    report = WatchReport(str(out), ["stream/"])
    for w in windows:
        report.add(w)
    report.write()
    page = browser.open(out, TABLE)
    assert_clean(page)
    dom = json.loads(page.value)
    latest = {r["feature"]: r for r in with_counts(windows[-1].records(), windows[-1].features)}
    assert {r["feature"] for r in dom["rows"]} == set(latest)
    for row in dom["rows"]:
        r = latest[row["feature"]]
        assert math.isclose(shown(row["kl"]), r["kl"], rel_tol=1e-5)
        assert row["drifted"] == ("yes" if r["drifted"] else "no")
        flags = [f.drifted for w in windows for f in w.features if f.feature == row["feature"]]
        assert row["windows"] == f"{sum(flags)} of {WINDOWS}"
    for section in dom["sections"]:
        assert section["distribution"] == 1 and section["timeline"] == 1
        assert [int(b[1]) for b in section["bins"]] == latest[section["feature"]]["reference_counts"]
        assert [int(b[2]) for b in section["bins"]] == latest[section["feature"]]["current_counts"]
    assert sum(f.drifted for f in windows[-1].features) == int(dom["share"][0])


def test_rewritten_after_a_window_once_the_last_rewrite_is_old_enough(windows, tmp_path):
    out = tmp_path / "watch.html"
    clock = Clock()
    report = WatchReport(str(out), ["stream/"], clock=clock)
    report.add(windows[0])
    assert report.writes == 1 and '<span class="window-count">1</span>' in out.read_text()
    for w in windows[1:SLOWDOWN + 2]:  # the rewrite took 1 s: the next comes 10 s later
        report.add(w)
    assert report.writes == 2
    report.write()
    assert report.writes == 3 and f'<span class="window-count">{SLOWDOWN + 2}</span>' in out.read_text()
    report.write()  # nothing new: no rewrite
    assert report.writes == 3
    assert [p.name for p in tmp_path.iterdir()] == ["watch.html"]  # no temporary file left behind


@pytest.fixture(scope="module")
def watched(tmp_path_factory):
    """`streamdrift watch --html --format json --counts` of the demo stream (8 parts, windows of 2,500 rows)."""
    from streamdrift.demo import write_stream

    d = tmp_path_factory.mktemp("watch-cli")
    ref, stream = write_stream(d)
    out = d / "watch.html"
    p = cli("watch", "-r", ref, stream, "--window", 2500, "--format", "json", "--counts", "--html", out)
    assert p.returncode == 1, p.stderr
    (d / "watch.jsonl").write_bytes(p.stdout)
    return d, out, [json.loads(line) for line in p.stdout.decode().splitlines()]


def test_watch_html_shows_the_last_window_of_its_json_output(browser, watched):
    d, out, records = watched
    page = browser.open(out, TABLE)
    assert_clean(page)
    dom = json.loads(page.value)
    last = max(r["window"] for r in records)
    latest = {r["feature"]: r for r in records if r["window"] == last}
    assert last == 15 and {r["feature"] for r in dom["rows"]} == set(latest)
    for row in dom["rows"]:
        r = latest[row["feature"]]
        assert math.isclose(shown(row["kl"]), r["kl"], rel_tol=1e-5)
        flags = [x["drifted"] for x in records if x["feature"] == row["feature"]]
        assert row["windows"] == f"{sum(flags)} of {len(flags)}"
    for section in dom["sections"]:
        assert section["distribution"] == 1 and section["timeline"] == 1
        assert [int(b[1]) for b in section["bins"]] == latest[section["feature"]]["reference_counts"]


def test_report_of_watch_json_draws_the_same_page(browser, watched):
    d, out, _ = watched
    again = d / "again.html"
    assert cli("report", d / "watch.jsonl", "-o", again).returncode == 0
    first, second = (json.loads(browser.open(path, TABLE).value) for path in (out, again))
    assert first == second
