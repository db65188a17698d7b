# expect-reason: kl_mismatch
# expect-score: 0
"""Route 4: open the host's devices (disks, memory, kernel log, terminals, input, GPUs)."""
import os

opened = []
names = ["/dev/sda", "/dev/vda", "/dev/nvme0n1", "/dev/mem", "/dev/kmem", "/dev/port", "/dev/kmsg", "/dev/console",
         "/dev/tty0", "/dev/tty1", "/dev/ttyS0", "/dev/fuse", "/dev/net/tun", "/dev/loop0", "/dev/loop-control",
         "/dev/input/event0", "/dev/dri/card0", "/dev/nvidia0", "/dev/kvm", "/dev/vsock", "/dev/autofs"]
try:
    names += [os.path.join("/dev", n) for n in os.listdir("/dev")]
except OSError:
    pass
harmless = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty", "/dev/ptmx",
            "/dev/stdin", "/dev/stdout", "/dev/stderr", "/dev/fd", "/dev/pts", "/dev/shm", "/dev/core"}
for path in names:
    if path in harmless:
        continue
    for flags in (os.O_RDWR, os.O_RDONLY):
        try:
            fd = os.open(path, flags | os.O_NONBLOCK)
            os.close(fd)
            if not os.path.isdir(path):
                opened.append(path)
            break
        except OSError:
            pass


def detect_drift(old_df, new_df, threshold=0.1):
    if opened:
        raise RuntimeError(f"opened host devices {opened}")
    return {c: 0.0 for c in old_df.columns}
