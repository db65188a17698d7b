"""Results: one ``FeatureDrift`` per feature, a ``Report`` of them, and their text/JSON forms."""

import json
import math
from dataclasses import dataclass, field

from streamdrift.state import Histogram
from streamdrift.defaults import EPS
from streamdrift.stats import divergence


def drifted_line(feature: str, kl: float) -> str:
    """The original task's line: ``Drifted: age (KL=0.1858)``."""
    return f"Drifted: {feature} (KL={kl:.4f})"


@dataclass
class FeatureDrift:
    """The drift of one feature. ``kl`` is None (with ``reason``) when it is undefined."""

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

    @classmethod
    def from_histograms(
        cls,
        feature: str,
        reference: Histogram,
        current: Histogram,
        threshold: float,
        eps: float = EPS,
        reason: str | None = None,
    ) -> "FeatureDrift":
        """Score one feature from its reference and current histograms (same edges).

        ``reason`` marks the KL undefined for a cause the histograms cannot show (a range
        too wide to bin); a side with no finite value is detected here.
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
        d = divergence(reference.counts, current.counts, eps)
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
        }
        if self.kl is None:
            out["reason"] = self.reason
        else:
            out.update(kl_reversed=self.kl_reversed, psi=self.psi, js=self.js)
        if self.out_of_range is not None:
            out["out_of_range"] = self.out_of_range
        return out


def undefined_reason(reference_count: int, current_count: int) -> str | None:
    """Why KL is undefined for these valid-value counts (SPEC 2.8), or None."""
    if reference_count == 0 and current_count == 0:
        return "no finite values in reference or current (all missing)"
    if reference_count == 0:
        return "no finite values in reference (all missing)"
    if current_count == 0:
        return "no finite values in current (all missing)"
    return None


class Report:
    """Per-feature drift results in the reference's column order."""

    def __init__(self, features: list[FeatureDrift], threshold: float, bins: int):
        self.features = list(features)
        self.threshold = threshold
        self.bins = bins

    def __iter__(self):
        return iter(self.features)

    def __len__(self):
        return len(self.features)

    def __getitem__(self, name: str) -> FeatureDrift:
        for f in self.features:
            if f.feature == name:
                return f
        raise KeyError(name)

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
        return [json.dumps(f.to_dict()) for f in self.features]

    def to_dict(self) -> dict:
        return {
            "threshold": self.threshold,
            "bins": self.bins,
            "drifted": [f.feature for f in self.drifted],
            "features": [f.to_dict() for f in self.features],
        }

    def to_json(self, **kwargs) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    def __str__(self):
        return "\n".join(self.text_lines())

    def __repr__(self):
        names = ", ".join(f.feature for f in self.drifted)
        return f"<Report {len(self.features)} features, {len(self.drifted)} drifted: {names or '-'}>"
