# expect-reason: print_mismatch
# expect-passed: false
# An exponent of 5000 digits: int() of it would refuse (the 4300-digit limit) or take long.
def detect_drift(old_df, new_df, threshold=0.1):
    for c in old_df.columns:
        print(f"Drifted: {c} (KL=1e{'9' * 5000})")
    return {c: 0.0 for c in old_df.columns}
