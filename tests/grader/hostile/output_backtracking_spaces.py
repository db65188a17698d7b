# expect-reason: print_mismatch
# expect-passed: false
# Issue 9 item 3: this line on every call made the line parser backtrack (294 s for one file).
def detect_drift(old_df, new_df, threshold=0.1):
    for _ in old_df.columns:
        print("Drifted:" + " " * 3000 + "x")
    return {c: 0.0 for c in old_df.columns}
