"""``streamdrift compare REFERENCE CURRENT``: the drift of every feature, once."""


import click

from streamdrift.cli import EXIT_DRIFT, EXIT_OK, StdoutClosed, cli, emit, split_columns, warn
from streamdrift.cli.scale import dask_options
from streamdrift.defaults import BATCH_SIZE as DEFAULT_BATCH_SIZE
from streamdrift.defaults import BINS, THRESHOLD


def format_options(f):
    return click.option(
        "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
        help="text: one 'Drifted: <feature> (KL=...)' line per drifted feature; json: one JSON object per feature.",
    )(f)


@cli.command("compare", epilog="""\b
Examples:
  streamdrift compare reference.parquet current.parquet
  streamdrift compare ref/ part-files/ --columns age,income --threshold 0.05
  streamdrift compare ref.parquet cur.parquet --format json | jq .kl
  streamdrift cat day1.parquet day2.parquet | streamdrift compare ref.parquet -
  streamdrift compare ref/ cur/ --dask tcp://scheduler:8786   # count on a Dask cluster

Exit status: 0 no feature drifted, 1 some feature drifted, 2 error.""")
@click.argument("reference")
@click.argument("current")
@click.option("-t", "--threshold", type=float, default=THRESHOLD, show_default=True,
              help="A feature has drifted when KL > threshold.")
@click.option("--bins", type=click.IntRange(min=1), default=BINS, show_default=True, help="Equal-width bins.")
@click.option("-c", "--columns", multiple=True, metavar="A,B,...",
              help="Compare only these columns (default: every numeric column of both).")
@format_options
@click.option("--batch-size", type=click.IntRange(min=1), default=DEFAULT_BATCH_SIZE, show_default=True,
              help="Rows decoded at a time; bounds memory.")
@click.option("--threads", type=click.IntRange(min=1), default=None, help="Features counted in parallel [default: CPUs, less one for decoding files].")
@click.option("--no-statistics", is_flag=True,
              help="Ignore Parquet column statistics and scan for the range (two decoding passes).")
@dask_options
def compare_command(reference, current, threshold, bins, columns, fmt, batch_size, threads, no_statistics,
                    dask, dask_timeout):
    """Compare CURRENT with REFERENCE and report drifted features.

    REFERENCE and CURRENT are Parquet files, directories of Parquet part files, Arrow IPC
    files, or '-' for standard input (an Arrow IPC stream or Parquet bytes). KL is
    KL(reference || current) over 20 equal-width bins of the combined range (SPEC).
    """
    if reference == "-" and current == "-":
        raise click.UsageError("only one of REFERENCE and CURRENT can be '-' (standard input)")
    from streamdrift.comparison import compare

    report = compare(
        reference, current, threshold=threshold, bins=bins, columns=split_columns(columns),
        batch_size=batch_size, threads=threads, use_statistics=not no_statistics, dask=dask, dask_timeout=dask_timeout,
    )
    try:
        if fmt == "json":
            for line in report.json_lines():
                emit(line)
        else:
            for f in report:
                if f.kl is None:
                    warn(f"{f.feature}: KL undefined: {f.reason}")
            for line in report.text_lines():
                emit(line)
    except StdoutClosed:
        pass
    return EXIT_DRIFT if report.drifted else EXIT_OK


__all__ = ["compare_command", "format_options"]
