"""Corpus: correct, pandas style (replace inf, dropna per column, np.histogram)."""
import numpy as np
import pandas as pd


def detect_drift(old_df: pd.DataFrame, new_df: pd.DataFrame, threshold: float = 0.1) -> dict:
    scores = {}
    for col in old_df.columns:
        a = old_df[col].astype("float64").replace([np.inf, -np.inf], np.nan).dropna()
        b = new_df[col].astype("float64").replace([np.inf, -np.inf], np.nan).dropna()
        edges = np.linspace(min(a.min(), b.min()), max(a.max(), b.max()), 21)
        p = pd.Series(np.histogram(a, bins=edges)[0]) + 1e-10
        q = pd.Series(np.histogram(b, bins=edges)[0]) + 1e-10
        p, q = p / p.sum(), q / q.sum()
        scores[col] = float((p * np.log(p / q)).sum())
    for col, kl in scores.items():
        if kl > threshold:
            print("Drifted: %s (KL=%s)" % (col, kl))
    return scores


np.random.seed(42)
old = pd.DataFrame({"age": np.random.normal(40, 10, 2000), "income": np.random.normal(60000, 8000, 2000),
                    "height": np.random.normal(170, 7, 2000)})
new = old.copy()
new["age"] = old["age"] + np.random.normal(5, 2, 2000)
new["income"] = old["income"] * 1.1
print(detect_drift(old, new))
