"""Corpus: correct, pure Python loops (no numpy in the maths; edges as numpy.linspace makes them)."""
import bisect
import math


def _edges(lo, hi, bins=20):
    step = (hi - lo) / bins
    if step == 0:
        return [lo] * (bins + 1)
    return [i * step + lo for i in range(bins)] + [hi]


def _counts(values, edges):
    counts = [0] * (len(edges) - 1)
    for v in values:
        i = bisect.bisect_right(edges, v) - 1
        counts[min(max(i, 0), len(counts) - 1)] += 1
    return counts


def detect_drift(old_df, new_df, threshold=0.1):
    out = {}
    for col in old_df.columns:
        xs = [float(v) for v in old_df[col].tolist() if math.isfinite(float(v))]
        ys = [float(v) for v in new_df[col].tolist() if math.isfinite(float(v))]
        lo, hi = min(min(xs), min(ys)), max(max(xs), max(ys))
        edges = _edges(lo, hi)
        cx, cy = _counts(xs, edges), _counts(ys, edges)
        sx = sum(c + 1e-10 for c in cx)
        sy = sum(c + 1e-10 for c in cy)
        kl = 0.0
        for a, b in zip(cx, cy):
            p, q = (a + 1e-10) / sx, (b + 1e-10) / sy
            kl += p * math.log(p / q)
        out[col] = kl
        if kl > threshold:
            print("Drifted: {} (KL={:.6g})".format(col, kl))
    return out
