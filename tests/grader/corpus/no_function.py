"""Corpus: defines the function under another name."""


def detect_data_drift(old_df, new_df, threshold=0.1):
    return {c: 0.0 for c in old_df.columns}
