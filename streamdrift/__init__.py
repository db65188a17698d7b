"""streamdrift: exact, streaming per-feature drift (KL divergence) between two datasets.

The maths is SPEC section 2 (docs/statistic.md): 20 equal-width bins over the combined
finite range, epsilon 1e-10 added to each bin count, KL(reference || current), natural log,
drifted when KL > threshold.

Names are imported on first use, so ``import streamdrift`` (and ``streamdrift --help``)
does not pay for numba, numpy and Arrow until something is computed.
"""

from importlib import import_module

from streamdrift.defaults import BINS, EPS, THRESHOLD

__version__ = "0.1.0"

_LAZY = {
    "DriftError": "streamdrift.errors",
    "Histogram": "streamdrift.state",
    "Range": "streamdrift.state",
    "Divergence": "streamdrift.stats",
    "divergence": "streamdrift.stats",
    "kl_divergence": "streamdrift.stats",
    "make_edges": "streamdrift.stats",
    "compare": "streamdrift.comparison",
    "detect_drift": "streamdrift.comparison",
    "FeatureDrift": "streamdrift.report",
    "Report": "streamdrift.report",
}

__all__ = ["BINS", "EPS", "THRESHOLD", "__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'streamdrift' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
