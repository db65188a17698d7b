"""``streamdrift compare REFERENCE CURRENT``: the drift of every feature, once."""


import click

from streamdrift.cli.base import StdoutClosed, cli, emit, split_columns, warn
from streamdrift.cli.report import html_options, require_html
from streamdrift.defaults import BATCH_SIZE, BINS, MAX_CATEGORIES, THRESHOLD


def format_options(f):
    return click.option(
        "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
        help="text: one 'Drifted: <feature> (KL=...)' line per drifted feature; json: one JSON object per feature.",
    )(f)


def category_options(f):
    """``--categorical`` and ``--max-categories`` (compare, watch, profile)."""
    f = click.option("--max-categories", type=click.IntRange(min=1), default=MAX_CATEGORIES, show_default=True,
                     help="A categorical feature with more distinct values has no KL (null, with a reason); "
                          "bounds memory.")(f)
    return click.option("--categorical", multiple=True, metavar="A,B,...",
                        help="Count these integer columns as categories (zip codes, ids), not as numbers.")(f)


@cli.command("compare", epilog="""\b
Examples:
  streamdrift compare reference.parquet current.parquet
  streamdrift compare ref/ part-files/ --columns age,income --threshold 0.05
  streamdrift compare ref.parquet cur.parquet --categorical zip_code --format json | jq .kl
  streamdrift cat day1.parquet day2.parquet | streamdrift compare ref.parquet -

\b
Features: every number (integer, float, boolean, decimal) and every category (string,
dictionary) column of both sides. Other columns are reported as skipped, with their type;
a timestamp named with --columns is binned on its integer values.

Exit status: 0 no feature drifted, 1 some feature drifted, 2 error.""")
@click.argument("reference")
@click.argument("current")
@click.option("-t", "--threshold", type=float, default=THRESHOLD, show_default=True,
              help="A feature has drifted when KL > threshold.")
@click.option("--bins", type=click.IntRange(min=1), default=BINS, show_default=True,
              help="Equal-width bins of a numeric feature.")
@click.option("-c", "--columns", multiple=True, metavar="A,B,...",
              help="Compare only these columns (default: every numeric and categorical column of both).")
@category_options
@format_options
@click.option("-q", "--quiet", is_flag=True, help="No summary line on standard error (text format).")
@click.option("--batch-size", type=click.IntRange(min=1), default=BATCH_SIZE, show_default=True,
              help="Rows decoded at a time; bounds memory.")
@click.option("--threads", type=click.IntRange(min=1), default=None, help="Features counted in parallel [default: CPUs, less one for decoding files].")
@click.option("--no-statistics", is_flag=True,
              help="Ignore Parquet column statistics and scan for the range (two decoding passes).")
@html_options
def compare_command(reference, current, threshold, bins, columns, categorical, max_categories, fmt, quiet,
                    batch_size, threads, no_statistics, html, counts):
    """Compare CURRENT with REFERENCE and report drifted features.

    REFERENCE and CURRENT are Parquet files, directories of Parquet part files, Arrow IPC
    files, or '-' for standard input (an Arrow IPC stream or Parquet bytes). KL is
    KL(reference || current), natural log, with 1e-10 added to every count: over 20
    equal-width bins of the combined range for a number, over the union of both sides'
    values for a category (docs/statistic.md).
    """
    if reference == "-" and current == "-":
        raise click.UsageError("only one of REFERENCE and CURRENT can be '-' (standard input)")
    require_html(html)
    from streamdrift.comparison import compare

    report = compare(
        reference, current, threshold=threshold, bins=bins, columns=split_columns(columns),
        categorical=split_columns(categorical, "--categorical"), max_categories=max_categories,
        batch_size=batch_size, threads=threads, use_statistics=not no_statistics,
    )
    try:
        if fmt == "json":
            from streamdrift.html.records import json_lines

            for line in json_lines(report, counts):
                emit(line)
        else:
            if report.skipped:
                click.echo(skipped_line(report.skipped), err=True)
            for f in report:
                if f.kl is None:
                    warn(f"{f.feature}: KL undefined: {f.reason}")
            for line in report.text_lines():
                emit(line)
            emit("", flush=True, newline=False)  # the lines before the summary on a terminal
    except StdoutClosed:
        pass
    if fmt == "text" and not quiet:  # even when stdout was closed (| head -1): its drift decided the exit status
        click.echo(report.summary(), err=True)
    if html is not None:
        from streamdrift.html.drift import write_compare

        write_compare(html, report, [reference, current])
    return report.exit_code


def skipped_line(skipped) -> str:
    """``skipped 1 column that is neither a number nor a category: time_hour (timestamp[us]); ...``"""
    from streamdrift.report import plural

    one = len(skipped) == 1
    text = f"skipped {plural(len(skipped), 'column')} that {'is' if one else 'are'} neither a number nor a category: "
    text += ", ".join(f"{s.feature} ({s.type})" for s in skipped)
    times = [s for s in skipped if s.temporal]
    if times:
        text += f"; name {'it' if len(times) == 1 and one else 'a time column'} with --columns to bin it as numbers"
    return text


__all__ = ["category_options", "compare_command", "format_options", "skipped_line"]
