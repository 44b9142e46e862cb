"""The type lattice: null < boolean; null < integer < decimal; null < date < datetime; text on top.

A column's type is the join of the types of all its non-empty values. Dates carry
the set of formats seen (``%d/%m/%Y``...), so a column mixing two date formats is
still a date column, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import polars as pl

from triage.native import parse_times

BOOLEAN_WORDS = ["true", "false", "yes", "no", "oui", "non", "vrai", "faux", "ja", "nein"]
INTEGER = r"^[+-]?[0-9]+$"
# NaN and infinities count as decimals: pandas writes "nan" into numeric columns,
# and polars' float cast (the fast path) reads them.
DECIMAL = (r"^(?:[+-]?(?:[0-9]+[.,][0-9]*|[.,][0-9]+|[0-9]+)(?:[eE][+-]?[0-9]+)?"
           r"|(?i:[+-]?(?:nan|inf|infinity)))$")
# Only strings shaped like a date are handed to the (slower) date parsers.
DATE_SHAPE = r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"

#: Datetimes the kernel reads are microseconds from this instant (naive, as polars').
_EPOCH = datetime(1970, 1, 1)
_EARLIEST_MICROS, _LATEST_MICROS = (
    (moment - _EPOCH) // timedelta(microseconds=1)
    for moment in (datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59, 999999)))
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


def within_python_years(parsed: pl.Expr) -> pl.Expr:
    """``parsed``, null where its year is outside what Python's dates hold (1 to 9999):
    polars reads "01/01/0000" or "12/03/-020" with %Y, and a min, a max or a month of
    such a value could be neither reported nor even converted. It is no date."""
    return pl.when(parsed.dt.year().is_between(1, 9999)).then(parsed)


def _parse_time(values: pl.Series, fmt: str) -> pl.Series:
    if fmt in DATE_FORMATS:
        parsed = values.str.to_date(fmt, strict=False)
    else:
        parsed = values.str.to_datetime(fmt, strict=False, time_unit="us")
    return pl.select(within_python_years(pl.lit(parsed))).to_series().alias(values.name)


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


def typed_values(name: str, inferred: InferredType) -> tuple[pl.Expr, bool]:
    """(expression, per distinct) reading column ``name`` as ``inferred``, null where a
    value does not fit as it is (no trimming); booleans as true/false.

    Per distinct: the expression reads the column's *distinct* values (blanks
    included), for decimals, which repeat a lot (lab results, amounts), so parsing
    each once is cheaper; dates repeat too, but there finding the distinct values
    costs about as much as parsing them all (measured on megabus).
    """
    value = pl.col(name)
    if inferred.kind == "boolean":
        return value.str.to_lowercase().is_in(BOOLEAN_WORDS).replace(False, None), False
    per_distinct = inferred.kind == "decimal"
    if per_distinct:
        value = value.unique()
    if inferred.kind == "integer":
        # Casting accepts a leading "+", as the lattice does; nothing else differs.
        return value.cast(pl.Int64, strict=False), False
    if inferred.kind == "decimal":
        if "," in inferred.formats:
            value = value.str.replace(",", ".", literal=True)
        return value.cast(pl.Float64, strict=False), per_distinct
    parses = []
    for fmt in sorted(inferred.formats):
        if fmt in DATE_FORMATS:
            parses.append(value.str.to_date(fmt, strict=False, cache=False)
                          .cast(pl.Datetime("us")))
        else:
            parses.append(value.str.to_datetime(fmt, strict=False, time_unit="us",
                                                cache=False).dt.replace_time_zone(None))
    return within_python_years(pl.coalesce(parses) if len(parses) > 1 else parses[0]), False


#: A column as the kernel read it with a format: (format, micros, status), as
#: :func:`triage.native.parse_times` returns them.
TimesRead = tuple[str, np.ndarray, np.ndarray]


def _read_times(values: pl.Series, inferred: InferredType,
                kept: dict[str, TimesRead] | None) -> tuple[bool, object, object] | None:
    """A date or datetime column of one fixed-width format, checked by the native kernel
    (~10x cheaper than polars' strptime); None, for polars to check, when the kernel
    is absent, does not read the format, or leaves a value to polars. What the kernel
    read is kept in ``kept`` under the column's name."""
    if inferred.kind not in ("date", "datetime") or len(inferred.formats) != 1:
        return None
    fmt = next(iter(inferred.formats))
    read = parse_times(values, fmt)
    if read is not None and kept is not None:
        kept[values.name] = (fmt, *read)
    if read is None or (read[1] == 2).any():
        return None
    micros = read[0][read[1] == 1]
    if not len(micros):
        return True, None, None
    if micros.min() < _EARLIEST_MICROS or micros.max() > _LATEST_MICROS:
        return None  # a year Python cannot hold: polars and within_python_years decide (text)
    # Every non-blank value was read: the column fits; min and max as polars gives them.
    return True, _EPOCH + timedelta(microseconds=int(micros.min())), _EPOCH + timedelta(
        microseconds=int(micros.max()))


def check_fits(batch: pl.DataFrame, columns: dict[str, InferredType],
               counts: dict[str, tuple[int, int]], times: dict[str, TimesRead] | None = None
               ) -> dict[str, tuple[bool, object, object]]:
    """Per column: (every non-blank value fits its type as it is, min, max of the values).

    This is the fast path of columns whose type is already known: each column is
    read once (polars would parse a column once per aggregate over it), then
    aggregated. A column where some value does not fit goes to :func:`verify`,
    which trims and classifies the misfits exactly, so the result is the same.
    ``times``: where the kernel's reading of each fixed-width date column is kept, for
    later stages that read the same column with the same format.
    """
    row_wise, distinct = {}, {}
    results: dict[str, tuple[bool, object, object]] = {}
    for j, (name, inferred) in enumerate(columns.items()):
        read = _read_times(batch[name], inferred, times)
        if read is not None:
            results[name] = read
            continue
        typed, per_distinct = typed_values(name, inferred)
        (distinct if per_distinct else row_wise)[name] = typed.alias(f"c{j}")
    if row_wise:
        read = batch.select(list(row_wise.values()))
        row = read.select(e for c in read.columns for e in (
            pl.col(c).count().alias(f"{c}n"), pl.col(c).min().alias(f"{c}lo"),
            pl.col(c).max().alias(f"{c}hi"))).row(0)
        for k, name in enumerate(row_wise):
            present, empty = counts[name]
            results[name] = (row[3 * k] == present - empty, row[3 * k + 1], row[3 * k + 2])
    for name, typed in distinct.items():
        values = batch.select(typed).to_series()
        present, empty = counts[name]
        # A null and an empty string are distinct values that fail once each.
        expected = int(present < batch.height) + int(empty > 0)
        results[name] = (values.null_count() == expected, values.min(), values.max())
    return results
