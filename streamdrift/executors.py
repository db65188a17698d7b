"""``executor_for``: the executor for a run, by what was asked (the registry above the
``Executor`` interface, so that the interface imports no executor). Imports dask only when a
cluster is asked for."""

from streamdrift.counting import Counter
from streamdrift.executor import DASK_TIMEOUT, Executor, is_dask_collection, reads_files


def executor_for(dask=None, inputs: tuple = (), threads: int | None = None, timeout: float = DASK_TIMEOUT) -> Executor:
    """The executor for ``inputs``: a Dask cluster when ``dask`` is given (an address,
    ``local``/``local:N``, a ``distributed.Client`` or an ``Executor``) or an input is a dask collection;
    otherwise local threads (``threads``, default one per CPU, less one while decoding files).
    """
    if isinstance(dask, Executor):
        return dask
    if dask is not None or any(is_dask_collection(x) for x in inputs):
        from streamdrift.cluster import DaskExecutor

        return DaskExecutor.connect(dask, timeout=timeout, threads=threads)
    return Counter(threads, decoding=any(reads_files(x) for x in inputs))
