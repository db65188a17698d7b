"""Inputs with the Arrow PyCapsule stream interface (``__arrow_c_stream__``): polars DataFrames,
DuckDB relations, recent pandas, and any other library that exports Arrow streams."""

import pyarrow as pa

from streamdrift.errors import DriftError
from streamdrift.defaults import BATCH_SIZE
from streamdrift.files import one_line
from streamdrift.io import Source


class StreamSource(Source):
    """An object with the Arrow PyCapsule stream interface (polars DataFrames, DuckDB relations, ...),
    exported again for every pass; a pass that gives other rows than the first is an error."""

    def __init__(self, obj, name: str):
        self.obj = obj
        self.name = name
        self._rows = None
        reader = self._reader()
        self.schema = reader.schema
        reader.close()

    def _reader(self) -> pa.RecordBatchReader:
        try:
            return pa.RecordBatchReader.from_stream(self.obj)
        except (pa.ArrowException, TypeError, ValueError) as exc:
            raise DriftError(f"{self.name}: cannot read its Arrow stream: {one_line(exc)}") from None

    def batches(self, columns, batch_size=BATCH_SIZE):
        rows = 0
        with self._reader() as reader:
            for batch in reader:
                rows += batch.num_rows
                yield batch.select(columns)
        if self._rows is None:
            self._rows = rows
        elif rows != self._rows:
            raise DriftError(
                f"{self.name}: its Arrow stream gave {self._rows} rows, then {rows} when read again; "
                "pass data that can be read twice (a DataFrame, a pyarrow Table)"
            )
