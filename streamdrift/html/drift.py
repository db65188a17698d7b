"""Drift reports: ``compare --html``, ``watch --html`` and ``streamdrift report FILE.jsonl``."""

from streamdrift.html.charts import Charts
from streamdrift.html.records import read_jsonl, records
from streamdrift.html.render import render, write_atomic
from streamdrift.html.view import build


def drift_html(rows: list[dict], title: str, sources: list[str], charts: Charts | None = None,
               history: dict | None = None) -> str:
    """The report of these JSON records (compare's, or watch's with ``"window"``) as HTML;
    ``history`` holds a watch's timelines when ``rows`` are only its latest window."""
    charts = charts or Charts()
    with charts.style():
        context = build(rows, charts, title, sources, history)
    return render("drift.html.j2", **context)


def write_compare(path: str, report, sources: list[str]) -> None:
    """``compare --html``: the report of one comparison."""
    write_atomic(path, drift_html(records(report), "streamdrift compare", sources))


def write_from_jsonl(path: str, jsonl: str) -> int:
    """``streamdrift report``: the report of a saved ``--format json`` output; its row count."""
    rows = read_jsonl(jsonl)
    kind = "watch" if any("window" in r for r in rows) else "compare"
    write_atomic(path, drift_html(rows, f"streamdrift {kind}", [jsonl]))
    return len(rows)
