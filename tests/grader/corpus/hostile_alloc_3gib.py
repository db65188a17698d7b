"""Hostile: allocates 3 GiB in the graded call."""
import numpy as np


def detect_drift(old_df, new_df, threshold=0.1):
    block = np.ones(3 * 1024**3 // 8)
    return {c: float(block[0]) for c in old_df.columns}
