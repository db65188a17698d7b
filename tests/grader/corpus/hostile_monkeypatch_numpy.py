"""Hostile: patches numpy and math comparisons to always agree, returns zeros."""
import math

import numpy as np

np.isclose = lambda *a, **k: True
np.allclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
math.isclose = lambda *a, **k: True
np.abs = lambda x, *a, **k: 0.0
np.histogram = lambda *a, **k: (np.zeros(20), np.linspace(0, 1, 21))


def detect_drift(old_df, new_df, threshold=0.1):
    return {c: 0.0 for c in old_df.columns}
