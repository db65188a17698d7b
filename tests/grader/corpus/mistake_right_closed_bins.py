"""Corpus: bins with pd.cut(both, bins=20), as models often write it. pd.cut's intervals are
closed on the right ((a, b]), so a value on an inner edge is counted in the lower bin."""
import numpy as np
import pandas as pd


def detect_drift(old_df, new_df, threshold=0.1):
    result = {}
    for col in old_df.columns:
        old = old_df[col].replace([np.inf, -np.inf], np.nan).dropna().astype("float64")
        new = new_df[col].replace([np.inf, -np.inf], np.nan).dropna().astype("float64")
        both = pd.concat([old, new], ignore_index=True)
        bins = pd.cut(both, bins=20)
        p = bins[: len(old)].value_counts(sort=False).sort_index().to_numpy() + 1e-10
        q = bins[len(old):].value_counts(sort=False).sort_index().to_numpy() + 1e-10
        p, q = p / p.sum(), q / q.sum()
        kl = float(np.sum(p * np.log(p / q)))
        result[col] = kl
        if kl > threshold:
            print(f"Drifted: {col} (KL={kl:.4f})")
    return result
