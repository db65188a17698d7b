# expect-reason: exec_error|disallowed_import
# expect-score: 0
"""Route 1: the gold check's own import, from a submission: streamdrift must not be importable."""
from streamdrift import detect_drift  # noqa: F401
