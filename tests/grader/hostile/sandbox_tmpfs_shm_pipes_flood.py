# expect-reason: memory_limit
# expect-score: 0
"""Route 5: every route together: files in /dev/shm, /tmp and the working directory, full
pipes, then memfds, inside the call; the total must stay under the limit."""
import fcntl
import os

chunk = b"\2" * (1 << 20)


def fill(path, mb):
    try:
        with open(path, "wb") as fh:
            for _ in range(mb):
                fh.write(chunk)
    except OSError:
        pass


def detect_drift(old_df, new_df, threshold=0.1):
    for i, base in enumerate(("/dev/shm", "/tmp", ".")):
        for j in range(8):
            fill(f"{base}/fill-{i}-{j}", 16)
    keep = []
    for _ in range(60):
        try:
            r, w = os.pipe()
            fcntl.fcntl(w, 1031, 1 << 20)  # F_SETPIPE_SZ
            os.set_blocking(w, False)
            while True:
                os.write(w, chunk)
        except (BlockingIOError, OSError):
            pass
        keep.append((r, w))
    for i in range(256):
        fd = os.memfd_create(f"m{i}")
        os.write(fd, chunk * 16)
        keep.append(fd)
    return {c: 0.0 for c in old_df.columns}
