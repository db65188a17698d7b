# expect-reason: timeout
# expect-score: 0
# timeout-s: 3
"""Issue 11's sleeping submission: the wall-clock deadline ends a call that sleeps (no CPU)."""
import time


def detect_drift(old_df, new_df, threshold=0.1):
    time.sleep(3600)
