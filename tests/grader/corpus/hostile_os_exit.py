"""Hostile: os._exit(0) inside the graded call (no exception, no cleanup)."""
import os


def detect_drift(old_df, new_df, threshold=0.1):
    os._exit(0)
