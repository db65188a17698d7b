"""Corpus: the top level reads a file that is not there."""
import pandas as pd


def detect_drift(old_df, new_df, threshold=0.1):
    return {c: 0.0 for c in old_df.columns}


data = pd.read_csv("data.csv")
