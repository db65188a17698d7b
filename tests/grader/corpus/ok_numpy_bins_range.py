"""Corpus: correct, numpy's own binning: np.histogram(bins=20, range=(lo, hi)), scipy-free KL."""
import numpy as np


def detect_drift(old_df, new_df, threshold=0.1):
    drift = {}
    for name in old_df.columns:
        a = np.asarray(old_df[name], dtype=float)
        b = np.asarray(new_df[name], dtype=float)
        a, b = a[~np.isnan(a) & ~np.isinf(a)], b[~np.isnan(b) & ~np.isinf(b)]
        lo, hi = min(a.min(), b.min()), max(a.max(), b.max())
        ca, _ = np.histogram(a, bins=20, range=(lo, hi))
        cb, _ = np.histogram(b, bins=20, range=(lo, hi))
        p = (ca + 1e-10) / (ca + 1e-10).sum()
        q = (cb + 1e-10) / (cb + 1e-10).sum()
        drift[name] = np.sum(p * np.log(p / q))  # a numpy float64 is a float too
    for name, kl in drift.items():
        if kl > threshold:
            print(f"Drifted: {name} (KL={kl:.4e})")
    return drift
