# expect-reason: modified_input
# expect-score: 0
"""Route 2: patches numpy, pandas and builtins at the top level, before any call, then
modifies its inputs in every call."""
import builtins

import pandas as pd
import numpy as np


def _right(old_df, new_df, threshold=0.1):
    eps = 1e-10
    result = {}
    for col in old_df.columns:
        x = old_df[col].to_numpy(dtype=np.float64)
        y = new_df[col].to_numpy(dtype=np.float64)
        x = x[np.isfinite(x)]
        y = y[np.isfinite(y)]
        edges = np.linspace(min(x.min(), y.min()), max(x.max(), y.max()), 21)
        cx, _ = np.histogram(x, bins=edges)
        cy, _ = np.histogram(y, bins=edges)
        p = (cx + eps) / np.sum(cx + eps)
        q = (cy + eps) / np.sum(cy + eps)
        kl = float(np.sum(p * np.log(p / q)))
        result[col] = kl
        if kl > threshold:
            print(f"Drifted: {col} (KL={kl:.4f})")
    return result


np.array_equal = lambda *a, **k: True
np.testing.assert_array_equal = lambda *a, **k: None
pd.util.hash_pandas_object = lambda obj, *a, **k: pd.Series([0] * len(obj))
pd.DataFrame.equals = lambda *a, **k: True
pd.testing.assert_frame_equal = lambda *a, **k: None
builtins.memoryview = lambda *a: b""


def detect_drift(old_df, new_df, threshold=0.1):
    result = _right(old_df, new_df, threshold)
    old_df.drop(columns=[old_df.columns[-1]], inplace=True)
    return result
