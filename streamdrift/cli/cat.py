"""``streamdrift cat FILE...``: files as one Arrow IPC stream on stdout, the glue for pipes into ``watch -``."""

import errno
import sys

import click

from streamdrift.cli.base import EXIT_OK, StdoutClosed, silence_stdout, cli, split_columns
from streamdrift.defaults import BATCH_SIZE
from streamdrift.errors import DriftError


@cli.command("cat", epilog="""\b
Examples:
  streamdrift cat day1.parquet day2.parquet | streamdrift watch -r ref.parquet -
  streamdrift cat parts/ --columns age,income > stream.arrows""")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("-c", "--columns", multiple=True, metavar="A,B,...", help="Only these columns [default: all].")
@click.option("--batch-size", type=click.IntRange(min=1), default=BATCH_SIZE, show_default=True,
              help="Rows per record batch.")
def cat_command(files, columns, batch_size):
    """Write the rows of FILE... (Parquet, Arrow IPC, directories) to stdout as one Arrow IPC stream.

    Every file must have the first file's columns, of the same types (extra columns are
    dropped). A file that cannot be read stops the stream with an error (exit status 2),
    so nothing is dropped silently downstream.
    """
    from pathlib import Path

    import pyarrow as pa

    from streamdrift.files import data_files, file_format, read_file
    from streamdrift.io import FileSource
    from streamdrift.stream_types import keeping_types

    if sys.stdout.isatty():
        raise click.UsageError("stdout is a terminal; pipe it into 'streamdrift watch -r REF -' or redirect it to a file")
    paths = [p for f in files for p in data_files(Path(f))]
    names = split_columns(columns)  # else the first file's columns
    out = sys.stdout.buffer
    writer = schema = first = None
    types = {}
    try:
        for path in paths:
            with FileSource([path], name=f"'{path}'") as source:
                names = names or source.schema.names
                for name in names:
                    if source.schema.get_field_index(name) < 0:
                        raise DriftError(f"column '{name}' is missing from '{path}'; every file must have the "
                                         "columns of the first (or name them with --columns)")
                here = pa.schema([source.schema.field(n) for n in names])
                first = first or here
                batches = read_file(path, file_format(path), names, batch_size)
                for batch in keeping_types(batches, here, names, types, f"'{path}'"):
                    if not batch.num_rows:
                        continue
                    if writer is None:
                        schema = here
                        writer = pa.ipc.new_stream(out, schema)
                    if batch.schema != schema:
                        batch = _cast(batch, schema, path)
                    writer.write_batch(batch)
                    out.flush()
        if writer is None and first is not None:
            writer = pa.ipc.new_stream(out, first)  # no rows at all: a valid, empty stream
        if writer is not None:
            writer.close()
            out.flush()
    except OSError as exc:  # BrokenPipeError, or pyarrow's own OSError for a closed pipe
        if exc.errno != errno.EPIPE:
            raise
        silence_stdout()
        raise StdoutClosed() from None
    return EXIT_OK


def _cast(batch, schema, path):
    import pyarrow as pa

    try:
        return batch.cast(schema)
    except (pa.ArrowException, ValueError) as exc:
        raise DriftError(f"'{path}' has types that cannot be cast to the stream's {schema}: {exc}") from None


__all__ = ["cat_command"]
