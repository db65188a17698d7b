"""Corpus: returns formatted strings instead of floats."""
import numpy as np


def detect_drift(old_df, new_df, threshold=0.1):
    out = {}
    for c in old_df.columns:
        x = old_df[c].to_numpy(np.float64); x = x[np.isfinite(x)]
        y = new_df[c].to_numpy(np.float64); y = y[np.isfinite(y)]
        e = np.linspace(min(x.min(), y.min()), max(x.max(), y.max()), 21)
        p = np.histogram(x, e)[0] + 1e-10; q = np.histogram(y, e)[0] + 1e-10
        p, q = p / p.sum(), q / q.sum()
        out[c] = f"{np.sum(p * np.log(p / q)):.4f}"
    return out
