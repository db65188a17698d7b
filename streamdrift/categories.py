"""Incremental, mergeable counts of a categorical feature (SPEC section 2b).

``Categories`` counts the occurrences of each distinct value, by value: strings by their
UTF-8 bytes, a dictionary column by its decoded values (never its indices), integers as
int64. Counting is Arrow's ``value_counts`` per chunk (hashing in C++, no Python loop over
values); chunk results wait in a short list and are merged with a group-by sum once they
hold about as many entries as the state, so merging costs O(distinct) amortised per row.

Memory is bounded by ``max_categories``: once a side holds more distinct values than the
cap, their values are dropped and the state only counts valid and missing values
(``overflow``); its KL is then undefined with a reason.

``pyarrow.compute`` is imported inside the functions that use it: importing it costs
0.1-0.3 s, which every command would pay at start-up.
"""

import numpy as np
import pyarrow as pa

from streamdrift.convert import is_categorical, values_array
from streamdrift.defaults import MAX_CATEGORIES
from streamdrift.errors import DriftError
from streamdrift.state import Mergeable

_STRING = pa.large_string()
_INTEGER = pa.int64()
_FLUSH_ROWS = 1 << 16


def _numbers(arr: pa.Array) -> np.ndarray:
    """A null-free integer Arrow array as numpy, zero-copy (``numpy.asarray`` of an Arrow array imports pandas)."""
    return values_array(arr)


_NUMBERS = {np.dtype(np.int64): pa.int64(), np.dtype(np.float64): pa.float64()}


def arrow_numbers(values: np.ndarray, dtype=np.int64) -> pa.Array:
    """int64 or float64 numpy values as an Arrow array, zero-copy (``pyarrow.array`` of numpy imports pandas)."""
    values = np.ascontiguousarray(values, dtype=dtype)
    return pa.Array.from_buffers(_NUMBERS[values.dtype], len(values), [None, pa.py_buffer(values)])


def arrow_strings(texts: list[str]) -> pa.Array:
    """Python strings as an Arrow string array, from its buffers (``pyarrow.array`` imports pandas)."""
    data = [t.encode() for t in texts]
    offsets = np.zeros(len(data) + 1, dtype=np.int32)
    np.cumsum([len(d) for d in data], out=offsets[1:])
    return pa.Array.from_buffers(pa.string(), len(data), [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(data))])


def arrow_indices(indices: np.ndarray) -> pa.Array:
    """int64 indices as an Arrow array."""
    return arrow_numbers(indices)


def _zero(index_type: pa.DataType) -> pa.Scalar:
    """An integer 0 of ``index_type``, from a buffer (``pyarrow.scalar`` imports pandas)."""
    return pa.Array.from_buffers(index_type, 1, [None, pa.py_buffer(bytes(8))])[0]


def _mask(arr: pa.BooleanArray) -> np.ndarray:
    return values_array(arr).astype(bool)


def canonical_type(arrow_type: pa.DataType) -> pa.DataType:
    """The type categories of ``arrow_type`` are compared as: large_string for text, int64 for integers."""
    if pa.types.is_dictionary(arrow_type):
        return canonical_type(arrow_type.value_type)
    if is_categorical(arrow_type):
        return _STRING
    if pa.types.is_integer(arrow_type):
        return _INTEGER
    return arrow_type


def as_arrow(values) -> pa.Array | pa.ChunkedArray:
    """An Arrow array of ``values`` (a list, numpy array, pandas Series or Arrow array)."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values
    try:
        return pa.array(values, from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise DriftError(f"cannot count categories of {type(values).__name__}: {exc}") from None


class Categories(Mergeable):
    """Exact int64 counts per distinct non-missing value, and the missing count."""

    __slots__ = ("max_categories", "count", "missing", "_overflow", "_type", "_values", "_counts", "_pending",
                 "_dictionary")

    def __init__(self, max_categories: int = MAX_CATEGORIES):
        if isinstance(max_categories, bool) or not isinstance(max_categories, int) or max_categories < 1:
            raise DriftError(f"max_categories must be a whole number >= 1, got {max_categories!r}")
        self.max_categories = max_categories
        self.count = self.missing = 0
        self._overflow = False
        self._type = None
        self._values = None
        self._counts = np.zeros(0, dtype=np.int64)
        self._pending: list[tuple[pa.Array, np.ndarray]] = []
        self._dictionary = None  # [key, dictionary, counts] of the last dictionary chunks, not yet merged

    @classmethod
    def restore(cls, values: pa.Array | None, counts, missing: int, count: int,
                max_categories: int = MAX_CATEGORIES, value_type: pa.DataType | None = None) -> "Categories":
        """The state that holds ``values`` (sorted, distinct) with ``counts``; ``values=None``: overflowed
        (of ``value_type``)."""
        out = cls(max_categories)
        out.__setstate__((values, max_categories, int(count), int(missing), values is None,
                          value_type if values is None else values.type, np.asarray(counts, dtype=np.int64)))
        return out

    def update(self, values) -> "Categories":
        arr = as_arrow(values)
        for chunk in arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]:
            self._update_chunk(chunk)
        return self

    def _update_chunk(self, chunk: pa.Array) -> None:
        import pyarrow.compute as pc
        if len(chunk) == 0:
            return
        if pa.types.is_dictionary(chunk.type) and not self._overflow:
            self._update_indices(chunk)
            return
        if self._overflow and not pa.types.is_dictionary(chunk.type):
            self.missing += chunk.null_count
            self.count += len(chunk) - chunk.null_count
            return
        if pa.types.is_string_view(chunk.type):  # pyarrow 26 counts a null string_view as "" (ARROW bug)
            chunk = pc.cast(chunk, _STRING)
        counted = pc.value_counts(chunk)
        values, counts = counted.field("values"), _numbers(counted.field("counts"))
        if pa.types.is_dictionary(values.type):  # by value: cast the (short) dictionary, then decode
            values = self._canonical(values.dictionary).take(values.indices)
        valid = _mask(values.is_valid())
        self.missing += int(counts[~valid].sum())
        self.count += int(counts[valid].sum())
        if self._overflow or pa.types.is_null(values.type):
            return
        if not valid.all():
            values, counts = values.filter(values.is_valid()), counts[valid]
        self._pending.append((self._canonical(values), counts))
        if sum(len(v) for v, _ in self._pending) >= max(_FLUSH_ROWS, len(self)):
            self._flush()

    def _update_indices(self, chunk: pa.DictionaryArray) -> None:
        """Count a dictionary chunk on its indices (``numpy.bincount``); consecutive chunks that
        share one dictionary (a Parquet column chunk read as batches) add to the same counts,
        merged by value only when the dictionary changes."""
        import pyarrow.compute as pc
        d, indices, nulls = chunk.dictionary, chunk.indices, chunk.indices.null_count
        self.missing += nulls
        if nulls == len(indices):
            return
        if nulls:  # counted as index 0, then taken back: a fill is 5x quicker than a filter
            indices = pc.fill_null(indices, _zero(indices.type))
        counts = np.bincount(_numbers(indices), minlength=len(d))
        counts[0] -= nulls
        if d.null_count:  # a valid index to a null dictionary value is missing too
            null_values = ~_mask(d.is_valid())
            self.missing += int(counts[null_values].sum())
            counts[null_values] = 0
        self.count += int(counts.sum())
        key = (len(d), d.offset, tuple(b.address if b is not None else 0 for b in d.buffers()))
        last = self._dictionary
        if last is not None and (last[0] == key or (len(last[1]) == len(d) and last[1].equals(d))):
            last[2] += counts  # the same dictionary again (Parquet repeats it per page or row group)
        else:
            self._flush_dictionary()
            self._dictionary = [key, d, counts]

    def _flush_dictionary(self) -> None:
        if self._dictionary is None:
            return
        _, d, counts = self._dictionary
        self._dictionary = None
        used = np.flatnonzero(counts)
        if used.size:
            self._pending.append((self._canonical(d).take(arrow_indices(used)), counts[used]))
            if sum(len(v) for v, _ in self._pending) >= max(_FLUSH_ROWS, len(self)):
                self._flush()

    def _canonical(self, values: pa.Array) -> pa.Array:
        import pyarrow.compute as pc
        t = canonical_type(values.type)
        if self._type is None:
            self._type = t
        elif t != self._type:
            raise DriftError(f"cannot count categories of type {values.type} with earlier categories of type {self._type}")
        return values if values.type == t else pc.cast(values, t)

    def _flush(self) -> None:
        import pyarrow.compute as pc
        self._flush_dictionary()
        if not self._pending:
            return
        parts = ([] if self._values is None else [(self._values, self._counts)]) + self._pending
        self._pending = []
        values = pa.concat_arrays([v for v, _ in parts])
        counts = np.concatenate([c for _, c in parts])
        encoded = pc.dictionary_encode(values)  # distinct values, and where each entry goes
        merged = np.zeros(len(encoded.dictionary), dtype=np.int64)
        np.add.at(merged, _numbers(encoded.indices), counts)
        if merged.size > self.max_categories:
            self._overflow = True
            self._values, self._counts = None, np.zeros(0, dtype=np.int64)
            return
        order = pc.sort_indices(encoded.dictionary)
        self._values = encoded.dictionary.take(order)
        self._counts = merged[_numbers(order)]

    @property
    def values(self) -> pa.Array:
        """The distinct values, sorted by value (UTF-8 bytes for text); empty when ``overflow``."""
        self._flush()
        if self._values is None:
            return pa.nulls(0, self._type or pa.null())
        return self._values

    @property
    def counts(self) -> np.ndarray:
        """int64 occurrences of each of ``values``."""
        self._flush()
        return self._counts

    @property
    def overflow(self) -> bool:
        """True when more than ``max_categories`` distinct values were seen (their values are not kept)."""
        self._flush()
        return self._overflow

    @property
    def type(self) -> pa.DataType | None:
        """The type the categories are compared as (None before any value)."""
        return self._type

    @property
    def distinct(self) -> int:
        return len(self.values)

    def __len__(self) -> int:
        """Distinct values held (0 when ``overflow``)."""
        return 0 if self._values is None else len(self._values)

    def __iadd__(self, other: "Categories") -> "Categories":
        if not isinstance(other, Categories):
            return NotImplemented
        other._flush()
        if self._type is not None and other._type is not None and self._type != other._type:
            raise ValueError(f"cannot add categories of different types: {self._type} and {other._type}")
        self._type = self._type or other._type
        self.count += other.count
        self.missing += other.missing
        self._overflow = self._overflow or other._overflow
        if self._overflow:
            self._values, self._counts, self._pending = None, np.zeros(0, dtype=np.int64), []
            self._dictionary = None
            return self
        if other._values is not None:
            self._pending.append((other._values, other._counts.copy()))
        self._flush()
        return self

    def copy(self) -> "Categories":
        out = Categories.__new__(Categories)
        out.__setstate__(self.__getstate__())
        return out

    def __eq__(self, other):
        if not isinstance(other, Categories):
            return NotImplemented
        return self.__getstate__()[1:] == other.__getstate__()[1:] and self.values.equals(other.values)

    def __getstate__(self):
        self._flush()
        return (self._values, self.max_categories, self.count, self.missing, self._overflow, self._type,
                self._counts.tolist())

    def __setstate__(self, state):
        self._values, self.max_categories, self.count, self.missing, self._overflow, self._type, counts = state
        self._counts = np.array(counts, dtype=np.int64)
        self._pending = []
        self._dictionary = None

    def __repr__(self):
        held = f"more than {self.max_categories}" if self.overflow else str(len(self.values))
        return f"Categories({held} distinct, count={self.count}, missing={self.missing})"


def aligned(reference: Categories, current: Categories) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """The union of both sides' categories, sorted by value, and each side's int64 counts over it (0 where absent)."""
    import pyarrow.compute as pc
    types = {s.type for s in (reference, current) if s.type is not None}
    if len(types) > 1:
        raise DriftError(f"cannot compare categories of type {reference.type} with categories of type {current.type}")
    t = types.pop() if types else pa.null()
    union = pc.unique(pa.concat_arrays([s.values if s.type is not None else pa.nulls(0, t) for s in (reference, current)]))
    union = union.take(pc.sort_indices(union))
    return union, _counts_over(union, reference), _counts_over(union, current)


def _counts_over(union: pa.Array, side: Categories) -> np.ndarray:
    import pyarrow.compute as pc
    out = np.zeros(len(union), dtype=np.int64)
    if len(side) == 0:
        return out
    where = pc.index_in(union, value_set=side.values)
    found = _mask(where.is_valid())
    out[found] = side.counts[_numbers(where.drop_null()).astype(np.intp)]
    return out
