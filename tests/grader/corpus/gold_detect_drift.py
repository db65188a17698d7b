"""Corpus: the gold check through the high-level API: streamdrift.detect_drift itself."""
from streamdrift import detect_drift  # noqa: F401
