"""Modules imported on first use, for start-up time: ``compute`` stands for ``pyarrow.compute``.

Importing ``pyarrow.compute`` costs about a third of importing numpy and ``pyarrow.parquet``
together (it wraps each of its hundreds of kernels in Python). Numeric features never
need it; categorical ones do, and import it when they first count.
"""

import importlib


class _OnFirstUse:
    """A module imported when one of its attributes is first asked for."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str):
        return getattr(importlib.import_module(self._name), attr)


compute = _OnFirstUse("pyarrow.compute")
