# expect-reason: kl_mismatch
# expect-score: 0
"""Writes everywhere it might reach: the project, the harness files, the host's /tmp and /run,
the home directory; the test checks that none of the marker files exist on the host."""
import glob
import os

MARK = "streamdrift-hostile-escape-marker"
targets = [f"/tmp/{MARK}", f"/run/{MARK}", f"/var/tmp/{MARK}", f"/dev/shm/{MARK}", f"/root/{MARK}",
           f"/work/{MARK}", f"/opt/{MARK}", os.path.expanduser(f"~/{MARK}")]
targets += glob.glob("/opt/**/harness.py", recursive=True) + glob.glob("/opt/**/protocol.py", recursive=True)
for path in targets:
    try:
        with open(path, "a") as fh:
            fh.write(f"\n# {MARK}\n")
    except OSError:
        pass


def detect_drift(old_df, new_df, threshold=0.1):
    return {c: 0.0 for c in old_df.columns}
