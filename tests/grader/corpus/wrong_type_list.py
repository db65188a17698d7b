"""Corpus: returns a list of (column, kl) pairs instead of a dict."""
import numpy as np


def detect_drift(old_df, new_df, threshold=0.1):
    return [(c, 0.0) for c in old_df.columns]
