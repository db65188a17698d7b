"""One numeric column of a reference profile: its sorted distinct values with their counts.

``ColumnBuilder`` makes one batch by batch (per-batch ``np.unique`` runs merged like a
log-structured merge, O(n log n)); it is a mergeable state, so builders filled apart add up.
``ColumnProfile`` gives the exact bin counts for any edges by two binary searches per edge.
"""

import numpy as np

from streamdrift.convert import values_array
from streamdrift.state import Histogram, Mergeable, Range


class ColumnProfile:
    """One column: sorted distinct finite values, their int64 counts, and the missing count.

    Counts are held as their running sum (``cumulative[k]`` values lie below ``values[k]``),
    which is all the binary search needs, so a loaded profile is used without a pass over it.
    """

    __slots__ = ("values", "cumulative", "missing")

    def __init__(self, values: np.ndarray, counts: np.ndarray, missing: int):
        counts = np.asarray(counts, dtype=np.int64)
        cumulative = np.zeros(counts.size + 1, dtype=np.int64)
        np.cumsum(counts, out=cumulative[1:])
        self._set(values, cumulative, missing)

    @classmethod
    def from_cumulative(cls, values: np.ndarray, cumulative: np.ndarray, missing: int) -> "ColumnProfile":
        out = cls.__new__(cls)
        out._set(values, cumulative, missing)
        return out

    def _set(self, values, cumulative, missing):
        self.values = np.asarray(values, dtype=np.float64)
        self.cumulative = np.asarray(cumulative, dtype=np.int64)
        if self.values.ndim != 1 or self.cumulative.shape != (self.values.size + 1,):
            raise ValueError(
                f"values must be 1-D with one more running count, got {self.values.shape} and {self.cumulative.shape}"
            )
        self.missing = int(missing)

    @property
    def counts(self) -> np.ndarray:
        return np.diff(self.cumulative)

    @property
    def count(self) -> int:
        """Finite values profiled."""
        return int(self.cumulative[-1])

    @property
    def distinct(self) -> int:
        return int(self.values.size)

    @property
    def range(self) -> Range:
        if self.values.size == 0:
            return Range(missing=self.missing)
        return Range(self.values[0], self.values[-1], self.count, self.missing)

    def bin_counts(self, edges) -> tuple[np.ndarray, int, int]:
        """``(counts, below, above)`` for ``edges``, exactly as ``Histogram(edges)`` counts them."""
        counts, below, above, _, _ = self._counts(_check_edges(edges))
        return counts, below, above

    def histogram(self, edges) -> Histogram:
        """A ``Histogram`` equal to one filled with every profiled value (and missing count)."""
        edges = _check_edges(edges)
        counts, below, above, at_lo, at_hi = self._counts(edges)
        return Histogram.from_counts(edges, counts, missing=self.missing, below=below, above=above, at_lo=at_lo,
                                     at_hi=at_hi)

    def _counts(self, edges: np.ndarray) -> tuple[np.ndarray, int, int, int, int]:
        """``(counts, below, above, at_lo, at_hi)`` in three binary searches over the values: one per
        edge, and the first and last edge once more (a watch window that leaves the reference's range
        takes one such call at its close)."""
        cum = self.cumulative
        left = cum[np.searchsorted(self.values, edges, side="left")]  # values below each edge
        ends = edges[:: edges.size - 1]
        right = cum[np.searchsorted(self.values, ends, side="right")]  # at or below the first, the last edge
        counts = np.diff(left)
        below, above = int(left[0]), int(cum[-1] - right[1])
        counts[0] += below
        counts[-1] += right[1] - left[-1] + above  # the last bin also holds the last edge, and what lies above
        return counts, below, above, int(right[0] - left[0]), int(right[1] - left[-1])

    def __eq__(self, other):
        if not isinstance(other, ColumnProfile):
            return NotImplemented
        return (
            self.missing == other.missing
            and np.array_equal(self.values, other.values)
            and np.array_equal(self.cumulative, other.cumulative)
        )

    def __repr__(self):
        return f"ColumnProfile(distinct={self.distinct}, count={self.count}, missing={self.missing})"


def _check_edges(edges) -> np.ndarray:
    edges = np.asarray(edges, dtype=np.float64)
    if edges.ndim != 1 or edges.size < 2:
        raise ValueError(f"edges must be a 1-D array of at least 2 values, got shape {edges.shape}")
    if not np.all(np.isfinite(edges)) or np.any(edges[1:] < edges[:-1]):
        raise ValueError("edges must be finite and non-decreasing")
    return edges


class ColumnBuilder(Mergeable):
    """Builds a ``ColumnProfile`` from chunks of values (``update``), in memory bounded by distinct values.

    Each chunk becomes a sorted run; runs are merged like a binary counter (two runs made of
    as many chunks merge), so at most log2(chunks) + 1 runs wait and each value is merged
    O(log n) times, whatever the chunks hold. A mergeable state (``+``, ``==``, pickle): a
    Dask cluster builds one per partition and adds them.
    """

    def __init__(self):
        self._runs: list[tuple[np.ndarray, np.ndarray, int]] = []  # values, counts, chunks merged in
        self.missing = 0

    def update(self, values) -> "ColumnBuilder":
        x = np.asarray(values_array(values), dtype=np.float64)
        finite = x[np.isfinite(x)]
        finite += 0.0  # -0.0 as 0.0: which of the two np.unique keeps must not depend on the chunks
        self.missing += x.size - finite.size
        if finite.size:
            self._push((*np.unique(finite, return_counts=True), 1))
        return self

    def _push(self, run) -> None:
        while self._runs and self._runs[-1][2] <= run[2]:
            top = self._runs.pop()
            run = (*_merge(top[:2], run[:2]), top[2] + run[2])
        self._runs.append(run)

    def __iadd__(self, other: "ColumnBuilder") -> "ColumnBuilder":
        """Add the values of ``other`` (built from later chunks, or elsewhere: on a Dask worker)."""
        if not isinstance(other, ColumnBuilder):
            return NotImplemented
        for run in list(other._runs):  # a list: other may be self
            self._push(run)
        self.missing += other.missing
        return self

    def copy(self) -> "ColumnBuilder":
        out = ColumnBuilder()
        out._runs, out.missing = list(self._runs), self.missing  # runs are never changed in place
        return out

    @property
    def count(self) -> int:
        return sum(int(run[1].sum()) for run in self._runs)

    def __eq__(self, other):
        if not isinstance(other, ColumnBuilder):
            return NotImplemented
        return self.build() == other.build()

    def build(self) -> ColumnProfile:
        run = (np.empty(0), np.empty(0, dtype=np.int64))
        for top in reversed(self._runs):
            run = _merge(top[:2], run)
        return ColumnProfile(run[0], run[1].astype(np.int64, copy=False), self.missing)


def _merge(a, b):
    if a[0].size == 0:
        return b
    if b[0].size == 0:
        return a
    values = np.concatenate([a[0], b[0]])
    counts = np.concatenate([a[1], b[1]])
    order = np.argsort(values, kind="stable")
    values, counts = values[order], counts[order]
    starts = np.flatnonzero(np.concatenate([[True], values[1:] != values[:-1]]))
    return values[starts], np.add.reduceat(counts, starts)
