"""``streamdrift report FILE.jsonl -o report.html``, and the ``--html``/``--counts`` options.

The HTML modules (jinja2, matplotlib: the ``report`` extra) are imported only when a report
is asked for.
"""

import click

from streamdrift.cli.base import cli


def html_options(f):
    """``--html PATH`` and ``--counts`` for compare and watch."""
    f = click.option("--counts", is_flag=True,
                     help="JSON records carry the bins (edges or categories) and both count vectors, "
                          "so 'streamdrift report' can draw them.")(f)
    return click.option("--html", "html", metavar="PATH", default=None,
                        help="Also write a self-contained HTML report to PATH (needs streamdrift[report]).")(f)


def require_html(path) -> None:
    """Fail at once (exit 2, one line) if ``--html`` is given without the report extra."""
    if path is not None:
        from streamdrift.html import require

        require()


@cli.command("report", epilog="""\b
Examples:
  streamdrift compare ref.parquet cur.parquet --format json --counts > drift.jsonl
  streamdrift report drift.jsonl -o report.html
  streamdrift watch -r ref.profile --format json --counts day*.parquet | streamdrift report - -o watch.html

Exit status: 0 written, 2 error.""")
@click.argument("records", metavar="FILE.jsonl")
@click.option("-o", "--output", required=True, metavar="PATH", help="The HTML file to write.")
def report_command(records, output):
    """Write an HTML report from the saved '--format json' output of compare or watch.

    FILE.jsonl ('-' for standard input) holds one JSON record per feature (per window, for
    watch); records saved with --counts also show each feature's distributions.
    """
    from streamdrift.html import require

    require()
    from streamdrift.html.drift import write_from_jsonl

    count = write_from_jsonl(output, records)
    click.echo(f"wrote {output} from {count} records", err=True)
    return 0


__all__ = ["html_options", "report_command", "require_html"]
