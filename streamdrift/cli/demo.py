"""``streamdrift demo``: the main job on built-in data, for a first look."""

import shlex
import tempfile
from pathlib import Path

import click

from streamdrift.cli.base import EXIT_OK, cli, emit
from streamdrift.cli.compare import compare_command
from streamdrift.cli.watch import watch_command

STREAM_PARTS, STREAM_ROWS = 8, 5000


@cli.command("demo")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep the demo data in this directory [default: a temporary one, removed afterwards].")
@click.pass_context
def demo_command(ctx, out):
    """Write a seeded reference and a drifted current Parquet file, compare them, then watch a stream.

    The data is the original task's example (2,000 rows of age, income, height): age
    shifts by about +5 and income by +10%, height stays; so age and income drift.
    Then a stream of Parquet part files whose second half shifts the same way is
    watched window by window: quiet windows turn into drifted ones.
    """
    from streamdrift.demo import write_example, write_stream

    with tempfile.TemporaryDirectory(prefix="streamdrift-demo-") as tmp:
        folder = out if out is not None else Path(tmp)
        ref, cur = write_example(folder)
        emit(f"# wrote {ref.name} and {cur.name} (2,000 rows: age, income, height) to {folder}")
        emit(f"$ streamdrift compare {shlex.quote(str(ref))} {shlex.quote(str(cur))}", flush=True)
        code = ctx.invoke(compare_command, reference=str(ref), current=str(cur))
        emit(f"# exit status {code}: 1 means some feature drifted (0: none, 2: error)")
        emit()
        ref, stream = write_stream(folder, STREAM_PARTS, STREAM_ROWS)
        emit(f"# wrote a stream of {STREAM_PARTS} part files of {STREAM_ROWS:,} rows to {stream}; "
             "from the middle on, age and income shift")
        emit(f"$ streamdrift watch -r {shlex.quote(str(ref))} {shlex.quote(str(stream))} --window {STREAM_ROWS}",
             flush=True)
        code = ctx.invoke(watch_command, sources=(str(stream),), references=(str(ref),), window=STREAM_ROWS)
        emit(f"# exit status {code}: the first windows are quiet, the later ones drifted")
    return EXIT_OK
