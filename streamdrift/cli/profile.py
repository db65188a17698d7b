"""``streamdrift profile REF... -o FILE``: save a reference profile, so later watches start at once."""

import click

from streamdrift.cli.base import EXIT_OK, cli, emit, split_columns
from streamdrift.cli.compare import category_options, skipped_line
from streamdrift.cli.scale import dask_options
from streamdrift.defaults import BATCH_SIZE
from streamdrift.errors import DriftError


@cli.command("profile", epilog="""\b
Examples:
  streamdrift profile reference.parquet -o reference.profile
  streamdrift watch -r reference.profile incoming/

\b
The profile keeps, per numeric column, the sorted distinct finite values with their counts
and the missing count (16 bytes per distinct value): 'watch' counts the reference for any
window's edges from it exactly, without reading the reference again. Per categorical column
(strings, dictionaries, --categorical integers) it keeps the count of each category.
Other columns are reported as skipped.""")
@click.argument("reference", nargs=-1, required=True, metavar="REF...")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Profile file to write.")
@click.option("-c", "--columns", multiple=True, metavar="A,B,...",
              help="Profile only these columns (default: every numeric and categorical column).")
@category_options
@click.option("--batch-size", type=click.IntRange(min=1), default=BATCH_SIZE, show_default=True,
              help="Rows decoded at a time.")
@click.option("--threads", type=click.IntRange(min=1), default=None, help="Columns profiled in parallel [default: CPUs].")
@dask_options
def profile_command(reference, output, columns, categorical, max_categories, batch_size, threads, dask, dask_timeout):
    """Save the reference profile of REF (Parquet or Arrow files, directories, or '-') to a file."""
    from streamdrift.executors import executor_for
    from streamdrift.features import reference_selection
    from streamdrift.profile import is_profile
    from streamdrift.report import plural
    from streamdrift.watch import profile_reference

    ref = list(reference)
    for path in ref:
        if path != "-" and is_profile(path):
            raise DriftError(f"'{path}' is already a saved profile; profile the data it was made from")
    data = ref[0] if len(ref) == 1 else ref
    with executor_for(dask, (), threads, dask_timeout) as executor, executor.open(data, "reference", True) as source:
        selection = reference_selection(source, split_columns(columns), split_columns(categorical, "--categorical"))
        if selection.skipped:
            click.echo(skipped_line(selection.skipped), err=True)
        profile = profile_reference(source, selection, max_categories, batch_size, threads, executor)
    profile.save(output)
    distinct = sum(c.distinct for c in profile.columns.values())
    kinds = f"{len(selection.of_kind('numeric'))} numeric, {len(selection.of_kind('categorical'))} categorical"
    emit(f"profiled {plural(len(selection.kinds), 'feature')} ({kinds}) of {profile.source} "
         f"({profile.rows} rows, {distinct} distinct values) to {output}")
    return EXIT_OK


__all__ = ["profile_command"]
