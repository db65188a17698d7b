"""A real headless Chromium for the HTML report tests, and the DOM readers they share."""

import subprocess
import sys

import pytest

from tests.browser import Browser, chromium

# Read in the page: the summary table's rows, the charts, the bins tables (text as shown).
TABLE = """JSON.stringify({
  share: [document.querySelector('.drifted-count').textContent, document.querySelector('.feature-count').textContent],
  rows: Array.from(document.querySelectorAll('#features tbody tr')).map(tr => {
    const cell = c => { const td = tr.querySelector('td.' + c); return td ? td.textContent : null; };
    return {feature: tr.querySelector('td.name').textContent, kind: cell('kind'), kl: cell('kl'), psi: cell('psi'),
            js: cell('js'), reference_count: cell('reference_count'), current_count: cell('current_count'),
            missing_reference: cell('missing_reference'), missing_current: cell('missing_current'),
            drifted: cell('drifted'), windows: cell('windows')};
  }),
  sections: Array.from(document.querySelectorAll('section.feature')).map(s => ({
    feature: s.querySelector('.feature-name').textContent,
    distribution: s.querySelectorAll('figure.distribution svg').length,
    timeline: s.querySelectorAll('figure.timeline svg').length,
    bins: Array.from(s.querySelectorAll('table.bins tbody tr')).map(
      tr => Array.from(tr.querySelectorAll('td')).map(td => td.textContent)),
  })),
  scripts: document.querySelectorAll('script').length,
  images: document.querySelectorAll('img').length,
})"""


@pytest.fixture(scope="session")
def browser():
    if chromium() is None:
        pytest.fail("Chromium is not installed: apt-get update && apt-get install -y chromium (.ci/run does)")
    b = Browser()
    yield b
    b.close()


def streamdrift(*args, input=None):
    return subprocess.run(
        [sys.executable, "-m", "streamdrift", *map(str, args)], input=input, capture_output=True, timeout=300,
    )


def shown(value: str) -> float | None:
    """A statistic as the page shows it: 6 significant digits, or a dash when undefined."""
    return None if value == "\u2014" else float(value)


def assert_clean(page) -> None:
    """No console error, no exception, no dialog; nothing fetched but the file itself."""
    assert page.errors == []
    assert page.failed == []
    assert all(url.startswith("file://") for url in page.requests), page.requests
    assert len(page.requests) == 1
