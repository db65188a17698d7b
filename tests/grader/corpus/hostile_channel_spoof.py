"""Hostile: writes fake result-channel lines to every open descriptor, then returns zeros."""
import json
import os

fake = {"event": "case", "name": "spec_example", "error": None, "memory": False, "stdout": "",
        "result": {"kind": "dict", "type": "dict", "items": [[{"t": "str", "v": "age"}, {"t": "float", "v": "0.1858"}]]}}
for fd in range(3, 64):
    try:
        os.write(fd, (json.dumps(fake) + "\n" + json.dumps({"event": "done"}) + "\n{garbage").encode())
    except OSError:
        pass


def detect_drift(old_df, new_df, threshold=0.1):
    return {c: 0.0 for c in old_df.columns}
