"""Hostile: leaves a sleeping grandchild in a new session (escaping the process group)."""
import os


def detect_drift(old_df, new_df, threshold=0.1):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv("/bin/sleep", ["sleep", "4242.5"])
        os._exit(0)
    return {}
