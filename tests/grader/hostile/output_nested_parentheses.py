# expect-reason: print_mismatch
# expect-passed: false
# Deeply nested parentheses after "(KL=": a regular expression with nested groups backtracks here.
def detect_drift(old_df, new_df, threshold=0.1):
    for c in old_df.columns:
        print(f"Drifted: {c} (KL=" + "(" * 20_000 + "0.5" + ")" * 20_000 + ")")
        print(f"Drifted: {c}" + " (KL=1)" * 2000 + "x")
    return {c: 0.0 for c in old_df.columns}
