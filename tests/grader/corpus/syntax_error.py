def detect_drift(old_df, new_df, threshold=0.1)
    return {}
