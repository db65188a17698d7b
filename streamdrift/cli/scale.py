"""The ``--dask ADDRESS`` and ``--dask-timeout`` options, shared by ``compare`` and ``profile``."""

import click

from streamdrift.executor import DASK_TIMEOUT


def dask_options(f):
    f = click.option(
        "--dask-timeout", type=click.FloatRange(min=0, min_open=True), default=DASK_TIMEOUT, show_default=True,
        metavar="SECONDS", help="Give up reaching the Dask scheduler after this long (exit 2).",
    )(f)
    return click.option(
        "--dask", "dask", metavar="ADDRESS", default=None,
        help="Count on a Dask cluster: a scheduler address (tcp://host:8786), or local / local:N to start "
             "N worker processes here. Needs pip install 'streamdrift[dask]' (docs/scale.md).",
    )(f)


__all__ = ["dask_options"]
