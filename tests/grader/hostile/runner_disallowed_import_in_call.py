# expect-reason: disallowed_import
# expect-passed: false
# The import happens inside the call, on every case: named, with the module.
def detect_drift(old_df, new_df, threshold=0.1):
    import sklearn.metrics  # noqa: F401

    return {c: 0.0 for c in old_df.columns}
