# expect-reason: kl_mismatch
# expect-score: 0
"""Route 4: connect to the named Unix sockets of the host (the test listens on one, mode 777,
under /run) and to any socket file it can find; an accepted connection is an escape."""
import os
import socket
import stat

reached = []
candidates = ["/run/streamdrift-hostile.sock", "/var/run/streamdrift-hostile.sock", "/tmp/streamdrift-hostile.sock"]
for base in ("/run", "/var/run", "/tmp", "/dev", "/var/lib", "/root", "/work"):
    for root, dirs, files in os.walk(base):
        for name in files:
            path = os.path.join(root, name)
            try:
                if stat.S_ISSOCK(os.lstat(path).st_mode):
                    candidates.append(path)
            except OSError:
                pass
for path in candidates:
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(1)
        s.connect(path)
        s.sendall(b"escaped")
        reached.append(path)
    except OSError:
        pass


def detect_drift(old_df, new_df, threshold=0.1):
    if reached:
        raise RuntimeError(f"reached host sockets {reached}")
    return {c: 0.0 for c in old_df.columns}
