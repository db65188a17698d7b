# expect-reason: memory_limit
# expect-score: 0
"""Route 5: 16 MiB memfds until 3 GiB, unseen by the address-space limit (never mapped)."""
import os

fds = []
chunk = b"\1" * (16 << 20)
for i in range(192):
    fd = os.memfd_create(f"m{i}")
    os.write(fd, chunk)
    fds.append(fd)
    if len(fds) > 200:
        break


def detect_drift(old_df, new_df, threshold=0.1):
    return {c: 0.0 for c in old_df.columns}
