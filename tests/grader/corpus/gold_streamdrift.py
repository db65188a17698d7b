"""Corpus: the gold check. streamdrift's own kernels wrapped as a submission must score 1.0."""
from streamdrift import Histogram, Range, divergence


def detect_drift(old_df, new_df, threshold=0.1):
    result = {}
    for col in old_df.columns:
        old, new = old_df[col].to_numpy(), new_df[col].to_numpy()
        r = Range().update(old) + Range().update(new)
        h_old = Histogram.for_range(r.lo, r.hi).update(old)
        h_new = Histogram.for_range(r.lo, r.hi).update(new)
        result[col] = divergence(h_old.counts, h_new.counts).kl
        if result[col] > threshold:
            print(f"Drifted: {col} (KL={result[col]:.4f})")
    return result
