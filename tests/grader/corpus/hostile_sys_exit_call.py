"""Hostile: sys.exit(0) inside the graded call."""
import sys


def detect_drift(old_df, new_df, threshold=0.1):
    sys.exit(0)
