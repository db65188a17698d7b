# expect-reason: print_mismatch
# expect-passed: false
# Lone surrogates, control characters and terminal escapes in printed lines: the text
# report must still print (escaped), and the JSON stays valid.
def detect_drift(old_df, new_df, threshold=0.1):
    for c in old_df.columns:
        print(f"Drifted: {c}\ud800\x1b[2J\x00 (KL=0.5\udfff)")
        print("Drifted: \x1b]0;owned\x07 (KL=\ud83d)")
    return {c: 0.0 for c in old_df.columns}
