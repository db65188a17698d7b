"""Which columns are compared, as what kind of feature, and which are skipped (and why).

By default every column of both sides is a feature when its type says so: numbers
(integer, float, boolean, decimal) are numeric, strings and dictionaries are categorical
(SPEC section 2b). Integer columns become categorical when named so. A column that is
neither is never dropped silently: it is a ``Skipped`` entry with its type. Named columns
(``columns``) must be on both sides and of a comparable kind, temporal ones included
(binned on their integer values).
"""

from dataclasses import dataclass

import pyarrow as pa

from streamdrift.categories import canonical_type
from streamdrift.convert import CATEGORICAL, NUMERIC, default_kind, is_temporal, named_kind
from streamdrift.errors import DriftError, option
from streamdrift.io import Source
from streamdrift.report import Skipped


@dataclass
class Selection:
    """The features to compare (name -> kind, in the reference's column order) and the skipped columns."""

    kinds: dict[str, str]
    skipped: list[Skipped]

    def of_kind(self, kind: str) -> list[str]:
        return [f for f, k in self.kinds.items() if k == kind]


def skip_reason(arrow_type: pa.DataType) -> str:
    if pa.types.is_null(arrow_type):
        return "no values (Arrow null type)"
    if is_temporal(arrow_type):
        return f"neither a number nor a category; name it with {option('columns')} to bin it on its integer values"
    return "neither a number nor a category"


def select_features(ref: Source, cur: Source, columns=None, categorical=None, numeric_only: bool = False) -> Selection:
    """The features of ``ref`` and ``cur``; a DriftError names any column that cannot be compared.

    ``numeric_only``: categorical columns are skipped too (``detect_drift``'s numeric task).
    """
    ref_types, cur_types = _types(ref), _types(cur)
    as_categories = list(dict.fromkeys(categorical or []))
    for name in as_categories:
        _check_present(name, ref, cur, ref_types, cur_types)
    if columns:
        return Selection(_named(ref, cur, ref_types, cur_types, list(dict.fromkeys(columns)), as_categories), [])
    kinds, skipped = {}, []
    for name in list(ref_types) + [n for n in cur_types if n not in ref_types]:
        kind = _default_kind(name, ref, cur, ref_types, cur_types, name in as_categories, numeric_only)
        if kind is None:
            t = ref_types.get(name, cur_types.get(name))
            skipped.append(Skipped(name, str(t), skip_reason(t), is_temporal(t)))
        else:
            kinds[name] = kind
    if not kinds:
        wanted = "numeric columns" if numeric_only else "numeric or categorical (string, dictionary) columns"
        have = ", ".join(f"{s.feature} ({s.type})" for s in skipped) or "(none)"
        where = side_name(ref, ref) + ("" if cur is ref else f" and {side_name(cur, ref)}")
        raise DriftError(f"no {wanted} in {where} to compare; columns: {have}")
    return Selection(kinds, skipped)


def _default_kind(name, ref, cur, ref_types, cur_types, as_category, numeric_only) -> str | None:
    sides = [(side, types) for side, types in ((ref, ref_types), (cur, cur_types)) if name in types]
    kinds = []
    for side, types in sides:
        kind = named_kind(types[name], True) if as_category else default_kind(types[name])
        if as_category and kind is None:
            raise _not_categorical(name, side, ref, types[name])
        kinds.append(None if numeric_only and kind == CATEGORICAL else kind)
    if len(sides) == 1:
        if kinds[0] is not None:
            side = sides[0][0]
            other = cur if side is ref else ref
            raise DriftError(
                f"{kinds[0]} column '{name}' is in {side_name(side, ref)} but not in {side_name(other, ref)}; "
                f"name the columns to compare with {option('columns')}"
            )
        return None
    return _agree(name, ref, cur, ref_types[name], cur_types[name], *kinds)


def reference_selection(source: Source, columns=None, categorical=None) -> Selection:
    """The features of one side alone (a watch's or a profile's reference): ``select_features``
    of the source against itself, so both commands choose and word everything alike."""
    return select_features(source, source, columns, categorical)


def _agree(name, ref, cur, ref_type, cur_type, ref_kind, cur_kind) -> str | None:
    """The one kind of a column on both sides (a side of Arrow's null type takes the other's)."""
    if pa.types.is_null(ref_type):
        ref_kind = cur_kind if cur_kind is not None or not pa.types.is_null(cur_type) else None
    if pa.types.is_null(cur_type):
        cur_kind = ref_kind
    if pa.types.is_null(ref_type) and pa.types.is_null(cur_type):
        return None
    if ref_kind != cur_kind or (ref_kind == CATEGORICAL and not same_categories(ref_type, cur_type)):
        raise kinds_differ(name, ref_type, side_name(ref, ref), cur_type, side_name(cur, ref))
    return ref_kind


def kinds_differ(name, ref_type, ref_where, cur_type, cur_where) -> DriftError:
    return DriftError(
        f"column '{name}' is {ref_type} in {ref_where} but {cur_type} in {cur_where}; "
        f"both sides must be numbers or both categories (or leave it out with {option('columns')})"
    )


def check_kinds(schema: pa.Schema, kinds: dict[str, str], reference: pa.Schema, ref_where: str, where: str) -> None:
    """Each feature present in ``schema`` (current data) is of the kind it has in the ``reference``
    schema (categories also of the same type: text or integers), or a DriftError naming both."""
    for name, kind in kinds.items():
        idx = schema.get_field_index(name)
        if idx < 0:
            continue  # the reader names missing columns
        t, ref_t = schema.field(idx).type, reference.field(name).type
        if named_kind(t, kind == CATEGORICAL) != kind or (kind == CATEGORICAL and not same_categories(ref_t, t)):
            raise kinds_differ(name, ref_t, ref_where, t, where)


def same_categories(ref_type, cur_type) -> bool:
    return pa.types.is_null(ref_type) or pa.types.is_null(cur_type) or canonical_type(ref_type) == canonical_type(cur_type)


def _named(ref, cur, ref_types, cur_types, wanted, as_categories) -> dict[str, str]:
    extra = [n for n in as_categories if n not in wanted]
    if extra:
        raise DriftError(
            f"column '{extra[0]}' is named as categorical but is not among the columns to compare; "
            f"add it to {option('columns')}"
        )
    kinds = {}
    for name in wanted:
        _check_present(name, ref, cur, ref_types, cur_types)
        sides = {}
        for side, types in ((ref, ref_types), (cur, cur_types)):
            sides[side] = named_kind(types[name], name in as_categories)
            if sides[side] is None:
                raise _not_categorical(name, side, ref, types[name]) if name in as_categories else _not_comparable(
                    name, side, ref, types[name])
        kinds[name] = _agree(name, ref, cur, ref_types[name], cur_types[name], sides[ref], sides[cur]) or NUMERIC
    order = {name: i for i, name in enumerate(ref_types)}
    return {name: kinds[name] for name in sorted(wanted, key=order.__getitem__)}


def _check_present(name, ref, cur, ref_types, cur_types) -> None:
    for side, types in ((ref, ref_types), (cur, cur_types)):
        if name not in types:
            raise DriftError(
                f"column '{name}' is not in {side_name(side, ref)}; its columns are: {', '.join(types) or '(none)'}"
            )


def _not_comparable(name, side, ref, arrow_type) -> DriftError:
    return DriftError(
        f"column '{name}' in {side_name(side, ref)} has type {arrow_type}, which cannot be compared; features are "
        "numbers (integer, float, boolean, decimal), categories (string, dictionary) or times (binned as integers)"
    )


def _not_categorical(name, side, ref, arrow_type) -> DriftError:
    return DriftError(
        f"column '{name}' in {side_name(side, ref)} has type {arrow_type}, which cannot be categorical; "
        f"only integer, string and dictionary columns can be named in {option('categorical')}"
    )


def _types(source: Source) -> dict[str, pa.DataType]:
    names = source.schema.names
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise DriftError(f"{source.name} has duplicate column names: {', '.join(sorted(dupes))}")
    return {f.name: f.type for f in source.schema}


def side_name(source: Source, ref: Source) -> str:
    """``reference 'a.parquet'``, or just ``reference`` for in-memory data (named by its role)."""
    role = "reference" if source is ref else "current"
    return role if source.name == role else f"{role} {source.name}"
