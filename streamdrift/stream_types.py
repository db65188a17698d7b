"""A stream of files keeps its column types: the first rows read fix them, a later file may not change them."""

from collections.abc import Iterable, Iterator

import pyarrow as pa

from streamdrift.errors import DriftError


def check_types(schema: pa.Schema, columns: list[str], types: dict, where: str) -> None:
    """Each column keeps the type it had in the first data of a stream (``types``, filled as it goes), or a DriftError."""
    found = {c: schema.field(c).type for c in columns}
    for c, t in found.items():
        if types.get(c, t) != t:
            raise DriftError(
                f"column '{c}' in {where} has type {t}, but earlier data had {types[c]}; every file of a "
                "stream keeps the first one's types: convert this one, or read it on its own"
            )
    for c, t in found.items():
        types.setdefault(c, t)


def keeping_types(batches: Iterable[pa.RecordBatch], schema: pa.Schema, columns: list[str], types: dict,
                  where: str) -> Iterator[pa.RecordBatch]:
    """``batches`` of one file or stream, its ``columns`` checked against ``types`` (``check_types``)
    when its first row arrives: a file without rows neither fixes nor breaks a type."""
    checked = False
    for batch in batches:
        if not checked and batch.num_rows:
            check_types(schema, columns, types, where)
            checked = True
        yield batch
