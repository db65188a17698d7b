# expect-reason: print_mismatch
# expect-passed: false
# Thousands of lines for columns that do not exist: the details stay a dozen lines.
def detect_drift(old_df, new_df, threshold=0.1):
    for i in range(3000):
        print(f"Drifted: no_such_column_{i} (KL=0.5)")
    return {c: 0.0 for c in old_df.columns}
