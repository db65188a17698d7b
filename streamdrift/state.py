"""Incremental, mergeable per-feature state: ``update()`` with values, combine with ``+``.

Two passes make the exact statistic: ``Range`` finds the combined finite min/max (and
counts valid/missing values); ``Histogram`` then counts values against the exact edges.
Both merge exactly, so states filled in chunks, threads, processes or on other machines
add up to the state of all their values at once.
"""

import math

import numpy as np

from streamdrift._kernels import fill_histogram, value_range
from streamdrift.convert import kernel_values
from streamdrift.defaults import BINS
from streamdrift.stats import make_edges


class Mergeable:
    """A state that merges in place with ``+=`` (the subclass's ``__iadd__``); ``a + b`` is a merged copy."""

    def __add__(self, other):
        if not isinstance(other, type(self)):
            return NotImplemented
        out = self.copy()
        out += other
        return out


class Range(Mergeable):
    """The finite min/max of a feature's values, and how many were valid and missing."""

    __slots__ = ("lo", "hi", "count", "missing")

    def __init__(self, lo: float = math.inf, hi: float = -math.inf, count: int = 0, missing: int = 0):
        self.lo = float(lo) + 0.0  # + 0.0 turns -0.0 into 0.0: merge order must not pick the sign
        self.hi = float(hi) + 0.0
        self.count = int(count)
        self.missing = int(missing)

    def update(self, values) -> "Range":
        self.add(*kernel_values(values))
        return self

    def add(self, values: np.ndarray, valid=None) -> None:
        """Range kernel-ready ``values`` (``valid``: the validity bitmap of their nulls, as
        ``convert.kernel_values`` gives them), as ``Histogram.add`` counts them."""
        r = value_range(values, valid)
        self._merge(r.lo, r.hi, r.valid, r.missing)

    def _merge(self, lo, hi, count, missing):
        self.lo = min(self.lo, float(lo) + 0.0)
        self.hi = max(self.hi, float(hi) + 0.0)
        self.count += int(count)
        self.missing += int(missing)

    @property
    def empty(self) -> bool:
        """True when no finite value has been seen."""
        return self.count == 0

    def __iadd__(self, other: "Range") -> "Range":
        if not isinstance(other, Range):
            return NotImplemented
        self._merge(other.lo, other.hi, other.count, other.missing)
        return self

    def copy(self) -> "Range":
        return Range(self.lo, self.hi, self.count, self.missing)

    def __eq__(self, other):
        if not isinstance(other, Range):
            return NotImplemented
        return (self.lo, self.hi, self.count, self.missing) == (other.lo, other.hi, other.count, other.missing)

    def __getstate__(self):
        return (self.lo, self.hi, self.count, self.missing)

    def __setstate__(self, state):
        self.lo, self.hi, self.count, self.missing = state

    def __repr__(self):
        return f"Range(lo={self.lo!r}, hi={self.hi!r}, count={self.count}, missing={self.missing})"


class Histogram(Mergeable):
    """Exact int64 bin counts of a feature against fixed float64 edges.

    Values outside the edges go to the end bins and are counted in ``below``/``above``
    (``out_of_range``); with edges from the combined range there are none. ``at_lo`` and
    ``at_hi`` count values equal to the first and last edge, so ``spans_exactly()`` can tell
    whether the edges are exactly the data's min and max without tracking them.
    """

    __slots__ = ("edges", "counts", "count", "missing", "below", "above", "at_lo", "at_hi")

    def __init__(self, edges):
        edges = np.array(edges, dtype=np.float64)
        if edges.ndim != 1 or edges.size < 2:
            raise ValueError(f"edges must be a 1-D array of at least 2 values, got shape {edges.shape}")
        edges.flags.writeable = False
        self.edges = edges
        self.counts = np.zeros(edges.size - 1, dtype=np.int64)
        self.count = self.missing = self.below = self.above = self.at_lo = self.at_hi = 0

    @classmethod
    def for_range(cls, lo: float, hi: float, bins: int = BINS) -> "Histogram":
        """A histogram with SPEC edges: ``numpy.linspace(lo, hi, bins + 1)``."""
        return cls(make_edges(lo, hi, bins))

    @classmethod
    def from_counts(cls, edges, counts, *, missing: int = 0, below: int = 0, above: int = 0, at_lo: int = 0,
                    at_hi: int = 0) -> "Histogram":
        """The histogram that ``update`` would have made of values with these counts (the tallies as
        ``update`` keeps them: ``below``/``above`` are already in the end bins' counts)."""
        hist = cls(edges)
        counts = np.asarray(counts)
        if counts.shape != hist.counts.shape:
            raise ValueError(f"{hist.bins} bins need as many counts, got shape {counts.shape}")
        hist.counts[:] = counts
        hist.count = int(hist.counts.sum())
        for name, value in zip(Histogram._TALLIES[1:], (missing, below, above, at_lo, at_hi)):
            setattr(hist, name, int(value))
        return hist

    def update(self, values) -> "Histogram":
        self.add(*kernel_values(values))
        return self

    def add(self, values: np.ndarray, valid=None) -> bool:
        """Count kernel-ready ``values`` (``valid``: the validity bitmap of their nulls, as
        ``convert.kernel_values`` gives them); False when some lay outside the edges (counted in the
        end bins all the same)."""
        seen = fill_histogram(values, self.edges, self.counts, valid)
        self.count += int(seen.valid)
        self.missing += int(seen.missing)
        self.below += int(seen.below)
        self.above += int(seen.above)
        self.at_lo += int(seen.at_lo)
        self.at_hi += int(seen.at_hi)
        return not (seen.below or seen.above)

    @property
    def bins(self) -> int:
        return self.counts.size

    @property
    def out_of_range(self) -> int:
        return self.below + self.above

    def spans_exactly(self) -> bool:
        """True when the finite values added have exactly the edges' ends as min and max."""
        return self.count == 0 or (self.out_of_range == 0 and self.at_lo > 0 and self.at_hi > 0)

    def _tallies(self):
        return (self.count, self.missing, self.below, self.above, self.at_lo, self.at_hi)

    def _describe(self) -> str:
        return f"[{float(self.edges[0])!r}, {float(self.edges[-1])!r}] in {self.bins} bins"

    def __iadd__(self, other: "Histogram") -> "Histogram":
        if not isinstance(other, Histogram):
            return NotImplemented
        if self.edges.shape != other.edges.shape or not np.array_equal(self.edges, other.edges):
            raise ValueError(
                f"cannot add histograms with different edges: {self._describe()} and {other._describe()}"
            )
        self.counts += other.counts
        for name, value in zip(Histogram._TALLIES, other._tallies()):
            setattr(self, name, getattr(self, name) + value)
        return self

    def copy(self) -> "Histogram":
        out = Histogram.__new__(Histogram)
        out.__setstate__(self.__getstate__())
        out.counts = self.counts.copy()
        return out

    def __eq__(self, other):
        if not isinstance(other, Histogram):
            return NotImplemented
        return (
            np.array_equal(self.edges, other.edges)
            and np.array_equal(self.counts, other.counts)
            and self._tallies() == other._tallies()
        )

    def __getstate__(self):
        return (self.edges, self.counts, *self._tallies())

    def __setstate__(self, state):
        edges, self.counts, *tallies = state
        for name, value in zip(Histogram._TALLIES, tallies):
            setattr(self, name, value)
        edges = np.array(edges, dtype=np.float64)
        edges.flags.writeable = False
        self.edges = edges

    def __repr__(self):
        return (
            f"Histogram({self._describe()}, count={self.count}, missing={self.missing}, "
            f"out_of_range={self.out_of_range})"
        )


Histogram._TALLIES = ("count", "missing", "below", "above", "at_lo", "at_hi")
