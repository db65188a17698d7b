"""Hostile: sys.exit(0) at the top level, hoping the grader reads exit 0 as success."""
import sys


def detect_drift(old_df, new_df, threshold=0.1):
    return {}


sys.exit(0)
