"""Results: one ``FeatureDrift`` per feature, a ``Report`` of them, and their text/JSON forms."""

import json
import math
from dataclasses import dataclass, field

import numpy as np

from streamdrift.categories import Categories, aligned, arrow_indices
from streamdrift.errors import option
from streamdrift.state import Histogram
from streamdrift.defaults import EPS
from streamdrift.stats import Divergence, divergence

NEW_EXAMPLES = 10


def drifted_line(feature: str, kl: float) -> str:
    """The original task's line: ``Drifted: age (KL=0.1858)``."""
    return f"Drifted: {feature} (KL={kl:.4f})"


@dataclass
class FeatureDrift:
    """The drift of one feature. ``kl`` is None (with ``reason``) when it is undefined.

    ``reference_counts``/``current_counts`` are the two count vectors the statistics come
    from: per bin of ``lo``..``hi`` for a numeric feature, per value of ``categories`` (the
    sorted union of both sides) for a categorical one.
    """

    feature: str
    kl: float | None
    drifted: bool
    threshold: float
    reference_count: int
    current_count: int
    missing_reference: int
    missing_current: int
    reason: str | None = None
    kl_reversed: float | None = None
    psi: float | None = None
    js: float | None = None
    lo: float | None = None
    hi: float | None = None
    reference_counts: list[int] | None = field(default=None, repr=False)
    current_counts: list[int] | None = field(default=None, repr=False)
    out_of_range: int | None = None
    kind: str = "numeric"
    categories: list | None = field(default=None, repr=False)
    new_categories: int | None = None
    new_category_examples: list | None = None

    @classmethod
    def from_histograms(
        cls,
        feature: str,
        reference: Histogram,
        current: Histogram,
        threshold: float,
        eps: float = EPS,
        reason: str | None = None,
        computed: Divergence | None = None,
    ) -> "FeatureDrift":
        """Score one feature from its reference and current histograms (same edges).

        ``reason`` marks the KL undefined for a cause the histograms cannot show (a range
        too wide to bin); a side with no finite value is detected here. ``computed`` is their
        ``divergence`` when already known (``stats.divergences`` of several features at once).
        """
        base = dict(
            feature=feature,
            threshold=threshold,
            reference_count=reference.count,
            current_count=current.count,
            missing_reference=reference.missing,
            missing_current=current.missing,
        )
        reason = undefined_reason(reference.count, current.count) or reason
        if reason is not None:
            return cls(kl=None, drifted=False, reason=reason, **base)
        d = computed or divergence(reference.counts, current.counts, eps)
        return cls(
            kl=d.kl,
            drifted=bool(d.kl > threshold),
            kl_reversed=d.kl_reversed,
            psi=d.psi,
            js=d.js,
            lo=float(reference.edges[0]),
            hi=float(reference.edges[-1]),
            reference_counts=reference.counts.tolist(),
            current_counts=current.counts.tolist(),
            **base,
        )

    @classmethod
    def from_categories(
        cls, feature: str, reference: Categories, current: Categories, threshold: float, eps: float = EPS,
    ) -> "FeatureDrift":
        """Score one categorical feature (SPEC section 2b) from both sides' category counts."""
        base = dict(
            feature=feature, kind="categorical", threshold=threshold,
            reference_count=reference.count, current_count=current.count,
            missing_reference=reference.missing, missing_current=current.missing,
        )
        cap = min(reference.max_categories, current.max_categories)
        too_many = (
            f"more than {cap} distinct categories (the cap); raise {option('max_categories')} to compare it"
        )
        if reference.overflow or current.overflow:
            return cls(kl=None, drifted=False, reason=too_many, **base)
        union, ref_counts, cur_counts = aligned(reference, current)
        new = np.flatnonzero(ref_counts == 0)
        by_count = new[np.argsort(-cur_counts[new], kind="stable")][:NEW_EXAMPLES]
        base.update(
            categories=union.to_pylist(), reference_counts=ref_counts.tolist(), current_counts=cur_counts.tolist(),
            new_categories=int(new.size), new_category_examples=union.take(arrow_indices(by_count)).to_pylist(),
        )
        reason = undefined_reason(reference.count, current.count, "non-missing values") or (too_many if len(union) > cap else None)
        if reason is not None:
            return cls(kl=None, drifted=False, reason=reason, **base)
        d = divergence(ref_counts, cur_counts, eps)
        return cls(kl=d.kl, drifted=bool(d.kl > threshold), kl_reversed=d.kl_reversed, psi=d.psi, js=d.js, **base)

    def to_dict(self) -> dict:
        """The JSON record of SPEC section 3 (stable keys first, then the extra statistics)."""
        out = {
            "feature": self.feature,
            "kl": self.kl,
            "drifted": self.drifted,
            "threshold": self.threshold,
            "reference_count": self.reference_count,
            "current_count": self.current_count,
            "missing_reference": self.missing_reference,
            "missing_current": self.missing_current,
            "kind": self.kind,
        }
        if self.kind == "categorical" and self.categories is not None:
            out.update(categories=len(self.categories), new_categories=self.new_categories,
                       new_category_examples=self.new_category_examples)
        if self.kl is None:
            out["reason"] = self.reason
        else:
            out.update(kl_reversed=self.kl_reversed, psi=self.psi, js=self.js)
        if self.out_of_range is not None:
            out["out_of_range"] = self.out_of_range
        return out


def undefined_reason(reference_count: int, current_count: int, what: str = "finite values") -> str | None:
    """Why KL is undefined for these valid-value counts (SPEC 2.8 and 2b.5), or None."""
    if reference_count == 0 and current_count == 0:
        return f"no {what} in reference or current (all missing)"
    if reference_count == 0:
        return f"no {what} in reference (all missing)"
    if current_count == 0:
        return f"no {what} in current (all missing)"
    return None


@dataclass(frozen=True)
class Skipped:
    """A column that is not compared: its name, Arrow type and why."""

    feature: str
    type: str
    reason: str
    temporal: bool = field(default=False, repr=False)  # a time, which can be named as a numeric feature

    def to_dict(self) -> dict:
        return {"feature": self.feature, "kind": "skipped", "kl": None, "drifted": False,
                "type": self.type, "reason": self.reason}


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


class Report:
    """Per-feature drift results in the reference's column order, and the columns skipped."""

    def __init__(self, features: list[FeatureDrift], threshold: float, bins: int, skipped: list[Skipped] = ()):
        self.features = list(features)
        self.threshold = threshold
        self.bins = bins
        self.skipped = list(skipped)

    def __iter__(self):
        return iter(self.features)

    def __len__(self):
        return len(self.features)

    def __getitem__(self, name: str) -> FeatureDrift:
        for f in self.features:
            if f.feature == name:
                return f
        skipped = next((s for s in self.skipped if s.feature == name), None)
        compared = ", ".join(f.feature for f in self.features) or "(none)"
        others = ", ".join(f"{s.feature} ({s.type})" for s in self.skipped) or "(none)"
        what = f"'{name}' was skipped ({skipped.reason})" if skipped else f"no feature '{name}'"
        raise KeyError(f"{what}; features: {compared}; skipped: {others}")

    @property
    def drifted(self) -> list[FeatureDrift]:
        return [f for f in self.features if f.drifted]

    @property
    def exit_code(self) -> int:
        """0 when no feature drifted, 1 when one did (like ``diff``)."""
        return 1 if self.drifted else 0

    def kl(self) -> dict[str, float]:
        """``{feature: KL}``, NaN where undefined (the original task's return value)."""
        return {f.feature: (math.nan if f.kl is None else f.kl) for f in self.features}

    def text_lines(self) -> list[str]:
        return [drifted_line(f.feature, f.kl) for f in self.drifted]

    def json_lines(self) -> list[str]:
        """One JSON record per feature, then one per skipped column (``"kind": "skipped"``)."""
        return [json.dumps(r) for r in self.records()]

    def records(self) -> list[dict]:
        return [f.to_dict() for f in self.features] + [s.to_dict() for s in self.skipped]

    def summary(self, names: bool = False) -> str:
        """``checked 14 features: 9 numeric, 5 categorical; 2 drifted`` (plus undefined and skipped
        counts); ``names`` lists the drifted features too."""
        kinds = [f.kind for f in self.features]
        text = f"checked {plural(len(kinds), 'feature')}: {kinds.count('numeric')} numeric, "
        text += f"{kinds.count('categorical')} categorical; {len(self.drifted)} drifted"
        if names and self.drifted:
            text += f" ({', '.join(f.feature for f in self.drifted)})"
        undefined = sum(f.kl is None for f in self.features)
        if undefined:
            text += f", {undefined} undefined"
        if self.skipped:
            text += f"; {plural(len(self.skipped), 'column')} skipped"
        return text

    def to_dict(self) -> dict:
        return {
            "threshold": self.threshold,
            "bins": self.bins,
            "drifted": [f.feature for f in self.drifted],
            "features": [f.to_dict() for f in self.features],
            "skipped": [s.to_dict() for s in self.skipped],
        }

    def to_json(self, **kwargs) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    def __str__(self):
        return "\n".join(self.text_lines())

    def __repr__(self):
        return f"<Report: {self.summary(names=True)}>"
