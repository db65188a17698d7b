import numpy as np


def detect_drift(old_df, new_df, threshold=0.1):
    """Right numbers, but the drifted lines come largest KL first, not in column order."""
    eps = 1e-10
    result = {}
    for col in old_df.columns:
        x = old_df[col].to_numpy(dtype=np.float64)
        y = new_df[col].to_numpy(dtype=np.float64)
        x = x[np.isfinite(x)]
        y = y[np.isfinite(y)]
        lo = min(x.min(), y.min())
        hi = max(x.max(), y.max())
        edges = np.linspace(lo, hi, 21)
        cx, _ = np.histogram(x, bins=edges)
        cy, _ = np.histogram(y, bins=edges)
        p = (cx + eps) / np.sum(cx + eps)
        q = (cy + eps) / np.sum(cy + eps)
        result[col] = float(np.sum(p * np.log(p / q)))
    for col, kl in sorted(result.items(), key=lambda item: -item[1]):
        if kl > threshold:
            print(f"Drifted: {col} (KL={kl:.4f})")
    return result
