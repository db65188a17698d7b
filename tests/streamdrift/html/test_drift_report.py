"""``compare --html`` and ``streamdrift report``, opened in headless Chromium: the numbers shown
equal the JSON output, nothing is fetched, untrusted names stay text."""

import json
import math
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from streamdrift.demo import example_tables
from tests.browser import blank
from tests.streamdrift.cli_helpers import modules_loaded
from tests.streamdrift.html.conftest import TABLE, assert_clean, shown, streamdrift

HOSTILE = ["<script>alert(1)</script>", "\"><img src=x onerror=alert(2)>", "a&amp;b $x^2$"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("html")
    ref, cur = example_tables()
    rng = np.random.default_rng(3)
    n = ref.num_rows
    nan_cur = np.full(n, np.nan)
    for i, name in enumerate(HOSTILE):
        ref = ref.append_column(name, pa.array(rng.normal(0, 1, n)))
        cur = cur.append_column(name, pa.array(rng.normal(i * 0.5, 1, n)))
    ref = ref.append_column("gone", pa.array(rng.normal(0, 1, n)))
    cur = cur.append_column("gone", pa.array(nan_cur))
    ref = ref.append_column("constant", pa.array(np.full(n, 7.0)))
    cur = cur.append_column("constant", pa.array(np.full(n, 7.0)))
    cities = np.array([f"city {i}" for i in range(29)] + ["<script>alert(3)</script>"])
    ref = ref.append_column("city", pa.array(cities[rng.integers(0, 25, n)]))
    cur = cur.append_column("city", pa.array(cities[rng.integers(5, 30, n)]))
    pq.write_table(ref, d / "ref.parquet")
    pq.write_table(cur, d / "cur.parquet")
    return d


@pytest.fixture(scope="module")
def compared(files):
    out = files / "compare.html"
    p = streamdrift("compare", files / "ref.parquet", files / "cur.parquet", "--format", "json", "--counts",
                    "--html", out)
    assert p.returncode == 1, p.stderr
    records = [json.loads(line) for line in p.stdout.decode().splitlines()]
    (files / "compare.jsonl").write_bytes(p.stdout)
    return out, {r["feature"]: r for r in records}


def test_numbers_shown_equal_the_json_output(browser, compared):
    out, records = compared
    page = browser.open(out, TABLE)
    assert_clean(page)
    dom = json.loads(page.value)
    assert [r["feature"] for r in dom["rows"]] == _expected_order(records)
    for row in dom["rows"]:
        r = records[row["feature"]]
        for key in ("kl", "psi", "js"):
            value = shown(row[key])
            assert (value is None) == (r.get(key) is None), (row, key)
            if value is not None:
                assert math.isclose(value, r[key], rel_tol=1e-5, abs_tol=1e-12), (row, key)
        for key in ("reference_count", "current_count", "missing_reference", "missing_current"):
            assert int(row[key]) == r[key]
        assert row["drifted"] == ("yes" if r["drifted"] else "no")
    drifted = sum(r["drifted"] for r in records.values())
    assert dom["share"] == [str(drifted), str(len(records))]


def test_a_chart_and_the_exact_bins_per_feature(browser, compared):
    out, records = compared
    dom = json.loads(browser.open(out, TABLE).value)
    defined = [s for s in dom["sections"] if records[s["feature"]]["kl"] is not None]
    assert len(dom["sections"]) == len(records) and len(defined) == len(records) - 1
    for section in defined:
        r = records[section["feature"]]
        assert section["distribution"] == 1 and section["timeline"] == 0
        if r["kind"] == "categorical":
            continue
        edges = r["edges"]
        assert len(edges) == 21 and edges == np.linspace(edges[0], edges[-1], 21).tolist()
        assert [int(b[1]) for b in section["bins"]] == r["reference_counts"]
        assert [int(b[2]) for b in section["bins"]] == r["current_counts"]
        bounds = [b[0].strip("[])").split(", ") for b in section["bins"]]
        assert [float(lo) for lo, _ in bounds] + [float(bounds[-1][1])] == edges  # repr: exact


def test_categories_show_the_top_twenty_and_other(browser, compared):
    out, records = compared
    r = records["city"]
    assert r["kind"] == "categorical" and len(r["values"]) == 30 and r["new_categories"] == 5
    dom = json.loads(browser.open(out, TABLE).value)
    (section,) = [s for s in dom["sections"] if s["feature"] == "city"]
    counts = {v: (a, b) for v, a, b in zip(r["values"], r["reference_counts"], r["current_counts"])}
    top, other = section["bins"][:20], section["bins"][20]
    assert [(int(a), int(b)) for _, a, b in top] == [counts[name] for name, _, _ in top]
    assert other[0] == "other (10 categories)"
    rest = [c for name, c in counts.items() if name not in {t[0] for t in top}]
    assert (int(other[1]), int(other[2])) == (sum(a for a, _ in rest), sum(b for _, b in rest))
    shares = [a / r["reference_count"] + b / r["current_count"] for _, a, b in ((n, *counts[n]) for n, _, _ in top)]
    assert shares == sorted(shares, reverse=True)


def test_undefined_kl_shows_a_dash_and_the_reason(browser, compared):
    out, records = compared
    assert records["gone"]["kl"] is None
    page = browser.open(out, "document.querySelector('section[data-name=\"gone\"] .reason').textContent")
    assert page.value == records["gone"]["reason"]


def test_hostile_feature_names_show_as_text(browser, compared):
    out, records = compared
    page = browser.open(out, TABLE)
    assert_clean(page)  # no alert() dialog, no console error
    dom = json.loads(page.value)
    assert set(HOSTILE) <= {r["feature"] for r in dom["rows"]}
    assert set(HOSTILE) <= {s["feature"] for s in dom["sections"]}
    assert dom["scripts"] == 1 and dom["images"] == 0  # only the report's own search script
    assert "<script>alert(1)</script>" not in out.read_text()


def test_report_command_draws_the_same_page_from_saved_json(browser, compared, files):
    out, _ = compared
    again = files / "again.html"
    p = streamdrift("report", files / "compare.jsonl", "-o", again)
    assert p.returncode == 0 and p.stderr.decode().startswith(f"wrote {again}")
    first, second = (json.loads(browser.open(path, TABLE).value) for path in (out, again))
    assert first == second


def test_report_from_stdin_and_without_counts(browser, files):
    p = streamdrift("compare", files / "ref.parquet", files / "cur.parquet", "--format", "json")
    out = files / "nocounts.html"
    assert streamdrift("report", "-", "-o", out, input=p.stdout).returncode == 0
    page = browser.open(out, TABLE)
    assert_clean(page)
    dom = json.loads(page.value)
    assert len(dom["rows"]) == len(p.stdout.splitlines())
    assert all(s["distribution"] == 0 for s in dom["sections"])
    assert not blank(page.screenshot)


def test_screenshot_is_not_blank(browser, compared):
    assert not blank(browser.open(compared[0]).screenshot)


def test_text_output_is_unchanged_by_html(files, compared):
    plain = streamdrift("compare", files / "ref.parquet", files / "cur.parquet")
    with_html = streamdrift("compare", files / "ref.parquet", files / "cur.parquet", "--html", files / "x.html")
    assert (plain.stdout, plain.stderr, plain.returncode) == (with_html.stdout, with_html.stderr, 1)


@pytest.mark.parametrize("content, message", [
    ("not json\n", "x.jsonl:1 is not JSON"),
    ('{"kl": 1}\n', "x.jsonl:1 is not a feature record"),
    ("", "x.jsonl has no records"),
])
def test_bad_jsonl_is_one_line_exit_2(tmp_path, content, message):
    (tmp_path / "x.jsonl").write_text(content)
    p = streamdrift("report", tmp_path / "x.jsonl", "-o", tmp_path / "r.html")
    assert p.returncode == 2 and message in p.stderr.decode() and p.stderr.decode().count("\n") == 1
    assert not (tmp_path / "r.html").exists()


def test_unwritable_output_is_one_line_exit_2(files, tmp_path):
    p = streamdrift("report", files / "compare.jsonl", "-o", tmp_path / "no" / "such" / "r.html")
    assert p.returncode == 2 and "cannot write the HTML report" in p.stderr.decode()


def _expected_order(records):
    def key(name):
        r = records[name]
        return (not r["drifted"], r["kl"] is None, -(r["kl"] or 0.0))

    return sorted(records, key=key)


@pytest.mark.parametrize("missing", ["jinja2", "matplotlib"])
@pytest.mark.parametrize("command", ["compare", "report"])
def test_without_the_extra_html_says_how_to_install_it(files, compared, missing, command):
    args = ([str(files / "ref.parquet"), str(files / "cur.parquet"), "--html", str(files / "n.html")]
            if command == "compare" else [str(files / "compare.jsonl"), "-o", str(files / "n.html")])
    code = f"import sys; sys.modules[{missing!r}] = None; from streamdrift.cli import main; main({[command, *args]!r})"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=300)
    assert p.returncode == 2 and p.stdout == b""
    assert p.stderr.decode() == (f"error: --html needs the report extra ({missing} is not installed): "
                                 "run pip install 'streamdrift[report]'\n")
    assert not (files / "n.html").exists()


def test_the_monitor_imports_no_report_library(files):
    args = ["compare", files / "ref.parquet", files / "cur.parquet", "--format", "json", "--counts"]
    assert modules_loaded(args, ("jinja2", "matplotlib", "markupsafe")) == []


def test_a_hundred_features_fit_in_two_megabytes(tmp_path):
    rng = np.random.default_rng(5)
    ref = pa.table({f"feature_{i:03d}": rng.normal(0, 1, 5000) for i in range(100)})
    cur = pa.table({f"feature_{i:03d}": rng.normal(i / 100, 1, 5000) for i in range(100)})
    pq.write_table(ref, tmp_path / "ref.parquet")
    pq.write_table(cur, tmp_path / "cur.parquet")
    p = streamdrift("compare", tmp_path / "ref.parquet", tmp_path / "cur.parquet", "--html", tmp_path / "r.html")
    assert p.returncode == 1, p.stderr
    assert (tmp_path / "r.html").stat().st_size < 2_000_000
