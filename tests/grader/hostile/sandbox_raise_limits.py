# expect-reason: memory_limit
# expect-score: 0
"""Route 5: tries to lift its limits (rlimits, uid 0, a new cgroup) and then takes 3 GiB."""
import os
import resource

for which in (resource.RLIMIT_AS, resource.RLIMIT_NPROC, resource.RLIMIT_NOFILE, resource.RLIMIT_FSIZE):
    try:
        resource.setrlimit(which, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    except (ValueError, OSError):
        pass
for call in (lambda: os.setuid(0), lambda: os.setgid(0),
             lambda: os.mkdir("/sys/fs/cgroup/memory/escape"),
             lambda: open("/proc/self/oom_score_adj", "w").write("-1000")):
    try:
        call()
    except OSError:
        pass

block = bytearray(3 * 1024**3)


def detect_drift(old_df, new_df, threshold=0.1):
    return {c: 0.0 for c in old_df.columns}
