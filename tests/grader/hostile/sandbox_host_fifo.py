# expect-reason: kl_mismatch
# expect-score: 0
"""Route 4: write to the FIFOs of the host (the test made one under /run, mode 666, and holds
its read end open)."""
import os
import stat

reached = []
fifos = []
for base in ("/run", "/var/run", "/tmp", "/dev", "/root", "/work"):
    for root, dirs, files in os.walk(base):
        for name in files:
            try:
                if stat.S_ISFIFO(os.lstat(os.path.join(root, name)).st_mode):
                    fifos.append(os.path.join(root, name))
            except OSError:
                pass
for path in fifos:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        os.write(fd, b"escaped")
        reached.append(path)
    except OSError:
        pass


def detect_drift(old_df, new_df, threshold=0.1):
    if reached:
        raise RuntimeError(f"reached host FIFOs {reached}")
    return {c: 0.0 for c in old_df.columns}
