"""JSON records with what a picture needs (``--counts``), and reading them back from JSON Lines.

A record with counts carries, besides the usual keys, ``reference_counts`` and
``current_counts`` and what they count: ``edges`` (the exact ``numpy.linspace`` edges, a
numeric feature) or ``values`` (the categories, a categorical one). No jinja2 or matplotlib.
"""

import json
import math

import numpy as np

from streamdrift.errors import DriftError


def counts_fields(feature) -> dict:
    """The bins (``edges`` or ``values``) and both count vectors of a FeatureDrift, if it has them."""
    if feature.reference_counts is None or feature.current_counts is None:
        return {}
    out = {}
    categories = getattr(feature, "categories", None)
    if categories is not None:
        out["values"] = list(categories)
    elif feature.lo is not None:
        bins = len(feature.reference_counts)
        out["edges"] = np.linspace(feature.lo, feature.hi, bins + 1).tolist()
    out["reference_counts"] = list(feature.reference_counts)
    out["current_counts"] = list(feature.current_counts)
    return out


def counts_record(feature) -> dict:
    """``feature.to_dict()`` plus its bins and both count vectors."""
    return {**feature.to_dict(), **counts_fields(feature)}


def with_counts(records: list[dict], features) -> list[dict]:
    """Records (a watch window's, say) with the bins of their features added."""
    return [{**r, **counts_fields(f)} for r, f in zip(records, features)]


def records(report) -> list[dict]:
    """A Report's JSON records with counts: one per feature, then one per skipped column."""
    skipped = [s.to_dict() for s in getattr(report, "skipped", ())]
    return [counts_record(f) for f in report] + skipped


def json_lines(report, counts: bool) -> list[str]:
    """The ``--format json`` lines of a Report, with the bins and counts when ``counts``."""
    return [json.dumps(r) for r in records(report)] if counts else report.json_lines()


def category_order(reference_counts, current_counts) -> np.ndarray:
    """Category indices by combined share (reference share + current share), largest first."""
    p, q = (np.asarray(c, dtype=float) for c in (reference_counts, current_counts))
    share = p / (p.sum() or 1.0) + q / (q.sum() or 1.0)
    return np.argsort(-share, kind="stable")


def read_jsonl(path: str) -> list[dict]:
    """The records of a saved ``--format json`` output; a bad line is a DriftError naming it."""
    out = []
    try:
        with (open(path, encoding="utf-8") if path != "-" else _stdin()) as fh:
            for number, line in enumerate(fh, 1):
                if line.strip():
                    out.append(_parse(line, path, number))
    except OSError as exc:
        raise DriftError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise DriftError(f"{path} is not UTF-8 text: pass the --format json output of compare or watch") from None
    if not out:
        raise DriftError(f"{path} has no records: pass the --format json output of compare or watch")
    return out


def _stdin():
    import sys

    return open(sys.stdin.fileno(), encoding="utf-8", closefd=False)


def _parse(line: str, path: str, number: int) -> dict:
    try:
        record = json.loads(line)
    except ValueError:
        raise DriftError(
            f"{path}:{number} is not JSON: pass the --format json output of compare or watch"
        ) from None
    if not isinstance(record, dict) or not isinstance(record.get("feature"), str):
        raise DriftError(f"{path}:{number} is not a feature record (no \"feature\" name)")
    kl = record.get("kl")
    if kl is not None and not (isinstance(kl, (int, float)) and math.isfinite(kl)):
        raise DriftError(f"{path}:{number}: \"kl\" must be a number or null, not {kl!r}")
    return record
