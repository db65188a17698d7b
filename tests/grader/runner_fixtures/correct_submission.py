import numpy as np
import pandas as pd


def detect_drift(old_df, new_df, threshold=0.1):
    """KL(old || new) per column: 20 bins on the combined finite range, eps 1e-10 on counts."""
    result = {}
    for col in old_df.columns:
        x = np.asarray(old_df[col], dtype=np.float64)
        y = np.asarray(new_df[col], dtype=np.float64)
        x = x[np.isfinite(x)]
        y = y[np.isfinite(y)]
        lo = min(x.min(), y.min())
        hi = max(x.max(), y.max())
        edges = np.linspace(lo, hi, 21)
        p = np.histogram(x, bins=edges)[0] + 1e-10
        q = np.histogram(y, bins=edges)[0] + 1e-10
        p = p / p.sum()
        q = q / q.sum()
        kl = float(np.sum(p * np.log(p / q)))
        result[col] = kl
        if kl > threshold:
            print(f"Drifted: {col} (KL={kl:.4f})")
    return result


if __name__ == "__main__":
    np.random.seed(42)
    old = pd.DataFrame({"age": np.random.normal(40, 10, 2000)})
    new = pd.DataFrame({"age": old["age"] + np.random.normal(5, 2, 2000)})
    detect_drift(old, new)
