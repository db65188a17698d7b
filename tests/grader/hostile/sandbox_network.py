# expect-reason: kl_mismatch
# expect-score: 0
"""Route 4 (and the network namespace): TCP, UDP and abstract Unix sockets of the host."""
import socket

reached = []
for family, kind, address in ((socket.AF_INET, socket.SOCK_STREAM, ("1.1.1.1", 80)),
                              (socket.AF_INET, socket.SOCK_STREAM, ("127.0.0.1", 22)),
                              (socket.AF_UNIX, socket.SOCK_STREAM, "\0streamdrift-hostile-abstract"),
                              (socket.AF_UNIX, socket.SOCK_STREAM, "\0/tmp/.X11-unix/X0")):
    try:
        s = socket.socket(family, kind)
        s.settimeout(1)
        s.connect(address)
        reached.append(repr(address))
    except OSError:
        pass
try:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.sendto(b"escaped", ("8.8.8.8", 53))
    reached.append("udp")
except OSError:
    pass


def detect_drift(old_df, new_df, threshold=0.1):
    if reached:
        raise RuntimeError(f"reached {reached}")
    return {c: 0.0 for c in old_df.columns}
