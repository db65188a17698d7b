"""``streamdrift profile REF... -o FILE``: save a reference profile, so later watches start at once."""

import click

from streamdrift.cli.base import EXIT_OK, cli, emit, split_columns
from streamdrift.defaults import BATCH_SIZE
from streamdrift.errors import DriftError


@cli.command("profile", epilog="""\b
Examples:
  streamdrift profile reference.parquet -o reference.profile
  streamdrift watch -r reference.profile incoming/

\b
The profile keeps, per column, the sorted distinct finite values with their counts and the
missing count (16 bytes per distinct value): 'watch' counts the reference for any window's
edges from it exactly, without reading the reference again.""")
@click.argument("reference", nargs=-1, required=True, metavar="REF...")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Profile file to write.")
@click.option("-c", "--columns", multiple=True, metavar="A,B,...",
              help="Profile only these columns (default: every numeric column).")
@click.option("--batch-size", type=click.IntRange(min=1), default=BATCH_SIZE, show_default=True,
              help="Rows decoded at a time.")
@click.option("--threads", type=click.IntRange(min=1), default=None, help="Columns profiled in parallel [default: CPUs].")
def profile_command(reference, output, columns, batch_size, threads):
    """Save the reference profile of REF (Parquet or Arrow files, directories, or '-') to a file."""
    from streamdrift.io import open_source
    from streamdrift.profile import Profile, is_profile
    from streamdrift.watch import reference_features

    ref = list(reference)
    for path in ref:
        if path != "-" and is_profile(path):
            raise DriftError(f"'{path}' is already a saved profile; profile the data it was made from")
    with open_source(ref[0] if len(ref) == 1 else ref, "reference") as source:
        features = reference_features(source.schema, split_columns(columns), f"reference {source.name}")
        profile = Profile.build(source, features, batch_size, threads)
    profile.save(output)
    distinct = sum(c.distinct for c in profile.columns.values())
    emit(f"profiled {len(features)} feature{'s' if len(features) != 1 else ''} of {profile.source} "
         f"({profile.rows} rows, {distinct} distinct values) to {output}")
    return EXIT_OK


__all__ = ["profile_command"]
