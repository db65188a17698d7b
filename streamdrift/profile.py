"""The reference profile: every reference column as sorted distinct values with their counts.

With it, the reference's bin counts for *any* edges come from two binary searches per
edge, without reading the reference again; they equal ``Histogram(edges)`` filled with
the reference exactly (numpy's rule: ``edges[i] <= v < edges[i+1]``, the last bin also
holds ``v == edges[-1]``; values outside the edges go to the end bins). This is what lets
``watch --edges combined`` give each window the exact statistic of ``compare``.

Memory is bounded by the number of distinct finite values per column (16 bytes each),
never by the number of rows. A profile is built batch by batch (column_profile.py) and
saved as an Arrow IPC file, memory-mapped when loaded, so later runs start at once. (``pyarrow.compute`` is imported
only to cast integer categories: see ``_as_type``.)
"""

import base64
import binascii
import json
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pyarrow as pa

from streamdrift.categories import Categories, arrow_numbers, arrow_strings, canonical_type
from streamdrift.convert import CATEGORICAL, NUMERIC, column_values
from streamdrift.defaults import MAX_CATEGORIES
from streamdrift.errors import DriftError
from streamdrift.column_profile import ColumnBuilder, ColumnProfile

FORMAT = "streamdrift-profile"
VERSION = 2  # 2 added categorical features ("kind", "categories"); version 1 files are read too
_META_KEY = b"streamdrift.profile"
_SCHEMA_KEY = b"streamdrift.source_schema"
_TABLE_SCHEMA = pa.schema(
    [
        ("feature", pa.string()),
        ("missing", pa.int64()),
        ("values", pa.large_list(pa.float64())),
        ("cumulative", pa.large_list(pa.int64())),
        ("kind", pa.string()),
        ("categories", pa.large_list(pa.large_string())),
    ]
)


class Profile:
    """The profile of a reference dataset: a ``ColumnProfile`` per feature, in column order.

    ``schema`` is the Arrow schema of the profiled source; ``features`` the profiled columns.
    """

    def __init__(self, columns: dict[str, ColumnProfile], schema: pa.Schema, source: str = "", rows: int = 0):
        self.columns = dict(columns)
        self.schema = schema
        self.source = source
        self.rows = int(rows)

    @property
    def features(self) -> list[str]:
        return list(self.columns)

    @property
    def feature_schema(self) -> pa.Schema:
        """The source's fields of the profiled columns only."""
        return pa.schema([self.schema.field(name) for name in self.columns])

    def __getitem__(self, feature: str) -> "ColumnProfile | Categories":
        return self.columns[feature]

    @classmethod
    def build(cls, source, features: list[str], batch_size: int, threads: int | None = None, kinds=None,
              max_categories: int = MAX_CATEGORIES, executor=None) -> "Profile":
        """Profile ``features`` of a ``Source`` in one pass, batch by batch (on ``executor``, if given).

        ``kinds`` maps a feature to "categorical" (its per-category counts, a ``Categories``)
        or "numeric" (the default: a ``ColumnProfile``)."""
        from streamdrift.counting import Counter

        kinds = kinds or {}
        builders = {f: Categories(max_categories) if kinds.get(f) == CATEGORICAL else ColumnBuilder() for f in features}
        with Counter(threads) if executor is None else nullcontext(executor) as counter:
            counter.fill(source, builders, batch_size)
        columns = {f: b if isinstance(b, Categories) else b.build() for f, b in builders.items()}
        rows = next(iter(columns.values())).count + next(iter(columns.values())).missing if columns else 0
        return cls(columns, source.schema, source.name, rows)

    @classmethod
    def from_arrays(cls, data: dict) -> "Profile":
        """Profile in-memory columns (name -> array of numbers); for tests and small data."""
        columns = {}
        for name, values in data.items():
            builder = ColumnBuilder()
            for chunk in column_values(values if isinstance(values, (pa.Array, pa.ChunkedArray)) else np.asarray(values)):
                builder.update(chunk)
            columns[name] = builder.build()
        schema = pa.schema([(name, pa.float64()) for name in data])
        rows = len(next(iter(data.values()))) if data else 0
        return cls(columns, schema, "arrays", rows)

    def save(self, path) -> None:
        """Write the profile as an Arrow IPC file (readable by any Arrow tool)."""
        names = self.features
        missing = [self.columns[f].missing for f in names]
        numbers = {f: c for f, c in self.columns.items() if not isinstance(c, Categories)}
        values = _large_list([numbers[f].values if f in numbers else np.empty(0) for f in names], pa.float64())
        counts = _large_list([numbers[f].cumulative if f in numbers else _cumulative(self.columns[f]) for f in names],
                             pa.int64())
        kinds = [NUMERIC if f in numbers else CATEGORICAL for f in names]
        labels = [None if f in numbers or self.columns[f].overflow
                  else _as_type(self.columns[f].values, pa.large_string()) for f in names]
        meta = {
            _META_KEY: json.dumps({"format": FORMAT, "version": VERSION, "source": self.source, "rows": self.rows,
                                   "max_categories": min([c.max_categories for c in self.columns.values()
                                                          if isinstance(c, Categories)], default=MAX_CATEGORIES)}),
            _SCHEMA_KEY: base64.b64encode(self.schema.serialize().to_pybytes()),
        }
        table = pa.table(
            [arrow_strings(names), arrow_numbers(missing), values, counts, arrow_strings(kinds), _string_lists(labels)],
            schema=_TABLE_SCHEMA.with_metadata(meta),
        )
        path = Path(path)
        tmp = path.with_name(f".{path.name}.tmp")
        try:
            with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
                writer.write_table(table)
            tmp.replace(path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise DriftError(f"cannot write profile '{path}': {exc.strerror or exc}") from None

    @classmethod
    def load(cls, path) -> "Profile":
        """Read a saved profile (memory-mapped: columns are paged in only when used)."""
        try:
            reader = pa.ipc.open_file(pa.memory_map(str(path)))
            table = reader.read_all()
        except (pa.ArrowException, OSError) as exc:
            raise DriftError(f"cannot read profile '{path}': {str(exc).strip().splitlines()[0]}") from None
        info = _profile_info(table.schema.metadata)
        if info is None:
            raise DriftError(f"'{path}' is an Arrow file but not a streamdrift profile; make one with 'streamdrift profile'")
        if info.get("version") not in (1, VERSION):
            raise DriftError(
                f"profile '{path}' has format version {info.get('version')!r}; this streamdrift reads version "
                f"{VERSION}: re-create it with 'streamdrift profile'"
            )
        try:
            schema = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(table.schema.metadata[_SCHEMA_KEY])))
            if any(c.num_chunks > 1 for c in table.columns):
                table = table.combine_chunks()
            names = table.column("feature").to_pylist()
            missing = table.column("missing").to_pylist()
            values = _unpack(table.column("values").chunk(0) if table.num_rows else None, names)
            cumulative = _unpack(table.column("cumulative").chunk(0) if table.num_rows else None, names)
            cap = int(info.get("max_categories", MAX_CATEGORIES))
            kinds = table.column("kind").to_pylist() if "kind" in table.column_names else [NUMERIC] * len(names)
            columns = {
                n: ColumnProfile.from_cumulative(v, c, m) if k == NUMERIC
                else _categories(table.column("categories")[i], c, m, schema.field(n).type, cap)
                for i, (n, k, v, c, m) in enumerate(zip(names, kinds, values, cumulative, missing))
            }
        except (pa.ArrowException, KeyError, ValueError, TypeError, IndexError, AttributeError, binascii.Error) as exc:
            raise DriftError(
                f"profile '{path}' is damaged ({str(exc).strip().splitlines()[0][:120]}); "
                "re-create it with 'streamdrift profile'"
            ) from None
        return cls(columns, schema, info.get("source", ""), info.get("rows", 0))

    def __repr__(self):
        return f"<Profile of {self.source or 'data'}: {len(self.columns)} features, {self.rows} rows>"


def _cumulative(state: Categories) -> np.ndarray:
    """A categorical feature's running counts (a leading 0); just ``[0, count]`` when it overflowed."""
    counts = np.array([state.count]) if state.overflow else state.counts
    return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


def _string_lists(arrays: list) -> pa.LargeListArray:
    """Each categorical feature's categories as text (None for numeric and overflowed features)."""
    flat = [a for a in arrays if a is not None]
    offsets = np.zeros(len(arrays) + 1, dtype=np.int64)
    np.cumsum([0 if a is None else len(a) for a in arrays], out=offsets[1:])
    valid = pa.py_buffer(np.packbits([a is not None for a in arrays], bitorder="little"))
    values = pa.concat_arrays(flat) if flat else pa.nulls(0, pa.large_string())
    return pa.Array.from_buffers(pa.large_list(pa.large_string()), len(arrays), [valid, pa.py_buffer(offsets)],
                                 children=[values])  # (from_arrays with a mask imports pyarrow.compute)


def _as_type(values: pa.Array, arrow_type: pa.DataType) -> pa.Array:
    """``values`` cast to ``arrow_type`` (``Array.cast`` imports pyarrow.compute, 0.1-0.3 s, only when it casts)."""
    return values if values.type == arrow_type else values.cast(arrow_type)


def _categories(labels: pa.Scalar, cumulative: np.ndarray, missing: int, source_type: pa.DataType,
                cap: int) -> Categories:
    if not labels.is_valid:
        return Categories.restore(None, [], missing, int(cumulative[-1]), cap, canonical_type(source_type))
    values = labels.values
    if canonical_type(source_type) != values.type:  # integer categories, stored as their decimal text
        values = _as_type(values, canonical_type(source_type))
    return Categories.restore(values, np.diff(cumulative), missing, int(cumulative[-1]), cap)


def _large_list(arrays: list[np.ndarray], value_type: pa.DataType) -> pa.LargeListArray:
    offsets = np.zeros(len(arrays) + 1, dtype=np.int64)
    np.cumsum([a.size for a in arrays], out=offsets[1:])
    flat = np.concatenate(arrays) if arrays else np.empty(0)
    return pa.LargeListArray.from_arrays(arrow_numbers(offsets), arrow_numbers(flat, value_type.to_pandas_dtype()))


def _unpack(arr, names) -> list[np.ndarray]:
    """Each row's list values as zero-copy views (``frombuffer``: ``to_numpy`` would import pandas)."""
    if arr is None:
        return []
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    child = arr.values
    dtype = np.float64 if pa.types.is_floating(child.type) else np.int64
    flat = np.frombuffer(child.buffers()[1], dtype=dtype)[child.offset : child.offset + len(child)]
    return [flat[offsets[i] : offsets[i + 1]] for i in range(len(names))]


def _profile_info(metadata) -> dict | None:
    if not metadata or _META_KEY not in metadata or _SCHEMA_KEY not in metadata:
        return None
    try:
        info = json.loads(metadata[_META_KEY])
    except ValueError:
        return None
    return info if isinstance(info, dict) and info.get("format") == FORMAT else None


def is_profile(path) -> bool:
    """True when ``path`` is a file saved by ``Profile.save`` (an Arrow IPC file with our metadata)."""
    try:
        with open(path, "rb") as f:
            if f.read(6) != b"ARROW1":
                return False
        return _profile_info(pa.ipc.open_file(pa.memory_map(str(path))).schema.metadata) is not None
    except (OSError, pa.ArrowException):
        return False
