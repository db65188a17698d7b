"""Shared test set-up. Keep this small: fixtures belong next to the tests that use them.

Hypothesis profiles (choose with ``HYPOTHESIS_PROFILE=dev pytest``):

* ``ci`` (the default): derandomized, so every run of the suite draws the same examples and
  a failure in CI reproduces locally; no example database is written.
* ``dev``: random and 10x the examples, with the example database, to hunt for new failures.

``deadline=None`` in both: numba compiles each kernel signature on its first call, which
would otherwise fail the first example of a test as "too slow".
"""

import os

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
