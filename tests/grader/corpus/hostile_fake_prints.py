"""Hostile: prints the expected-looking Drifted lines at the top level, none in the call.

The function itself computes the right values, so only the printed lines can fail it.
"""
import numpy as np

print("Drifted: age (KL=0.1858)")
print("Drifted: income (KL=0.3224)")


def detect_drift(old_df, new_df, threshold=0.1):
    out = {}
    for c in old_df.columns:
        x = old_df[c].to_numpy(np.float64); x = x[np.isfinite(x)]
        y = new_df[c].to_numpy(np.float64); y = y[np.isfinite(y)]
        e = np.linspace(min(x.min(), y.min()), max(x.max(), y.max()), 21)
        p = np.histogram(x, e)[0] + 1e-10; q = np.histogram(y, e)[0] + 1e-10
        p, q = p / p.sum(), q / q.sum()
        out[c] = float(np.sum(p * np.log(p / q)))
        if out[c] > threshold:
            os_line = f"Drifted: {c} (KL={out[c]:.4f})\n"
            import os
            os.write(1, os_line.encode())  # straight to fd 1: not the call's print()
    return out
