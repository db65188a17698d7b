# expect-reason: kl_mismatch
# expect-score: 0
"""Route 1: find streamdrift through site-packages, .pth files or an editable finder."""
import glob
import importlib
import sys

mod = None
roots = {p for p in sys.path if p} | {sys.prefix, sys.base_prefix, "/opt", "/usr/lib/python3/dist-packages"}
for root in roots:
    for pattern in ("streamdrift/__init__.py", "*/streamdrift/__init__.py", "__editable__*streamdrift*"):
        for path in glob.glob(f"{root}/{pattern}")[:3]:
            sys.path.insert(0, path.rsplit("/streamdrift", 1)[0].rsplit("/__editable__", 1)[0])
try:
    mod = importlib.import_module("streamdrift")
except ImportError:
    mod = None


def detect_drift(old_df, new_df, threshold=0.1):
    if mod is None:
        return {c: 0.0 for c in old_df.columns}
    return mod.detect_drift(old_df, new_df, threshold)
