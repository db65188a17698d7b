"""Tumbling windows of rows, each scored against the reference: ``Window`` and ``Watcher``.

Every row fed is in exactly one window of ``window`` rows; the last one may be partial.
How a feature's window is binned is its edges mode, one class each:

* ``CombinedEdges`` (``edges="combined"``, the default): the edges come from the combined
  range of the reference and that window, exactly as ``compare`` does (SPEC section 2), so
  a window's KL equals ``compare(reference, window)``. The window's values are kept until
  it closes (8 bytes x window rows); the reference's counts for its edges come from the
  reference profile.
* ``ReferenceEdges`` (``edges="reference"``): edges fixed once from the reference's range;
  current values outside it go to the end bins and are counted as ``out_of_range``.
  Constant memory, fully incremental.

A categorical feature's window is ``CategoryWindow`` in either mode: its ``Categories``
(at most ``max_categories`` entries), united with the reference's when it closes, exactly
as ``compare`` does (SPEC section 2b).
"""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pyarrow as pa

from streamdrift.categories import Categories
from streamdrift.comparison import check_bins, check_threshold, thread_count
from streamdrift.convert import CATEGORICAL, kernel_values
from streamdrift.defaults import BINS, EPS, MAX_CATEGORIES, THRESHOLD, WINDOW
from streamdrift.errors import DriftError
from streamdrift.report import FeatureDrift, undefined_reason
from streamdrift.state import Histogram, Range
from streamdrift.stats import binnable_edges, divergences
from streamdrift.watch.reference import Reference, check_edges


@dataclass
class Window:
    """The drift of every feature in one window of rows ``[start_row, end_row)``."""

    index: int
    start_row: int
    end_row: int
    partial: bool
    features: list[FeatureDrift]

    @property
    def rows(self) -> int:
        return self.end_row - self.start_row

    @property
    def drifted(self) -> list[FeatureDrift]:
        return [f for f in self.features if f.drifted]

    def records(self) -> list[dict]:
        """SPEC JSON records, one per feature, with the window's keys added."""
        extra = dict(window=self.index, start_row=self.start_row, end_row=self.end_row, partial=self.partial)
        return [{**f.to_dict(), **extra} for f in self.features]

    def header(self) -> str:
        """``window 3 rows 300000-399999: 2 of 5 features drifted`` (row range inclusive)."""
        last = self.end_row - 1
        text = f"window {self.index} rows {self.start_row}-{last}"
        if self.partial:
            text += " (partial)"
        text += f": {len(self.drifted)} of {len(self.features)} features drifted"
        outside = sum(f.out_of_range or 0 for f in self.features)
        if outside:
            text += f"; {outside} values outside the reference range"
        return text


class ReferenceEdges:
    """One feature's window on edges fixed from the reference's range; outside values are ``out_of_range``."""

    arrow = False  # ``add`` takes ``(values, validity)`` chunks (``convert.kernel_values``)

    def __init__(self, reference: Reference, feature: str, bins: int):
        self.feature = feature
        r = reference.range(feature)
        edges, self._reason = binnable_edges(r.lo, r.hi, bins)
        self._ref = reference.histogram(feature, edges)
        self._cur = Histogram(self._ref.edges)

    def add(self, chunk) -> None:
        self._cur.add(*chunk)

    def histograms(self) -> tuple[Histogram, Histogram, str | None]:
        """The window's ``(reference, current, reason)`` (``_scores`` scores them); the next window starts empty."""
        cur, self._cur = self._cur, Histogram(self._ref.edges)
        return self._ref, cur, self._reason


class CombinedEdges:
    """One feature's window on the edges of the combined range of the reference and the window.

    Every value is counted once, on the window's own edges. While the feature's windows stay
    inside the reference's range, the combined range *is* the reference's, so the window is
    counted on arrival against the reference's edges. A chunk that leaves the range ends
    that: from it on, the window's chunks are only kept, and when the window closes they are
    ranged (the chunks before it lie inside the reference's range, so they cannot widen the
    combined range), then the window is counted on the edges of that range, each feature's
    window in turn: its values (8 bytes x window rows) are still in cache for the count after
    the range pass, which they would not be had each chunk been ranged as it arrived. The next
    window starts the same way when this one stayed inside; otherwise it is kept from its start.
    Chunks come converted once per batch (``Histogram.add``, ``Range.add`` take them as they
    are): a window's chunks are a few per batch, and the per-call work is most of what counting
    them costs besides.
    """

    arrow = False

    def __init__(self, reference: Reference, feature: str, bins: int):
        self.feature = feature
        self.reference = reference
        self.bins = bins
        self._range = reference.range(feature)
        edges, reason = binnable_edges(self._range.lo, self._range.hi, bins)
        binnable = reason is None and not self._range.empty
        self._ref = reference.histogram(feature, edges) if binnable else None
        self._inside = binnable  # the guess for the next window: counted on arrival
        self._start()

    def _start(self):
        self._chunks = []
        self._early = Histogram(self._ref.edges) if self._inside else None
        self._left = 0  # the first chunk that may lie outside the reference's range

    def add(self, chunk) -> None:
        self._chunks.append(chunk)
        early = self._early
        if early is not None and not early.add(*chunk):
            self._early = None  # left the reference's range: ranged and counted when the window closes
            self._left = len(self._chunks) - 1

    def histograms(self) -> tuple[Histogram, Histogram, str | None]:
        """The window's ``(reference, current, reason)`` (``_scores`` scores them); the next window starts empty."""
        try:
            if self._early is not None:
                return self._ref, self._early, None
            return self._count()
        finally:
            self._start()

    def _count(self) -> tuple[Histogram, Histogram, str | None]:
        seen = Range()
        for chunk in self._chunks[self._left :]:
            seen.add(*chunk)
        inside = seen.empty or (self._range.lo <= seen.lo and seen.hi <= self._range.hi)
        self._inside = self._ref is not None and inside
        if self._inside:
            edges, reason, ref = self._ref.edges, None, self._ref
        else:
            combined = self._range + seen
            edges, reason = binnable_edges(combined.lo, combined.hi, self.bins)
            ref = self.reference.histogram(self.feature, edges)
        cur = Histogram(edges)
        for chunk in self._chunks:
            cur.add(*chunk)
        return ref, cur, reason


class CategoryWindow:
    """One categorical feature's window: its ``Categories``, united with the reference's when it closes."""

    arrow = True  # ``add`` takes Arrow chunks: counted by value (dictionaries decoded), no Python objects

    def __init__(self, reference: Categories, feature: str, max_categories: int):
        self.feature = feature
        self.max_categories = max_categories
        self._ref = reference
        self._cur = Categories(max_categories)

    def add(self, values: pa.Array) -> None:
        self._cur.update(values)

    def close(self, threshold: float) -> FeatureDrift:
        """The window's drift; the next window starts empty."""
        cur, self._cur = self._cur, Categories(self.max_categories)
        return FeatureDrift.from_categories(self.feature, self._ref, cur, threshold, EPS)


MODES = {"combined": CombinedEdges, "reference": ReferenceEdges}


def window_of(reference: Reference, feature: str, edges: str, bins: int, max_categories: int):
    """The window class that counts ``feature``: by its kind, then by the edges mode."""
    if reference.kinds[feature] == CATEGORICAL:
        return CategoryWindow(reference.categories(feature), feature, max_categories)
    return MODES[edges](reference, feature, bins)


class Watcher:
    """Cuts record batches into tumbling windows and scores each against the reference.

    ``feed(batch)`` returns the windows it completed; ``finish()`` the partial last one.
    ``first_row`` and ``first_window`` number the rows and windows of a watch that
    continues an earlier one.
    """

    def __init__(
        self,
        reference: Reference,
        *,
        window: int = WINDOW,
        edges: str = "combined",
        bins: int = BINS,
        threshold: float = THRESHOLD,
        max_categories: int = MAX_CATEGORIES,
        threads: int | None = None,
        first_row: int = 0,
        first_window: int = 0,
    ):
        if isinstance(window, bool) or not isinstance(window, int) or window < 1:
            raise DriftError(f"window must be a whole number of rows >= 1, got {window!r}")
        check_edges(edges)
        if edges == "combined" and reference.profile is None:
            raise DriftError("edges='combined' needs the reference as a profile; load it with edges='combined'")
        self.reference = reference
        self.features = reference.features
        self.window = window
        self.edges = edges
        self.threshold = check_threshold(threshold)
        self.first_row = self.rows = self._start = first_row
        self.windows = first_window
        self.drifted_windows = 0
        self._filled = 0
        bins = check_bins(bins)
        Categories(max_categories)  # checks the cap
        self._modes = [window_of(reference, f, edges, bins, max_categories) for f in self.features]
        n = thread_count(threads, decoding=True)
        self._pool = ThreadPoolExecutor(n, thread_name_prefix="streamdrift-watch") if n > 1 and len(self.features) > 1 else None

    def _map(self, fn, items):
        if self._pool is None:
            return [fn(x) for x in items]
        return list(self._pool.map(fn, items))

    def feed(self, batch: pa.RecordBatch) -> list[Window]:
        """Add a batch's rows (it must hold every feature); return the windows that filled up."""
        done = []
        offset, n = 0, batch.num_rows
        columns = self._map(lambda mode: _column(mode, batch), self._modes) if n else []
        while offset < n:
            take = min(self.window - self._filled, n - offset)
            self._add(columns, offset, take, whole=offset == 0 and take == n)
            offset += take
            self._filled += take
            self.rows += take
            if self._filled == self.window:
                done.append(self._close(partial=False))
        return done

    def finish(self) -> Window | None:
        """The last, partial window (None when it holds no row)."""
        return self._close(partial=True) if self._filled else None

    def _add(self, columns: list, offset: int, take: int, whole: bool):
        """Add rows ``[offset, offset + take)`` of a batch's ``columns`` (one per mode, from ``_column``)."""
        parts = columns if whole else [_rows(m, c, offset, take) for m, c in zip(self._modes, columns)]
        if self._pool is None:  # (the common case: no closure per part)
            for mode, part in zip(self._modes, parts):
                mode.add(part)
        else:
            list(self._pool.map(lambda mode, part: mode.add(part), self._modes, parts))

    def _close(self, partial: bool) -> Window:
        closed = self._map(lambda mode: mode.close(self.threshold) if mode.arrow else mode.histograms(), self._modes)
        features = _scores(self._modes, closed, self.threshold, outside=self.edges == "reference")
        w = Window(self.windows, self._start, self.rows, partial, features)
        self.windows += 1
        self.drifted_windows += bool(w.drifted)
        self._start, self._filled = self.rows, 0
        return w

    def close(self):
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _column(mode, batch: pa.RecordBatch):
    """A batch's column of ``mode``'s feature as ``mode.add`` takes it: Arrow (categories) or one kernel-ready
    ``(values, validity)`` pair (``convert.kernel_values``: nulls as the validity bitmap, no NaN copy),
    converted once per batch however many windows the batch is cut into."""
    column = batch.column(mode.feature)
    return column if mode.arrow else kernel_values(column)


def _rows(mode, column, offset: int, take: int):
    """Rows ``[offset, offset + take)`` of a column from ``_column`` (views, no copy)."""
    if mode.arrow:
        return column.slice(offset, take)
    values, valid = column
    return values[offset : offset + take], None if valid is None else (valid[0], valid[1] + offset)


def _scores(modes: list, closed: list, threshold: float, outside: bool) -> list[FeatureDrift]:
    """Each mode's ``FeatureDrift``: categories' as they closed, numbers' from their ``histograms()``, with
    the divergences of all the defined ones computed together (``stats.divergences``: one numpy call per
    step for the window, not one per feature). ``outside`` adds ``out_of_range`` (reference edges)."""
    numeric = [i for i, mode in enumerate(modes) if not mode.arrow]
    defined = [i for i in numeric if closed[i][2] is None and undefined_reason(closed[i][0].count, closed[i][1].count)
               is None]
    computed = {}
    for bins in {closed[i][0].bins for i in defined}:
        rows = [i for i in defined if closed[i][0].bins == bins]
        found = divergences([closed[i][0].counts for i in rows], [closed[i][1].counts for i in rows], EPS)
        computed.update(zip(rows, found))
    scores = list(closed)
    for i in numeric:
        ref, cur, reason = closed[i]
        scores[i] = FeatureDrift.from_histograms(modes[i].feature, ref, cur, threshold, EPS, reason=reason,
                                                 computed=computed.get(i))
        if outside:
            scores[i].out_of_range = cur.out_of_range
    return scores
