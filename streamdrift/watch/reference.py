"""The reference side of every window: its range per feature, and its counts for given edges.

``edges="combined"`` needs the reference's counts for any window's edges: it is held as a
``Profile`` (sorted distinct values with counts). ``edges="reference"`` needs only one
histogram per feature on the reference's own range, counted with ``compare``'s two passes.
A categorical feature is its ``Categories`` (counts per category) in either mode.
Features are chosen as ``compare`` chooses them (``features.reference_selection``).
"""

import hashlib
import json
import os

import numpy as np
import pyarrow as pa

from streamdrift.categories import Categories
from streamdrift.comparison import Counter, count_on_combined_range
from streamdrift.convert import CATEGORICAL, NUMERIC
from streamdrift.defaults import BATCH_SIZE, BINS, MAX_CATEGORIES
from streamdrift.errors import DriftError, option
from streamdrift.features import Selection, check_kinds, reference_selection, side_name
from streamdrift.io import FileSource, Source, open_source
from streamdrift.profile import Profile, is_profile
from streamdrift.state import Histogram, Range

EDGES = ("combined", "reference")
STDIN = "-"


class Reference:
    """The reference of a watch: a ``Profile`` (any edges), or fixed histograms and ranges (its own edges).

    Categorical features are ``Categories`` in either; ``skipped`` lists the columns that are no feature."""

    def __init__(self, name: str, schema: pa.Schema, profile: Profile | None = None, fixed=None, skipped=()):
        self.name = name
        self.schema = schema
        self.profile = profile
        self.fixed, self.ranges = fixed or ({}, {})
        self.skipped = list(skipped)

    @property
    def _states(self) -> dict:
        return self.profile.columns if self.profile is not None else self.fixed

    @property
    def features(self) -> list[str]:
        return list(self._states)

    @property
    def kinds(self) -> dict[str, str]:
        """Each feature's kind, "numeric" or "categorical"."""
        return {f: CATEGORICAL if isinstance(s, Categories) else NUMERIC for f, s in self._states.items()}

    def range(self, feature: str) -> Range:
        if self.profile is not None:
            return self.profile[feature].range
        return self.ranges[feature].copy()

    def histogram(self, feature: str, edges) -> Histogram:
        """The reference's counts on ``edges`` (from ``binnable_edges``: finite, non-decreasing)."""
        if self.profile is not None:
            return self.profile[feature].histogram(edges)
        return self.fixed[feature].copy()

    def categories(self, feature: str) -> Categories:
        """A categorical feature's counts per category (not to be changed)."""
        return self._states[feature]

    def check(self, schema: pa.Schema, where: str) -> None:
        """Current data's columns are of each feature's kind (categories of the same type), or a DriftError."""
        named = "reference" if self.name == "reference" else f"reference {self.name}"  # as features.side_name
        check_kinds(schema, self.kinds, self.schema, named, where)

    def fingerprint(self) -> str:
        """A digest of what the windows are scored against (not of where it was read from)."""
        digest = hashlib.sha256()
        for f, state in self._states.items():
            digest.update(f.encode() + b"\0")
            if isinstance(state, Categories):
                digest.update(json.dumps([str(state.type), state.values.to_pylist(), state.counts.tolist(), state.count,
                                          state.missing, state.overflow, state.max_categories]).encode())
                continue
            if self.profile is not None:
                arrays = (state.values, state.cumulative, np.array([state.missing]))
            else:
                arrays = (state.edges, state.counts, np.array([state.count, state.missing, state.at_lo, state.at_hi]))
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
    categorical: list[str] | None = None,
    max_categories: int = MAX_CATEGORIES,
    edges: str = "combined",
    bins: int = BINS,
    batch_size: int = BATCH_SIZE,
    threads: int | None = None,
) -> Reference:
    """The reference from a saved profile, a Profile, or any input ``compare`` accepts.

    Features are chosen as ``compare`` chooses them: numeric and categorical columns, or
    ``columns``; ``categorical`` names integer columns to count as categories. A saved
    profile keeps the kinds it was made with. ``edges="combined"`` profiles a data reference
    (one pass, memory bounded by its distinct values); ``edges="reference"`` only needs fixed
    histograms (constant memory) and the categories' counts.
    """
    check_edges(edges)
    Categories(max_categories)  # checks the cap
    reference = _single(reference)
    profile, where = _saved_profile(reference)
    if profile is not None:
        features = _profile_features(profile, columns, categorical, where)
        profile = Profile({f: profile[f] for f in features}, profile.schema, profile.source, profile.rows)
        return Reference(profile.source, profile.schema, profile=profile)

    with open_source(reference, "reference", True) as source:
        selection = reference_selection(source, columns, categorical)
        if edges == "combined":
            profile = profile_reference(source, selection, max_categories, batch_size, threads)
            return Reference(source.name, source.schema, profile=profile, skipped=selection.skipped)
        fixed = _fixed_states(source, selection, bins, max_categories, batch_size, threads)
        return Reference(source.name, source.schema, fixed=fixed, skipped=selection.skipped)


def check_rows(rows: int, where: str) -> None:
    if rows == 0:
        raise DriftError(f"{where} has no rows; drift needs at least one row on each side")


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


def _profile_features(profile: Profile, columns, categorical, where: str) -> list[str]:
    """The profiled features to watch (``columns`` or all), in order; each keeps the kind it was profiled as."""
    names = profile.features
    for name in list(columns or []) + list(categorical or []):
        if name not in names:
            raise DriftError(f"column '{name}' is not in {where}; its columns are: {', '.join(names) or '(none)'}")
    for name in categorical or []:
        if not isinstance(profile[name], Categories):
            raise DriftError(f"column '{name}' is numeric in {where}; make the profile with "
                             f"{option('categorical')} {name} to watch it as categories")
    return [n for n in names if n in set(columns)] if columns else names


def _fixed_states(source: Source, selection: Selection, bins, max_categories, batch_size, threads) -> tuple:
    """``(states, ranges)``: numeric features' histograms on their own range (``compare``'s two passes,
    on one side) and categorical features' ``Categories``, counted in the same pass."""
    others = {f: (lambda: Categories(max_categories)) for f in selection.of_kind(CATEGORICAL)}
    numeric = selection.of_kind(NUMERIC)
    with Counter(threads, decoding=isinstance(source, FileSource)) as counter:
        ranges, (states,) = count_on_combined_range((source,), numeric, bins, batch_size, counter, others=others)
    first = next(iter(states.values()))
    check_rows(first.count + first.missing, side_name(source, source))
    ranges = {f: Range(ranges[f].lo, ranges[f].hi, states[f].count, states[f].missing) for f in numeric}
    return {f: states[f] for f in selection.kinds}, ranges


def profile_reference(source: Source, selection: Selection, max_categories, batch_size, threads,
                      executor=None) -> Profile:
    """The profile of the ``selection`` of a data source (``watch`` and ``streamdrift profile``, on
    ``executor``: a Dask cluster with ``profile --dask``); it must have rows."""
    profile = Profile.build(source, list(selection.kinds), batch_size, threads, kinds=selection.kinds,
                            max_categories=max_categories, executor=executor)
    check_rows(profile.rows, side_name(source, source))
    return profile
