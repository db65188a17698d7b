"""Corpus: a correct solution that uses scipy, which the task does not allow (numpy and pandas only)."""
import numpy as np
from scipy.stats import entropy


def detect_drift(old_df, new_df, threshold=0.1):
    result = {}
    for col in old_df.columns:
        x = old_df[col].to_numpy(dtype=np.float64)
        y = new_df[col].to_numpy(dtype=np.float64)
        x, y = x[np.isfinite(x)], y[np.isfinite(y)]
        edges = np.linspace(min(x.min(), y.min()), max(x.max(), y.max()), 21)
        p = np.histogram(x, edges)[0] + 1e-10
        q = np.histogram(y, edges)[0] + 1e-10
        result[col] = float(entropy(p / p.sum(), q / q.sum()))
        if result[col] > threshold:
            print(f"Drifted: {col} (KL={result[col]:.4f})")
    return result
