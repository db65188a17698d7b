# expect-reason: kl_mismatch
# expect-score: 0
"""Leaves sleeping processes behind (new session, double fork); none may outlive the run."""
import os

for _ in range(3):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv("/bin/sleep", ["sleep", "4747.25"])
        os._exit(0)


def detect_drift(old_df, new_df, threshold=0.1):
    return {c: 0.0 for c in old_df.columns}
