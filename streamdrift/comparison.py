"""``compare``: the exact drift of every feature between a reference and a current dataset.

Two passes over each side, batch by batch, so memory is bounded by the batch size:
1. the range: the combined finite min/max per feature, from trusted Parquet statistics
   (no decoding) or by scanning;
2. the counts: histograms against ``linspace(lo, hi, bins + 1)`` on both sides, and the
   counts per category of the categorical features (``Categories``, SPEC section 2b).
The histograms also record the true min/max they saw; if statistics promised a range the
data does not have, the affected features are counted again on the true range, so the
result is exact whatever a writer put in the footer.
"""

from streamdrift._kernels import expect
from streamdrift.categories import Categories
from streamdrift.convert import CATEGORICAL, NUMERIC
from streamdrift.defaults import BATCH_SIZE, BINS, EPS, MAX_CATEGORIES, THRESHOLD
from streamdrift.errors import DriftError
from streamdrift.counting import Counter, thread_count  # noqa: F401 - where watch and tests import them
from streamdrift.executor import DASK_TIMEOUT
from streamdrift.executors import executor_for
from streamdrift.features import select_features, side_name
from streamdrift.io import Source
from streamdrift.report import FeatureDrift, Report
from streamdrift.state import Histogram, Range
from streamdrift.stats import binnable_edges


def compare(
    reference,
    current,
    *,
    threshold: float = THRESHOLD,
    bins: int = BINS,
    columns: list[str] | None = None,
    categorical: list[str] | None = None,
    max_categories: int = MAX_CATEGORIES,
    batch_size: int = BATCH_SIZE,
    threads: int | None = None,
    use_statistics: bool = True,
    dask=None,
    dask_timeout: float = DASK_TIMEOUT,
) -> Report:
    """Per-feature drift between ``reference`` and ``current`` (SPEC sections 2 and 2b).

    Both may be Parquet paths (a file, a list, a directory of part files, ``-`` for stdin),
    Arrow IPC files, pyarrow Tables/RecordBatches/Datasets/RecordBatchReaders, pandas
    DataFrames, mappings of column name to array, or any object with the Arrow PyCapsule
    stream interface (polars, DuckDB). Features are the numeric and categorical (string,
    dictionary) columns of both sides, or ``columns``, in the reference's column order;
    ``categorical`` names integer columns to compare as categories. Other columns are listed
    in ``Report.skipped``. ``threads`` counts features in parallel (default: the number of
    CPUs, less one when files are decoded).

    ``dask``: count on a Dask cluster (a ``distributed.Client``, a scheduler address, or
    ``"local"``/``"local:N"``); dask DataFrame inputs always are. Bit-identical to a local run.
    """
    threshold = check_threshold(threshold)
    bins = check_bins(bins)
    Categories(max_categories)  # checks the cap
    if batch_size < 1:
        raise DriftError(f"batch size must be a positive number of rows, got {batch_size}")
    return _run(reference, current, threshold, bins, batch_size, threads, use_statistics,
                dict(columns=columns, categorical=categorical), max_categories, dask, dask_timeout)


def detect_drift(old_df, new_df, threshold: float = THRESHOLD) -> dict[str, float]:
    """The original task's function: ``{column: KL}``, printing ``Drifted: <col> (KL=<4 dp>)`` lines.

    Numeric columns only, as the task says. Undefined KL (a side with no finite value) is NaN
    in the dict and never printed.
    """
    report = _run(old_df, new_df, check_threshold(threshold), BINS, BATCH_SIZE, None, True,
                  dict(numeric_only=True), MAX_CATEGORIES)
    for line in report.text_lines():
        print(line)
    labels = {str(c): c for c in getattr(old_df, "columns", ())}  # a DataFrame's own labels, 0 not '0'
    return {labels.get(name, name): kl for name, kl in report.kl().items()}


def _run(reference, current, threshold, bins, batch_size, threads, use_statistics, selecting, max_categories,
         dask=None, dask_timeout=DASK_TIMEOUT):
    with executor_for(dask, (reference, current), threads, dask_timeout) as executor:
        with executor.open(reference, "reference", True) as ref, executor.open(current, "current", True) as cur:
            selection = select_features(ref, cur, **selecting)
            results = _compare(ref, cur, selection, threshold, bins, max_categories, batch_size, executor, use_statistics)
    return Report(results, threshold=threshold, bins=bins, skipped=selection.skipped)


def _compare(ref: Source, cur: Source, selection, threshold, bins, max_categories, batch_size, counter,
             use_statistics) -> list[FeatureDrift]:
    categories = {f: (lambda: Categories(max_categories)) for f in selection.of_kind(CATEGORICAL)}
    combined, (ref_states, cur_states) = count_on_combined_range(
        (ref, cur), selection.of_kind(NUMERIC), bins, batch_size, counter, use_statistics, others=categories)
    check_rows(ref, cur, {ref: ref_states, cur: cur_states})
    results = []
    for f, kind in selection.kinds.items():
        r, c = ref_states[f], cur_states[f]
        if kind == CATEGORICAL:
            results.append(FeatureDrift.from_categories(f, r, c, threshold, EPS))
            continue
        reason = binnable_edges(combined[f].lo, combined[f].hi, bins)[1]
        results.append(FeatureDrift.from_histograms(f, r, c, threshold, EPS, reason=reason))
    return results


def count_on_combined_range(sides, features, bins, batch_size, counter, use_statistics=True, others=None):
    """The two passes over ``sides``: ``(combined ranges, [states of each side])``.

    Pass 1 finds each feature's finite range combined over every side, from trusted Parquet
    statistics or a scan; pass 2 counts every side against that range's edges, and fills
    the states that the ``others`` factories make (categories) in the same pass. A feature
    whose footer promised a range the data does not have is scanned and counted again.
    """
    expect(sum(side.rows() or 0 for side in sides) * len(features))
    counted = counter.count_features(sides, features, bins, others)
    if counted is not None:  # in memory: no footer to trust or distrust, each feature in one task
        return counted
    combined = {f: Range() for f in features}
    columns = features + [f for f in others or {} if f not in features]
    # the counts' batches are decoded while the statistics are read (dropped if a scan must come first)
    ahead = counter.read_ahead([(side, columns) for side in sides], batch_size) if use_statistics else None
    try:
        known = [{f: side.statistics_range(f) for f in features} if use_statistics else {} for side in sides]
        if ahead is not None and any(k.get(f) is None for k in known for f in features):
            ahead.close()
            ahead = None
        promised = set()  # features whose range a Parquet footer gave, on some side
        for side, side_known in zip(sides, known):
            to_scan = [f for f in features if side_known.get(f) is None]
            scanned = counter.ranges(side, to_scan, batch_size) if to_scan else {}
            for f in features:
                combined[f] += scanned[f] if f in scanned else Range(*side_known[f])
            promised.update(f for f in features if f not in scanned)
        states = _count(sides, features, combined, bins, batch_size, counter, others, ahead)
    finally:
        if ahead is not None:
            ahead.close()

    wrong = [f for f in features if f in promised and not range_held(combined[f], _total(states, f), bins)]
    if wrong:  # statistics promised a range the data does not have: scan for the true one
        scanned = [counter.ranges(side, wrong, batch_size) for side in sides]
        combined.update({f: _total(scanned, f) for f in wrong})
        redo = _count(sides, wrong, combined, bins, batch_size, counter)
        for side_states, side_redo in zip(states, redo):
            side_states.update(side_redo)
    return combined, states


def check_rows(ref: Source, cur: Source, states: dict) -> None:
    """A side without a single row is an error naming it (it would otherwise look like 'no drift')."""
    for side in (ref, cur):
        counted = next(iter(states[side].values()), None)
        if counted is not None and counted.count + counted.missing == 0:
            raise DriftError(f"{side_name(side, ref)} has no rows; drift needs at least one row on each side")


def range_held(promised: Range, counted: Histogram, bins: int) -> bool:
    """True when a footer's range held: binnable (else the edges are a stand-in that proves
    nothing) and exactly the min and max of the values counted."""
    return binnable_edges(promised.lo, promised.hi, bins)[1] is None and counted.spans_exactly()


def _total(per_side: list[dict], f: str):
    """One feature's state over every side (``a + b + ...``)."""
    total = per_side[0][f]
    for states in per_side[1:]:
        total = total + states[f]
    return total


def _count(sides, features, ranges, bins, batch_size, counter, others=None, ahead=None) -> list[dict]:
    """Each side's histograms of ``features`` on ``ranges``, and states from the ``others`` factories, in one
    pass (``ahead``: the counter's ``read_ahead`` of these sides and columns)."""
    out = []
    for _ in sides:
        states = {f: Histogram(binnable_edges(ranges[f].lo, ranges[f].hi, bins)[0]) for f in features}
        states.update({f: make() for f, make in (others or {}).items()})
        out.append(states)
    counter.fill_sides(list(zip(sides, out)), batch_size, ahead)
    return out


def check_threshold(threshold) -> float:
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        raise DriftError(f"threshold must be a number, got {threshold!r}") from None
    if not value >= 0 or value == float("inf"):
        raise DriftError(f"threshold must be a finite number >= 0, got {threshold!r}")
    return value


def check_bins(bins) -> int:
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise DriftError(f"bins must be a whole number >= 1, got {bins!r}")
    return bins
