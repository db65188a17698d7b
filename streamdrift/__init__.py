"""streamdrift: exact, streaming per-feature drift (KL divergence) between two datasets.

The maths is SPEC section 2 (docs/statistic.md): 20 equal-width bins over the combined
finite range, epsilon 1e-10 added to each bin count, KL(reference || current), natural log,
drifted when KL > threshold.
"""

from streamdrift.errors import DriftError
from streamdrift.state import Histogram, Range
from streamdrift.stats import BINS, EPS, THRESHOLD, Divergence, divergence, kl_divergence, make_edges

__version__ = "0.1.0"

__all__ = [
    "BINS",
    "EPS",
    "THRESHOLD",
    "Divergence",
    "DriftError",
    "Histogram",
    "Range",
    "divergence",
    "kl_divergence",
    "make_edges",
]

from streamdrift.compare import compare, detect_drift  # noqa: E402
from streamdrift.report import FeatureDrift, Report  # noqa: E402

__all__ += ["FeatureDrift", "Report", "compare", "detect_drift"]
