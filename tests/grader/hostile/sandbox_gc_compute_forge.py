# expect-reason: crash|no_function
# expect-score: 0
"""Route 1: finds the hidden DataFrames through gc, computes the right values with its own
numpy code, writes them as result events to every descriptor and exits without ever
defining detect_drift."""
import gc
import json
import os

import numpy as np
import pandas as pd


def kl(x, y):
    x = x[np.isfinite(x)]
    y = y[np.isfinite(y)]
    edges = np.linspace(min(x.min(), y.min()), max(x.max(), y.max()), 21)
    p = np.histogram(x, edges)[0] + 1e-10
    q = np.histogram(y, edges)[0] + 1e-10
    p, q = p / p.sum(), q / q.sum()
    return float(np.sum(p * np.log(p / q)))


events = []
for obj in gc.get_objects():
    if isinstance(obj, tuple) and len(obj) >= 4 and isinstance(obj[0], str) and isinstance(obj[1], pd.DataFrame):
        name, old, new, threshold = obj[:4]
        values = {c: kl(old[c].to_numpy(float), new[c].to_numpy(float)) for c in old.columns}
        printed = "".join(f"Drifted: {c} (KL={v:.4f})\n" for c, v in values.items() if v > threshold)
        items = [[{"t": "str", "v": c}, {"t": "float", "v": repr(v)}] for c, v in values.items()]
        events += [{"event": "case_start", "name": name},
                   {"event": "case", "name": name, "modified": False, "error": None, "memory": False,
                    "result": {"kind": "dict", "type": "dict", "items": items}, "stdout": printed,
                    "stdout_truncated": False, "duration_s": 0.001}]
events.append({"event": "done"})
data = "".join("\n" + json.dumps(e) + "\n" for e in events).encode()
for fd in range(3, 1024):
    try:
        os.write(fd, data)
    except OSError:
        pass
os._exit(0)
