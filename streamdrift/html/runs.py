"""``streamdrift-grader report DIR --html``: a batch of graded runs as one self-contained page.

It reads plain dicts, the grader's run records (``runs.jsonl``) and its summary
(``Summary.to_dict()``), so it imports nothing from the grader. Transcripts and code are
untrusted text: they go through jinja2's autoescaping; code is coloured by Pygments, whose
HTML formatter escapes it.
"""

from dataclasses import dataclass, field

from markupsafe import Markup

from streamdrift.html.charts import Charts
from streamdrift.html.render import render, write_atomic


@dataclass
class RunView:
    record: dict
    code: Markup | None = None
    messages: list = field(default_factory=list)  # (role, kind, text)
    cases: list = field(default_factory=list)  # (name, passed, reasons, [(column, expected, got)])


def runs_html(records: list[dict], summary: dict, explain: dict, source: str) -> str:
    """The page: pass rate and interval, pass@k, reasons as bars, tokens and cost, every run."""
    charts = Charts()
    with charts.style():
        pass_at = sorted((int(k), v) for k, v in (summary.get("pass_at_k") or {}).items())
        curve = Markup(charts.curve([k for k, _ in pass_at], [v for _, v in pass_at])) if len(pass_at) > 1 else None
        reasons = summary.get("reasons") or {}
        bars = Markup(charts.bars(list(reasons), list(reasons.values()))) if reasons else None
    formatter = _formatter()
    runs = [_run(r, formatter) for r in records]
    return render("runs.html.j2", title="streamdrift-grader report", sources=[source], summary=summary,
                  pass_at=pass_at, curve=curve, bars=bars, reasons=reasons, explain=explain, runs=runs,
                  code_style=Markup(formatter.get_style_defs(".code")) if formatter else "")


def write_runs(path: str, records: list[dict], summary: dict, explain: dict, source: str) -> None:
    write_atomic(path, runs_html(records, summary, explain, source))


def _formatter():
    try:
        from pygments.formatters import HtmlFormatter
    except ImportError:  # colouring is a nicety: the code is shown plain without Pygments
        return None
    return HtmlFormatter(cssclass="code", style="default")


def _run(record: dict, formatter) -> RunView:
    view = RunView(record=record)
    code = record.get("submission")
    if code:
        if formatter is not None:
            from pygments import highlight
            from pygments.lexers import PythonLexer

            view.code = Markup(highlight(code, PythonLexer(), formatter))
        else:
            view.code = Markup("<pre class='code'>") + code + Markup("</pre>")
    view.messages = [m for message in record.get("messages") or [] for m in _blocks(message)]
    for case in (record.get("grade") or {}).get("cases") or []:
        expected = case.get("expected") or {}
        got = case.get("got")
        columns = [(c, v, got.get(c) if isinstance(got, dict) else None) for c, v in expected.items()]
        view.cases.append((case.get("name"), case.get("passed"), case.get("reasons") or [], columns,
                           None if isinstance(got, dict) else got))
    return view


def _blocks(message: dict):
    """A Messages API message as (role, kind, text) parts: text, tool calls and their results."""
    import json

    role, content = message.get("role", "?"), message.get("content")
    if isinstance(content, str):
        yield role, "text", content
        return
    for block in content or []:
        kind = block.get("type", "?")
        if kind == "text":
            yield role, "text", block.get("text", "")
        elif kind == "tool_use":
            yield role, f"tool call: {block.get('name')}", json.dumps(block.get("input"), indent=1)
        elif kind == "tool_result":
            text = block.get("content")
            if isinstance(text, list):
                text = "\n".join(b.get("text", "") for b in text if isinstance(b, dict))
            yield role, "tool error" if block.get("is_error") else "tool result", str(text)
        else:
            yield role, kind, json.dumps(block)[:2000]
