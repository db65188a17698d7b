# expect-reason: print_mismatch
# expect-passed: false
# Digits that float() would accept but that are not what the task asks to print.
def detect_drift(old_df, new_df, threshold=0.1):
    for c in old_df.columns:
        print(f"Drifted: {c} (KL=\u0660.\u0661\u0668\u0665\u0668)")  # Arabic-Indic 0.1858
        print(f"Drifted: {c}x (KL=\uff10.\uff15)")  # full-width 0.5
    return {c: 0.0 for c in old_df.columns}
