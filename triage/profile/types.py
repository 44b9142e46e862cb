"""The type lattice: null < boolean; null < integer < decimal; null < date < datetime; text on top.

A column's type is the join of the types of all its non-empty values. Dates carry
the set of formats seen (``%d/%m/%Y``...), so a column mixing two date formats is
still a date column, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

BOOLEAN_WORDS = ["true", "false", "yes", "no", "oui", "non", "vrai", "faux", "ja", "nein"]
INTEGER = r"^[+-]?[0-9]+$"
# NaN and infinities count as decimals: pandas writes "nan" into numeric columns,
# and polars' float cast (the fast path) reads them.
DECIMAL = (r"^(?:[+-]?(?:[0-9]+[.,][0-9]*|[.,][0-9]+|[0-9]+)(?:[eE][+-]?[0-9]+)?"
           r"|(?i:[+-]?(?:nan|inf|infinity)))$")
# Only strings shaped like a date are handed to the (slower) date parsers.
DATE_SHAPE = r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"

DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y/%m/%d"]
DATETIME_FORMATS = [
    "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S%.fZ", "%Y-%m-%dT%H:%M:%S%:z",
    "%Y-%m-%dT%H:%M:%S%.f%:z", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M",
    "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S",
    "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S",
]
_ORDER = {"null": 0, "boolean": 1, "integer": 1, "decimal": 2, "date": 1, "datetime": 2, "text": 9}
_FAMILY = {"boolean": "boolean", "integer": "number", "decimal": "number",
           "date": "time", "datetime": "time"}


@dataclass(frozen=True)
class InferredType:
    kind: str = "null"
    formats: frozenset[str] = field(default_factory=frozenset)

    def join(self, other: InferredType) -> InferredType:
        if self.kind == "null":
            return other
        if other.kind == "null":
            return self
        if "text" in (self.kind, other.kind) or _FAMILY[self.kind] != _FAMILY[other.kind]:
            return TEXT
        kind = self.kind if _ORDER[self.kind] >= _ORDER[other.kind] else other.kind
        return InferredType(kind, self.formats | other.formats)

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"kind": self.kind}
        if self.formats:
            out["formats"] = sorted(self.formats)
        return out


NULL = InferredType()
TEXT = InferredType("text")


def _parse_time(values: pl.Series, fmt: str) -> pl.Series:
    if fmt in DATE_FORMATS:
        return values.str.to_date(fmt, strict=False)
    return values.str.to_datetime(fmt, strict=False, time_unit="us")


def classify(values: pl.Series) -> tuple[InferredType, dict[str, pl.Series]]:
    """Exact join of the types of ``values`` (stripped, non-empty strings).

    Also returns, for time types, the parsed values per format, so min/max need
    no second parse.
    """
    if values.len() == 0:
        return NULL, {}
    lowered = values.str.to_lowercase()
    if lowered.is_in(BOOLEAN_WORDS).all():
        return InferredType("boolean"), {}
    is_integer = values.str.contains(INTEGER)
    if is_integer.all():
        return InferredType("integer"), {}
    if values.str.contains(DECIMAL).all():
        # A decimal comma (French exports) is remembered so the fast path can read it.
        comma = frozenset({","}) if values.str.contains(r"[0-9],").any() else frozenset()
        return InferredType("decimal", comma), {}
    if not values.str.contains(DATE_SHAPE).all():
        return TEXT, {}
    remaining = values
    formats: set[str] = set()
    parsed: dict[str, pl.Series] = {}
    for fmt in DATE_FORMATS + DATETIME_FORMATS:
        attempt = _parse_time(remaining, fmt)
        ok = attempt.is_not_null()
        if not ok.any():
            continue
        formats.add(fmt)
        parsed[fmt] = attempt.filter(ok)
        remaining = remaining.filter(~ok)
        if remaining.len() == 0:
            kind = "datetime" if formats - set(DATE_FORMATS) else "date"
            return InferredType(kind, frozenset(formats)), parsed
    return TEXT, {}


def verify(values: pl.Series, candidate: InferredType) -> tuple[InferredType, dict[str, pl.Series]]:
    """The exact type of ``values`` given a candidate proposed from a sample.

    Values that fit the candidate are checked with one vectorised test; the ones
    that do not are classified exactly, and the two are joined.
    """
    if candidate.kind == "boolean":
        fits = values.str.to_lowercase().is_in(BOOLEAN_WORDS)
    elif candidate.kind == "integer":
        fits = values.str.contains(INTEGER)
    elif candidate.kind == "decimal":
        fits = values.str.contains(DECIMAL)
    elif candidate.kind in ("date", "datetime"):
        fits = pl.Series([False] * values.len())
        parsed: dict[str, pl.Series] = {}
        for fmt in sorted(candidate.formats):
            attempt = _parse_time(values, fmt)
            ok = attempt.is_not_null() & ~fits
            if ok.any():
                parsed[fmt] = attempt.filter(ok)
            fits = fits | ok
        misfits = values.filter(~fits)
        if misfits.len() == 0:
            return InferredType(candidate.kind, frozenset(parsed)), parsed
        other, other_parsed = classify(misfits)
        joined = InferredType(candidate.kind, frozenset(parsed)).join(other)
        return joined, {**parsed, **other_parsed} if joined.kind != "text" else {}
    else:
        return classify(values)
    misfits = values.filter(~fits)
    if misfits.len() == 0:
        return candidate, {}
    other, parsed = classify(misfits)
    return candidate.join(other), parsed


def fit_exprs(name: str, inferred: InferredType, key: str) -> list[pl.Expr]:
    """Expressions over the whole column that check it still fits ``inferred``, with the
    min/max of the values as they are (no trimming). One query checks every column.

    Either ``{key}f``, how many values fit, or ``{key}u``, how many *distinct* values
    (blanks included) fail to parse, for decimals, which repeat a lot, so parsing each
    distinct value once is cheaper (a null or an empty string fails once each; see
    :func:`fits`). This is the fast path of a column whose type is already known. A
    batch where some value does not fit goes to :func:`verify`, which trims and
    classifies the misfits exactly, so the result is the same.
    """
    value = pl.col(name)
    if inferred.kind == "boolean":
        return [value.str.to_lowercase().is_in(BOOLEAN_WORDS).sum().alias(f"{key}f")]
    # Decimals (lab results, amounts) repeat a lot; dates too, but there parsing every
    # value costs about as much as finding the distinct ones (measured on megabus).
    per_distinct = inferred.kind == "decimal"
    if per_distinct:
        value = value.unique()
    if inferred.kind == "integer":
        typed = value.cast(pl.Int64, strict=False)
        # Casting accepts a leading "+", as the lattice does; nothing else differs.
    elif inferred.kind == "decimal":
        if "," in inferred.formats:
            value = value.str.replace(",", ".", literal=True)
        typed = value.cast(pl.Float64, strict=False)
    else:
        parses = []
        for fmt in sorted(inferred.formats):
            if fmt in DATE_FORMATS:
                parses.append(value.str.to_date(fmt, strict=False, cache=False)
                              .cast(pl.Datetime("us")))
            else:
                parses.append(value.str.to_datetime(fmt, strict=False, time_unit="us",
                                                    cache=False).dt.replace_time_zone(None))
        typed = pl.coalesce(parses) if len(parses) > 1 else parses[0]
    fitting = (typed.null_count().alias(f"{key}u") if per_distinct
               else typed.count().alias(f"{key}f"))
    return [fitting, typed.min().alias(f"{key}lo"), typed.max().alias(f"{key}hi")]


def fits(row: dict[str, object], key: str, non_blank: int, has_null: bool,
         has_empty: bool) -> bool:
    """Whether every non-blank value fitted, from the results of :func:`fit_exprs`."""
    if f"{key}u" in row:
        return row[f"{key}u"] == int(has_null) + int(has_empty)
    return row[f"{key}f"] == non_blank
