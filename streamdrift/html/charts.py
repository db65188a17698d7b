"""The report's charts: matplotlib figures saved as inline SVG (no JavaScript).

Speed: a report draws two charts per feature, so each kind of chart is one figure made
once and redrawn with new data, with no axes machinery and no text: laying out text is
most of matplotlib's time, so the few labels a chart needs (range ends, windows, the
threshold) are HTML under it (see the templates). Category names, the one text drawn, are
kept as SVG text (``svg.fonttype: none``), escaped by matplotlib's XML writer and never
parsed as mathtext, so a category named ``$x$`` or ``<b>`` shows as written.
"""

import io
import re

import matplotlib
import numpy as np
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

from streamdrift.html.records import category_order

REFERENCE, CURRENT, DRIFT, INK = "#4c72b0", "#dd8452", "#c44e52", "#444444"
TOP_CATEGORIES = 10
MAX_POINTS = 200  # a timeline longer than this shows the largest KL of each run of windows
RC = {"svg.fonttype": "none", "text.parse_math": False, "font.size": 8, "svg.hashsalt": "streamdrift"}
_IDS = re.compile(r'(id="|url\(#|href="#)')  # every id and reference to one in matplotlib's SVG
_HEADER = re.compile(r"\A.*?(?=<svg)", re.S)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)


def _frame(width: float, height: float):
    fig = Figure(figsize=(width, height))
    FigureCanvasSVG(fig)
    ax = fig.add_axes((0.01, 0.02, 0.98, 0.96))
    ax.axis("off")
    ax.axhline(0, color=INK, lw=0.8)
    return fig, ax


class Charts:
    """Draws the charts of one report; each method returns an ``<svg>`` element as text."""

    def __init__(self):
        self._count = 0
        with self.style():
            self._histogram = self._make_histogram()
            self._timeline = self._make_timeline()

    @staticmethod
    def style():
        """The charts' matplotlib settings, for the time a report is drawn (not changed for good)."""
        return matplotlib.rc_context(RC)

    def _svg(self, fig) -> str:
        """The figure as an ``<svg>`` element whose ids are unique in the page."""
        self._count += 1
        buf = io.StringIO()
        fig.savefig(buf, format="svg")
        svg = _METADATA.sub("", _HEADER.sub("", buf.getvalue(), count=1), count=1)
        return _IDS.sub(rf"\1c{self._count}-", svg)

    def _make_histogram(self):
        fig, ax = _frame(4.2, 1.5)
        edges = np.linspace(0.0, 1.0, 2)
        ref = ax.stairs([1.0], edges, fill=True, color=REFERENCE, alpha=0.45, lw=0)
        cur = ax.stairs([1.0], edges, fill=False, color=CURRENT, lw=1.6)
        return fig, ax, ref, cur

    def histogram(self, edges, reference_counts, current_counts) -> str:
        """Both sides' shares per bin, drawn on the exact ``edges`` the statistic used."""
        fig, ax, ref, cur = self._histogram
        edges = np.asarray(edges, dtype=float)
        if edges[-1] == edges[0]:  # lo == hi: every value is in the last bin; give it a width
            edges = edges[0] + np.arange(edges.size, dtype=float) - (edges.size - 1)
        p, q = _shares(reference_counts), _shares(current_counts)
        ref.set_data(p, edges)
        cur.set_data(q, edges)
        ax.set_xlim(edges[0], edges[-1])
        ax.set_ylim(0, max(p.max(initial=0), q.max(initial=0), 1e-12) * 1.08)
        return self._svg(fig)

    def categories(self, values, reference_counts, current_counts, top: int = TOP_CATEGORIES) -> str:
        """The ``top`` categories by combined share, then "other", as paired horizontal bars."""
        names, p, q = top_categories(values, reference_counts, current_counts, top)
        fig = Figure(figsize=(4.2, 0.3 + 0.22 * len(names)))
        FigureCanvasSVG(fig)
        ax = fig.add_axes((0.42, 0.02, 0.56, 0.96))
        ax.axis("off")
        y = np.arange(len(names))[::-1].astype(float)
        ax.barh(y + 0.2, p, height=0.4, color=REFERENCE, alpha=0.6)
        ax.barh(y - 0.2, q, height=0.4, color=CURRENT)
        ax.set_ylim(-0.6, len(names) - 0.4)
        ax.set_xlim(0, max(p.max(initial=0), q.max(initial=0), 1e-12))
        for yi, name in zip(y, names):
            ax.text(-0.02, yi, _short(name), ha="right", va="center", transform=ax.get_yaxis_transform(), color=INK)
        return self._svg(fig)

    def _make_timeline(self):
        fig, ax = _frame(4.2, 1.3)
        (line,) = ax.plot([0, 1], [0, 0], color=REFERENCE, lw=1.1)
        threshold = ax.axhline(0.1, color=DRIFT, lw=0.9, ls="--")
        (marks,) = ax.plot([0, 1], [0.97, 0.97], color=DRIFT, lw=4, solid_capstyle="butt",
                           transform=ax.get_xaxis_transform())
        return fig, ax, line, threshold, marks

    def timeline(self, windows, kl, drifted, threshold: float) -> tuple[str, float]:
        """KL per window (None: undefined, a gap), the threshold dashed, a red bar over the
        drifted windows; returns the SVG and the top of the KL scale."""
        fig, ax, line, rule, marks = self._timeline
        x, y, marked, step = downsample(windows, kl, drifted)
        line.set_data(x, y)
        rule.set_ydata([threshold, threshold])
        top = max(np.nanmax(y) if np.isfinite(y).any() else 0.0, threshold) * 1.1 or 1.0
        ax.set_xlim(x[0] - 0.5 * step, x[-1] + 0.5 * step)
        ax.set_ylim(0, top)
        marks.set_data(*runs(x, marked, step))
        return self._svg(fig), top


    def curve(self, xs, ys) -> str:
        """A line with dots, y from 0 to 1 (pass@k against k)."""
        fig, ax = _frame(4.2, 1.6)
        ax.plot(xs, ys, color=REFERENCE, lw=1.4, marker="o", ms=3)
        ax.set_xlim(xs[0] - 0.5, xs[-1] + 0.5)
        ax.set_ylim(0, 1.02)
        ax.axhline(1.0, color=INK, lw=0.5, ls=":")
        return self._svg(fig)

    def bars(self, labels, values) -> str:
        """Horizontal bars, largest first, each labelled with its name and value (failure reasons)."""
        fig = Figure(figsize=(4.2, 0.3 + 0.24 * len(labels)))
        FigureCanvasSVG(fig)
        ax = fig.add_axes((0.45, 0.02, 0.5, 0.96))
        ax.axis("off")
        y = np.arange(len(labels))[::-1].astype(float)
        ax.barh(y, values, height=0.6, color=DRIFT, alpha=0.8)
        ax.set_ylim(-0.6, len(labels) - 0.4)
        ax.set_xlim(0, max(values) * 1.15)
        for yi, label, value in zip(y, labels, values):
            ax.text(-0.02, yi, _short(label, 30), ha="right", va="center", transform=ax.get_yaxis_transform(),
                    color=INK)
            ax.text(value, yi, f" {value}", ha="left", va="center", color=INK)
        return self._svg(fig)


def _shares(counts) -> np.ndarray:
    c = np.asarray(counts, dtype=float)
    total = c.sum()
    return c / total if total > 0 else c


def _short(name, width: int = 24) -> str:
    text = "(null)" if name is None else str(name)
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def top_categories(values, reference_counts, current_counts, top: int = TOP_CATEGORIES):
    """The ``top`` categories by combined share and "other" for the rest: names, p, q."""
    p, q = _shares(reference_counts), _shares(current_counts)
    order = category_order(reference_counts, current_counts)
    keep, rest = order[:top], order[top:]
    names = [values[i] for i in keep]
    p_top, q_top = p[keep], q[keep]
    if rest.size:
        names.append(f"other ({rest.size})")
        p_top, q_top = np.append(p_top, p[rest].sum()), np.append(q_top, q[rest].sum())
    return names, p_top, q_top


def runs(x, marked, step: float):
    """One bar per run of marked points, as line segments separated by NaN (one SVG path)."""
    m = np.concatenate(([False], np.asarray(marked, dtype=bool), [False]))
    starts = np.flatnonzero(~m[:-1] & m[1:])
    ends = np.flatnonzero(m[:-1] & ~m[1:]) - 1
    xs = np.column_stack((x[starts] - step / 2, x[ends] + step / 2, np.full(starts.size, np.nan))).ravel()
    return (xs, np.where(np.isnan(xs), np.nan, 0.97)) if xs.size else ([np.nan], [np.nan])


def downsample(windows, kl, drifted, points: int = MAX_POINTS):
    """At most ``points`` points: each the largest KL of ``step`` windows, marked if one drifted."""
    x = np.asarray(windows, dtype=float)
    y = np.array([np.nan if v is None else v for v in kl] if isinstance(kl, list) else kl, dtype=float)
    marked = np.asarray(drifted, dtype=bool)
    step = max(1, -(-x.size // points))
    if step == 1:
        return x, y, marked, 1
    pad = (-x.size) % step
    y_pad = np.append(y, np.full(pad, np.nan)).reshape(-1, step)
    has = np.isfinite(y_pad).any(axis=1)
    y_max = np.full(y_pad.shape[0], np.nan)
    y_max[has] = np.nanmax(y_pad[has], axis=1)
    marked = np.append(marked, np.zeros(pad, dtype=bool)).reshape(-1, step).any(axis=1)
    return x[::step] + (step - 1) / 2, y_max, marked, step
