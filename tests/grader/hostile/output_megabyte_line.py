# expect-reason: print_mismatch
# expect-passed: false
# A line of a million characters on every call: cut at the output limit, read in linear time.
def detect_drift(old_df, new_df, threshold=0.1):
    print("Drifted: " + "(" * 1_000_000 + " (KL=0.5)")
    return {c: 0.0 for c in old_df.columns}
