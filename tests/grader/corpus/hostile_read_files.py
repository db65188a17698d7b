"""Hostile: looks around for expected values: the project tree, /proc, the parent's memory."""
import glob
import os

found = []
for pattern in ("/work/**/expected*", "/root/*", "/root/.*", "/tmp/*", "/proc/*/environ", "/proc/*/mem"):
    for path in glob.glob(pattern, recursive=True)[:50]:
        try:
            with open(path, "rb") as fh:
                found.append((path, len(fh.read(1000))))
        except OSError as exc:
            found.append((path, type(exc).__name__))
try:
    found.append(("ppid", os.getppid()))
    with open(f"/proc/{os.getppid()}/mem", "rb") as fh:
        found.append(("parent mem", len(fh.read(10))))
except OSError as exc:
    found.append(("parent mem", type(exc).__name__))
print(found)


def detect_drift(old_df, new_df, threshold=0.1):
    return {c: 0.0 for c in old_df.columns}
