"""``watch --html``: the report of a watch, rewritten atomically as windows complete.

It keeps, per feature, the KL and the decision of every window (17 bytes a feature and
window) and the latest window's records with their counts. A rewrite happens after a
window when at least ten times the last rewrite's duration has passed since it (so writing
takes at most about a tenth of the watch's time), and always at the end.
"""

import math
import time
from array import array

from streamdrift.html.charts import Charts
from streamdrift.html.drift import drift_html
from streamdrift.html.records import with_counts
from streamdrift.html.render import write_atomic

SLOWDOWN = 10  # rewrite no sooner than this many times the last rewrite's duration


class WatchReport:
    """Collects windows (``add``) and keeps ``path`` showing the latest (``write``)."""

    def __init__(self, path: str, sources: list[str], clock=time.monotonic):
        self.path = path
        self.sources = sources
        self.clock = clock
        self.history: dict[str, tuple] = {}  # feature -> (windows, KLs with NaN for undefined, flags)
        self.latest: list[dict] = []
        self.pending = False
        self.writes = 0
        self._next = 0.0
        self._charts = None

    def add(self, window) -> None:
        """Note one window; rewrite the file if the last rewrite is old enough."""
        self.note(window)
        if self.clock() >= self._next:
            self.write()

    def note(self, window) -> None:
        """Keep one window's KLs and, as the latest, its records (no rewrite)."""
        self.latest = with_counts(window.records(), window.features)
        for r in self.latest:
            windows, kls, flags = self.history.setdefault(r["feature"], (array("q"), array("d"), array("b")))
            windows.append(r["window"])
            kls.append(math.nan if r["kl"] is None else r["kl"])
            flags.append(bool(r["drifted"]))
        self.pending = True

    def write(self) -> None:
        """Rewrite the file now with every window so far (no-op when nothing new arrived)."""
        if not self.pending:
            return
        start = self.clock()
        self._charts = self._charts or Charts()
        html = drift_html(self.latest, "streamdrift watch", self.sources, self._charts, self.history)
        write_atomic(self.path, html)
        end = self.clock()
        self._next = end + SLOWDOWN * (end - start)
        self.pending = False
        self.writes += 1
