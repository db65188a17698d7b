"""What a drift report shows, built from JSON records (one source for ``--html`` and ``report``).

Records are the ``--format json`` objects of ``compare`` (one per feature) or ``watch`` (one
per feature and window, with ``"window"``); with ``--counts`` they carry the bins too.
"""

from dataclasses import dataclass, field

from markupsafe import Markup

from streamdrift.html.records import category_order

TABLE_CATEGORIES = 20  # category rows listed under a chart; the rest are summed as "other"


@dataclass
class FeatureView:
    """One feature: its latest record, its charts and, over windows, its KL timeline."""

    record: dict
    chart: Markup | None = None
    axis: tuple = ()  # the labels under the distribution: lowest edge, middle edge, highest edge
    timeline: Markup | None = None
    scale: float | None = None  # the top of the timeline's KL scale
    rows: list = field(default_factory=list)  # (bin or category, reference count, current count)
    windows: list = field(default_factory=list)
    kls: list = field(default_factory=list)
    flags: list = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.record["feature"]

    @property
    def drifted(self) -> bool:
        return bool(self.record.get("drifted"))

    @property
    def drifted_windows(self) -> int:
        return sum(self.flags)

    def sort_key(self):
        kl = self.record.get("kl")
        return (not self.drifted, kl is None, -(kl or 0.0))


def build(records: list[dict], charts, title: str, sources: list[str], history: dict | None = None) -> dict:
    """The template's context: summary numbers, features drifted first then by KL, charts.

    ``history`` (feature -> (windows, kls, flags)) gives the timelines of a watch whose
    ``records`` are only the latest window's; without it they come from ``records``.
    """
    features = _group(records, history)
    for view in features:
        _draw(view, charts)
    features.sort(key=FeatureView.sort_key)
    drifted = sum(v.drifted for v in features)
    threshold = next((r["threshold"] for r in records if "threshold" in r), None)
    windows = {w for v in features for w in v.windows}
    latest = max((v.record for v in features if "window" in v.record), key=lambda r: r["window"], default=None)
    return dict(
        title=title,
        sources=sources,
        features=features,
        drifted=drifted,
        total=len(features),
        share=drifted / len(features) if features else 0.0,
        threshold=threshold,
        windows=len(windows),
        latest=latest,
        drifted_windows=len({w for v in features for w, flag in zip(v.windows, v.flags) if flag}),
        has_counts=any(v.chart is not None for v in features),
    )


def _group(records: list[dict], history: dict | None) -> list[FeatureView]:
    views: dict[str, FeatureView] = {}
    for r in records:
        if r.get("kind") == "skipped":
            continue
        view = views.get(r["feature"])
        if view is None:
            view = views[r["feature"]] = FeatureView(record=r)
        view.record = r
        if "window" in r and history is None:
            view.windows.append(r["window"])
            view.kls.append(r.get("kl"))
            view.flags.append(bool(r.get("drifted")))
    for name, (windows, kls, flags) in (history or {}).items():
        if name in views:
            views[name].windows, views[name].kls, views[name].flags = windows, kls, flags
    return list(views.values())


def _draw(view: FeatureView, charts) -> None:
    r = view.record
    ref, cur = r.get("reference_counts"), r.get("current_counts")
    if ref is not None and cur is not None:
        if "edges" in r:
            e = r["edges"]
            view.chart = Markup(charts.histogram(e, ref, cur))
            view.axis = (e[0], e[len(e) // 2], e[-1])
            view.rows = [(f"[{e[i]!r}, {e[i + 1]!r}{']' if i == len(ref) - 1 else ')'}", ref[i], cur[i])
                         for i in range(len(ref))]
        elif "values" in r:
            view.chart = Markup(charts.categories(r["values"], ref, cur))
            view.rows = category_rows(r["values"], ref, cur)
    if len(view.windows) > 1:
        svg, view.scale = charts.timeline(view.windows, view.kls, view.flags, r["threshold"])
        view.timeline = Markup(svg)


def category_rows(values, ref, cur, top: int = TABLE_CATEGORIES) -> list:
    """The ``top`` categories by combined share with their counts, then one "other" row."""
    order = category_order(ref, cur).tolist()
    rows = [("(null)" if values[i] is None else str(values[i]), ref[i], cur[i]) for i in order[:top]]
    rest = order[top:]
    if rest:
        rows.append((f"other ({len(rest)} categories)", sum(ref[i] for i in rest), sum(cur[i] for i in rest)))
    return rows
