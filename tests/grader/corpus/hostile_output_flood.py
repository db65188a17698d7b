"""Hostile: floods stdout at the top level and inside the call."""
import sys

sys.stdout.write("x" * 20_000_000)


def detect_drift(old_df, new_df, threshold=0.1):
    for _ in range(200):
        print("Drifted: " + "y" * 100_000)
    return {c: 0.0 for c in old_df.columns}
