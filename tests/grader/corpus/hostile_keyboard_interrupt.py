"""Hostile: raises KeyboardInterrupt and SystemExit from the graded call."""
calls = [0]


def detect_drift(old_df, new_df, threshold=0.1):
    calls[0] += 1
    if calls[0] % 2:
        raise KeyboardInterrupt
    raise SystemExit(0)
