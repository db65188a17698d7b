import numpy as np

# Corpus: old_df.dropna(): whole rows dropped.


def detect_drift(old_df, new_df, threshold=0.1):
    eps = 1e-10
    old_df = old_df.dropna()
    new_df = new_df.dropna()
    result = {}
    for col in old_df.columns:
        x = old_df[col].to_numpy(dtype=np.float64)
        x = x[np.isfinite(x)]
        y = new_df[col].to_numpy(dtype=np.float64)
        y = y[np.isfinite(y)]
        lo, hi = min(x.min(), y.min()), max(x.max(), y.max())
        edges = np.linspace(lo, hi, 21)
        cx, _ = np.histogram(x, bins=edges)
        cy, _ = np.histogram(y, bins=edges)
        p = (cx + eps) / np.sum(cx + eps)
        q = (cy + eps) / np.sum(cy + eps)
        kl = float(np.sum(p * np.log(p / q)))
        result[col] = kl
        if kl > threshold:
            print(f"Drifted: {col} (KL={kl:.4f})")
    return result
