"""Hostile: never returns (and ignores SIGTERM/SIGINT)."""
import signal

signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGINT, signal.SIG_IGN)


def detect_drift(old_df, new_df, threshold=0.1):
    while True:
        pass
