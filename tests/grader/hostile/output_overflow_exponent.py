# expect-reason: print_mismatch
# expect-passed: false
# Issue 9 item 3: "KL=1E+400" raised OverflowError in the grading process (grade exited 2,
# a --jobs 2 batch printed nothing, grader.reward raised).
def detect_drift(old_df, new_df, threshold=0.1):
    for c in old_df.columns:
        print(f"Drifted: {c} (KL=1E+400)")
    return {c: 0.0 for c in old_df.columns}
