# expect-reason: print_mismatch
# expect-passed: false
# Printed values that are not finite numbers: nan, inf, -inf, 1e999.
def detect_drift(old_df, new_df, threshold=0.1):
    for c, text in zip(old_df.columns, ["nan", "inf", "-inf", "1e999"] * 20):
        print(f"Drifted: {c} (KL={text})")
    return {c: 0.0 for c in old_df.columns}
