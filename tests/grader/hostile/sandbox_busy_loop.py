# expect-reason: timeout
# expect-score: 0
# timeout-s: 3
"""The wall-clock deadline ends a busy loop too (and its threads)."""
import threading


def spin():
    while True:
        pass


def detect_drift(old_df, new_df, threshold=0.1):
    threading.Thread(target=spin, daemon=True).start()
    spin()
