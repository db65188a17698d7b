"""``streamdrift-grader report DIR --html``: a real batch (the grader's run command against a
scripted Messages API on 127.0.0.1), its page opened in headless Chromium."""

import json
import math

import pytest

from tests.browser import blank
from tests.grader.runner_fixtures import fake_api
from tests.grader.test_runner_cli import grader_cli
from tests.streamdrift.html.conftest import assert_clean

HOSTILE_TEXT = "<script>alert(1)</script> and <img src=x onerror=alert(2)>"

PAGE = """JSON.stringify({
  rate: document.querySelector('.pass-rate').textContent,
  ci: [document.querySelector('.ci-low').textContent, document.querySelector('.ci-high').textContent],
  pass_at: Array.from(document.querySelectorAll('#pass-at-k tbody tr')).map(
    tr => [tr.querySelector('.k').textContent, tr.querySelector('.value').textContent]),
  reasons: Array.from(document.querySelectorAll('#reasons tbody tr')).map(
    tr => [tr.querySelector('.code-name').textContent, tr.querySelector('.count').textContent]),
  tokens: [document.querySelector('.input-tokens').textContent, document.querySelector('.output-tokens').textContent],
  runs: Array.from(document.querySelectorAll('section.run')).map(s => ({
    id: s.querySelector('.run-id').textContent, status: s.querySelector('.status').textContent,
    coloured: s.querySelectorAll('.code span').length, cases: s.querySelectorAll('tr.case').length,
    messages: Array.from(s.querySelectorAll('.message pre')).map(p => p.textContent)})),
  charts: document.querySelectorAll('figure.chart svg').length,
  scripts: document.querySelectorAll('script').length, images: document.querySelectorAll('img').length,
})"""


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("runs")
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(fake_api.SCENARIOS, "hostile", [
            fake_api.reply("tool_use", fake_api.text(HOSTILE_TEXT),
                           fake_api.tool("submit_answer", "toolu_h1", code=fake_api.REVERSED + "\n# " + HOSTILE_TEXT)),
        ])
        api = fake_api.FakeAPI(["correct", "wrong", "hostile"])
        server, url = api.serve()
        try:
            proc = grader_cli("run", "--runs", "3", "--sequential", "--log-dir", str(tmp / "batch"), cwd=tmp,
                              ANTHROPIC_API_KEY="test-key", ANTHROPIC_BASE_URL=url)
        finally:
            server.shutdown()
            server.server_close()
    assert proc.returncode == 0, proc.stderr
    out = tmp / "runs.html"
    report = grader_cli("report", str(tmp / "batch"), "--format", "json", "--html", str(out), cwd=tmp)
    assert report.returncode == 0, report.stderr
    records = [json.loads(line) for line in (tmp / "batch" / "runs.jsonl").read_text().splitlines()]
    return out, json.loads(report.stdout), records


def test_the_numbers_shown_equal_the_json_summary(browser, batch):
    out, summary, records = batch
    page = browser.open(out, PAGE)
    assert_clean(page)
    dom = json.loads(page.value)
    assert float(dom["rate"]) == pytest.approx(summary["pass_rate"] * 100, abs=0.05)
    low, high = summary["pass_rate_95ci"]
    assert [float(x) for x in dom["ci"]] == pytest.approx([low * 100, high * 100], abs=0.05)
    assert [(int(k), float(v)) for k, v in dom["pass_at"]] == [
        (int(k), pytest.approx(v, rel=1e-5)) for k, v in summary["pass_at_k"].items()]
    assert [(c, int(n)) for c, n in dom["reasons"]] == list(summary["reasons"].items())
    assert [int(t) for t in dom["tokens"]] == [summary["input_tokens"], summary["output_tokens"]]
    assert [(int(r["id"]), r["status"]) for r in dom["runs"]] == [(r["run_id"], r["status"]) for r in records]
    assert dom["charts"] == 2  # pass@k and reasons
    assert not blank(page.screenshot)


def test_each_run_shows_its_transcript_code_and_cases(browser, batch):
    out, _, records = batch
    dom = json.loads(browser.open(out, PAGE).value)
    for run, record in zip(dom["runs"], records):
        assert run["coloured"] > 10  # Pygments' spans: the code is coloured
        assert run["cases"] >= len(record["grade"]["cases"])
        tool_calls = [b for m in record["messages"] if isinstance(m["content"], list)
                      for b in m["content"] if b.get("type") == "tool_use"]
        assert len(run["messages"]) >= len(record["messages"]) and tool_calls
        assert math.isclose(record["score"], sum(c["passed"] for c in record["grade"]["cases"])
                            / len(record["grade"]["cases"]))


def test_model_text_with_html_shows_as_text(browser, batch):
    out, _, _ = batch
    page = browser.open(out, PAGE)
    assert_clean(page)  # no alert() dialog
    dom = json.loads(page.value)
    assert HOSTILE_TEXT in dom["runs"][2]["messages"]
    assert dom["scripts"] == 1 and dom["images"] == 0
