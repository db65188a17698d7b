# expect-reason: print_mismatch
# expect-passed: false
# Far more than the output limit, in many short lines that all parse: only the limit is read.
def detect_drift(old_df, new_df, threshold=0.1):
    line = "".join(f"Drifted: {c} (KL=0.5)\n" for c in old_df.columns)
    for _ in range(200_000 // max(len(line), 1) + 1):
        print(line, end="")
    return {c: 0.0 for c in old_df.columns}
