"""The reference side of every window: its range per feature, and its counts for given edges.

``edges="combined"`` needs the reference's counts for any window's edges: it is held as a
``Profile`` (sorted distinct values with counts). ``edges="reference"`` needs only one
histogram per feature on the reference's own range, counted with ``compare``'s two passes.
"""

import hashlib
import os

import numpy as np
import pyarrow as pa

from streamdrift.comparison import Counter, count_on_combined_range
from streamdrift.convert import holds_numbers
from streamdrift.defaults import BATCH_SIZE, BINS
from streamdrift.errors import DriftError
from streamdrift.files import check_columns
from streamdrift.io import FileSource, Source, open_source
from streamdrift.profile import Profile, is_profile
from streamdrift.state import Histogram, Range

EDGES = ("combined", "reference")
STDIN = "-"


class Reference:
    """The reference of a watch: a ``Profile`` (any edges), or fixed histograms and ranges (its own edges)."""

    def __init__(self, name: str, schema: pa.Schema, profile: Profile | None = None, fixed=None):
        self.name = name
        self.schema = schema
        self.profile = profile
        self.fixed, self.ranges = fixed or ({}, {})

    @property
    def features(self) -> list[str]:
        return list(self.profile.columns) if self.profile is not None else list(self.fixed)

    def range(self, feature: str) -> Range:
        if self.profile is not None:
            return self.profile[feature].range
        return self.ranges[feature].copy()

    def histogram(self, feature: str, edges) -> Histogram:
        if self.profile is not None:
            return self.profile[feature].histogram(edges)
        return self.fixed[feature].copy()

    def fingerprint(self) -> str:
        """A digest of what the windows are scored against (not of where it was read from)."""
        digest = hashlib.sha256()
        for f in self.features:
            digest.update(f.encode() + b"\0")
            if self.profile is not None:
                column = self.profile[f]
                arrays = (column.values, column.cumulative, np.array([column.missing]))
            else:
                h = self.fixed[f]
                arrays = (h.edges, h.counts, np.array([h.count, h.missing, h.at_lo, h.at_hi]))
            for a in arrays:
                digest.update(np.ascontiguousarray(a).tobytes())
        return digest.hexdigest()


def check_edges(edges: str) -> str:
    if edges not in EDGES:
        raise DriftError(f"edges must be one of {', '.join(EDGES)}, got {edges!r}")
    return edges


def load_reference(
    reference,
    *,
    columns: list[str] | None = None,
    edges: str = "combined",
    bins: int = BINS,
    batch_size: int = BATCH_SIZE,
    threads: int | None = None,
) -> Reference:
    """The reference from a saved profile, a Profile, or any input ``compare`` accepts.

    ``edges="combined"`` profiles a data reference (one pass, memory bounded by its
    distinct values); ``edges="reference"`` only needs fixed histograms (constant memory).
    """
    check_edges(edges)
    reference = _single(reference)
    profile, where = _saved_profile(reference)
    if profile is not None:
        features = reference_features(profile.feature_schema, columns, where)
        profile = Profile({f: profile[f] for f in features}, profile.schema, profile.source, profile.rows)
        return Reference(profile.source, profile.schema, profile=profile)

    with open_source(reference, "reference") as source:
        features = reference_features(source.schema, columns, f"reference {source.name}")
        if edges == "combined":
            return Reference(source.name, source.schema, profile=Profile.build(source, features, batch_size, threads))
        return Reference(source.name, source.schema, fixed=_fixed_histograms(source, features, bins, batch_size, threads))


def _single(reference):
    """A list of one reference as that reference; a list of several must not hold a profile."""
    if isinstance(reference, (list, tuple)):
        if len(reference) == 1:
            return reference[0]
        for path in reference:
            if is_profile(path):
                raise DriftError(f"'{path}' is a saved profile; give a profile as the only reference")
    return reference


def _saved_profile(reference) -> tuple[Profile | None, str]:
    """The reference as a profile (a ``Profile``, or loaded from a saved one) and how to name it, or None."""
    if isinstance(reference, Profile):
        return reference, f"profile {reference.source}"
    if isinstance(reference, (str, os.PathLike)) and str(reference) != STDIN and is_profile(reference):
        profile = Profile.load(reference)
        profile.source = profile.source or f"'{reference}'"
        return profile, f"profile '{reference}'"
    return None, ""


def reference_features(schema: pa.Schema, columns: list[str] | None, where: str) -> list[str]:
    """The features to watch, in the reference's order: ``columns`` or every numeric column."""
    names = schema.names
    if columns:
        for name in columns:
            if name not in names:
                raise DriftError(f"column '{name}' is not in {where}; its columns are: {', '.join(names) or '(none)'}")
        check_columns(schema, columns, where)
        return [n for n in names if n in set(columns)]
    features = [f.name for f in schema if holds_numbers(f.type)]
    if not features:
        raise DriftError(f"no numeric columns in {where}; drift needs integer, float, boolean or decimal columns")
    return features


def _fixed_histograms(source: Source, features, bins, batch_size, threads):
    """``(histograms, ranges)`` of the reference on its own range: ``compare``'s two passes, on one side."""
    with Counter(threads, decoding=isinstance(source, FileSource)) as counter:
        ranges, (hists,) = count_on_combined_range((source,), features, bins, batch_size, counter)
    ranges = {f: Range(ranges[f].lo, ranges[f].hi, hists[f].count, hists[f].missing) for f in features}
    return hists, ranges
