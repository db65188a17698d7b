"""Shared test set-up. Keep this small: fixtures belong next to the tests that use them.

Hypothesis profiles (choose with ``HYPOTHESIS_PROFILE=dev pytest``):

* ``ci`` (the default): derandomized, so every run of the suite draws the same examples and
  a failure in CI reproduces locally; no example database is written.
* ``dev``: random and 10x the examples, with the example database, to hunt for new failures.

``deadline=None`` in both: numba compiles each kernel signature on its first call, which
would otherwise fail the first example of a test as "too slow".
"""

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=100,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev",
    deadline=None,
    max_examples=1000,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# One Dask LocalCluster for every test that needs one (tests/**/test_dask*.py): starting 2 worker
# processes costs seconds on a loaded machine, so they share it. A test that kills a worker waits
# for the nanny's replacement before it ends (tests/dask_helpers.py).
@pytest.fixture(scope="session")
def dask_client():
    """A client of a LocalCluster of 2 single-threaded worker processes on 127.0.0.1."""
    import logging

    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=":0", silence_logs=logging.CRITICAL)
    client = distributed.Client(cluster, set_as_default=False)
    yield client
    client.close()
    cluster.close()
