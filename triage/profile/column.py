"""Per-column and per-table profile accumulators. They keep counts, lengths, a
sketch, a type and value *shapes*, never the values themselves."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from triage.native import length_stats
from triage.profile.hashes import hash_expr, row_hashes
from triage.profile.hll import HyperLogLog
from triage.profile.types import (
    NULL,
    TEXT,
    InferredType,
    TimesRead,
    check_fits,
    classify,
    verify,
)

#: Rows per batch (four slices: slicing is free, gathering is not) whose values
#: propose a type; the whole batch then verifies it, vectorised.
SAMPLE_SLICE = 64
#: Rows per batch that are shaped. Shapes are shares, so 64 values a batch (thousands
#: a file) are plenty, and the Unicode regexes that make them are not cheap.
SHAPE_SLICE = 16
#: Distinct shapes kept per column; rarer ones are folded into an "other" count.
MAX_SHAPES = 512
SHAPE_LENGTH = 32
#: A number whose integer part has this many digits is an identifier (phones, NIR...):
#: a column holding one has its min and max withheld, since either could be one.
IDENTIFIER_DIGITS = 7


def shape_expr(values: pl.Expr) -> pl.Expr:
    """``Jean`` -> ``Aa``, ``06 12 34 56 78`` -> ``99 99 99 99 99``, ``a.b@c.fr`` -> ``a.a@a.a``.

    Letter runs collapse to one character (names differ in length, not shape);
    digits stay one for one (their count is the shape of an identifier). Only ASCII
    punctuation and white space are kept as they are (the structure of an email, a
    date, a phone); every other character becomes a class symbol, so no run of a
    value survives, however it is written:

    * ``A``: a run of upper-case letters, ``a``: a run of other letters, of any
      script, letter-like symbols included (``Ⓩ``, ``🅩``, ``𝐙``, ``Ｚ``, ``⒵``,
      regional indicators), with the combining marks that follow them;
    * ``9``: each digit or number of any script (``٣``, ``①``, ``²``);
    * ``~``: a run of anything else (symbols, emoji, other punctuation, controls).

    Compatibility normalisation (NFKC) first turns fullwidth, circled, parenthesised
    and mathematical forms into the letters, digits and ASCII punctuation they stand
    for; it can lengthen a value (``⒇`` is ``(20)``), so the shape is cut again.
    """
    return (values.str.slice(0, SHAPE_LENGTH)
            .str.normalize("NFKC")
            .str.replace_all(r"(?:[\p{Uppercase}\p{Regional_Indicator}]\p{M}*)+", "A")
            # "A" is upper-case: the class below cannot take back what the line above wrote.
            .str.replace_all(r"(?:[\p{Alphabetic}&&\P{Uppercase}]\p{M}*)+", "a")
            .str.replace_all(r"\p{N}\p{M}*", "9")
            # Letters and digits are all A, a or 9 by now: what is left outside printable
            # ASCII and the three white-space controls is neither letter nor digit.
            .str.replace_all(r"[^\x20-\x7e\t\n\r]+", "~")
            .str.slice(0, SHAPE_LENGTH))


@dataclass
class ColumnProfile:
    name: str
    rows: int = 0          # rows of the table this column was counted over
    present: int = 0       # non-null cells
    empty: int = 0
    length_min: int | None = None
    length_max: int | None = None
    length_sum: int = 0
    hll: HyperLogLog = field(default_factory=HyperLogLog)
    type: InferredType = NULL
    number_min: float | None = None
    number_max: float | None = None
    time_min: dt.datetime | None = None
    time_max: dt.datetime | None = None
    shapes: Counter[str] = field(default_factory=Counter)
    shapes_other: int = 0

    @property
    def nulls(self) -> int:
        return self.rows - self.present

    def merge(self, other: ColumnProfile) -> ColumnProfile:
        merged = ColumnProfile(
            name=self.name,
            rows=self.rows + other.rows,
            present=self.present + other.present,
            empty=self.empty + other.empty,
            length_min=_opt(min, self.length_min, other.length_min),
            length_max=_opt(max, self.length_max, other.length_max),
            length_sum=self.length_sum + other.length_sum,
            hll=self.hll.merge(other.hll),
            type=self.type.join(other.type),
            number_min=_opt(min, self.number_min, other.number_min),
            number_max=_opt(max, self.number_max, other.number_max),
            time_min=_opt(min, self.time_min, other.time_min),
            time_max=_opt(max, self.time_max, other.time_max),
            shapes=self.shapes + other.shapes,
            shapes_other=self.shapes_other + other.shapes_other,
        )
        merged._prune_shapes()
        if merged.type.kind not in ("integer", "decimal"):
            merged.number_min = merged.number_max = None
        if merged.type.kind not in ("date", "datetime"):
            merged.time_min = merged.time_max = None
        return merged

    def _prune_shapes(self) -> None:
        if len(self.shapes) > MAX_SHAPES:
            kept = self.shapes.most_common(MAX_SHAPES)
            self.shapes_other += sum(self.shapes.values()) - sum(c for _, c in kept)
            self.shapes = Counter(dict(kept))

    def _identifier_like(self) -> bool:
        """Whether the min or the max may be an identifier, decided here, where the
        profile is written, for every format and path that fed it. A value of 7 or more
        integer digits makes a column identifier-like (a float or Excel's scientific
        notation keeps a phone or a NIR whole: ``3.3612345678E+10``); either extreme
        holds the widest value, and an infinite one hides the finite values next to it.
        Integers also count their leading zeros (``0000042`` is a code, not 42)."""
        widest = 10 ** (IDENTIFIER_DIGITS - 1)
        if abs(self.number_min) >= widest or abs(self.number_max) >= widest:
            return True
        return self.type.kind == "integer" and (self.length_max or 0) >= IDENTIFIER_DIGITS

    def _distinct(self, non_empty: int) -> int:
        if not non_empty:
            return 0
        blanks = (self.nulls > 0) + (self.empty > 0)
        return max(1, min(non_empty, self.hll.estimate() - blanks))

    def to_dict(self) -> dict[str, Any]:
        non_empty = self.present - self.empty
        doc: dict[str, Any] = {
            "name": self.name,
            "type": self.type.to_dict(),
            "count": self.present,
            "nulls": self.nulls,
            "empty": self.empty,
            "distinct": self._distinct(non_empty),
            "length": {
                "min": self.length_min,
                "max": self.length_max,
                "mean": round(self.length_sum / non_empty, 2) if non_empty else None,
            },
        }
        if self.type.kind in ("integer", "decimal") and self.number_min is not None:
            if self._identifier_like():
                doc["range"] = {"withheld": "identifier-like numbers"}
            else:
                doc["range"] = {"min": _number(self.number_min), "max": _number(self.number_max)}
        if self.type.kind in ("date", "datetime") and self.time_min is not None:
            # Months only: the exact first and last dates of a birth-date column are the
            # birthdays of its oldest and youngest person.
            doc["range"] = {"min": _month(self.time_min), "max": _month(self.time_max)}
        sampled = sum(self.shapes.values()) + self.shapes_other
        doc["shapes"] = [
            {"shape": shape, "share": round(count / sampled, 4)}
            for shape, count in self.shapes.most_common(10)
        ]
        return doc


def _opt(fn, a, b):  # type: ignore[no-untyped-def]
    if a is None:
        return b
    if b is None:
        return a
    return fn(a, b)


def _number(value: float | None) -> float | int | None:
    if value is None or not math.isfinite(value):
        return None  # JSON has no NaN or infinity
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else value


def _month(value: dt.datetime) -> str:
    # Not strftime: glibc writes the year 999 as "999", not "0999".
    return f"{value.year:04d}-{value.month:02d}"


def _as_datetime(value: dt.date | dt.datetime) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    return dt.datetime.combine(value, dt.time(0))


class TableProfile:
    """The profile of one source: rows plus one :class:`ColumnProfile` per column."""

    def __init__(self, types: Mapping[str, InferredType] | None = None) -> None:
        """``types``: the types some earlier rows of the same table established (a
        split file's first batch, for each of its parts). They are joined into this
        table's types, as those rows would be, so a column typed there is checked
        against its type from the first batch here instead of being classified again.
        (A date that reads two ways is read with the formats known here, as in one
        pass: see ``docs/cluster.md``.)"""
        self.rows = 0
        self.columns: dict[str, ColumnProfile] = {
            name: ColumnProfile(name, type=kind) for name, kind in (types or {}).items()}
        #: The last batch's fixed-width date columns as the kernel read them (format,
        #: microseconds, status per row), new for each batch: the scan's event dates
        #: reuse them instead of reading the same columns again.
        self.batch_times: dict[str, TimesRead] = {}
        #: The last batch's row hashes (:func:`~triage.profile.hashes.row_hashes`),
        #: made from the cells' hashes the sketches take: detection's samples keep
        #: rows by them.
        self.batch_row_hashes: np.ndarray | None = None

    def __getstate__(self) -> dict[str, Any]:
        # A profile travels (a cluster's part) without its last batch's dates and hashes.
        return {**self.__dict__, "batch_times": {}, "batch_row_hashes": None}

    def update(self, batch: pl.DataFrame) -> None:
        height = batch.height
        self.batch_times = {}
        self.batch_row_hashes = None
        if not height:
            return
        for name in batch.columns:
            if name not in self.columns:
                self.columns[name] = ColumnProfile(name, rows=self.rows)
        for profile in self.columns.values():
            profile.rows += height
        counts = self._count(batch)
        self._sketch(batch)
        self._type_and_shape(batch, counts)
        self.rows += height

    def declare(self, names: list[str]) -> None:
        """Add the named columns no row has filled (a header over no data)."""
        for name in names:
            if name not in self.columns:
                self.columns[name] = ColumnProfile(name, rows=self.rows)

    def _count(self, batch: pl.DataFrame) -> dict[str, tuple[int, int]]:
        """Counts and lengths of every column; returns (present, empty) per column."""
        # Lengths in UTF-8 bytes, as xsv's stats: 4x cheaper than characters. The
        # kernel reads them from polars' string views without touching the values.
        stats = length_stats([batch[name] for name in batch.columns])
        if stats is None:
            stats = self._polars_length_stats(batch)
        counts = {}
        for name, (present, empty, shortest, longest, total) in zip(
                batch.columns, stats.tolist(), strict=True):
            profile = self.columns[name]
            profile.present += present
            profile.empty += empty
            if longest:
                profile.length_min = _opt(min, profile.length_min, shortest)
                profile.length_max = _opt(max, profile.length_max, longest)
            profile.length_sum += total
            counts[name] = (present, empty)
        return counts

    @staticmethod
    def _polars_length_stats(batch: pl.DataFrame) -> np.ndarray:
        """The kernel's twin: the lengths are computed once into a frame of their own
        (aggregating five times over the strings cost half as much again)."""
        lengths = batch.select(pl.all().str.len_bytes())
        exprs = []
        for name in batch.columns:
            length = pl.col(name)
            filled = length.filter(length > 0)
            exprs += [length.count(), (length == 0).sum(), filled.min().fill_null(0),
                      filled.max().fill_null(0), length.sum()]
        row = lengths.select(e.alias(str(k)) for k, e in enumerate(exprs)).row(0)
        return np.array(row, dtype=np.int64).reshape(len(batch.columns), 5)

    def _sketch(self, batch: pl.DataFrame) -> None:
        # Blanks (null, "") are hashed like any value, which is cheaper than masking
        # them; to_dict() takes the one or two blank values back out of the estimate.
        hashes = batch.select(hash_expr(pl.col(name)) for name in batch.columns)
        for name in batch.columns:
            self.columns[name].hll.add_hashes(hashes[name].to_numpy())
        self.batch_row_hashes = row_hashes(hashes)

    def _type_and_shape(self, batch: pl.DataFrame, counts: dict[str, tuple[int, int]]) -> None:
        height = batch.height
        starts = sorted({0, height // 4, height // 2, 3 * height // 4})
        sample = pl.concat([batch.slice(s, SAMPLE_SLICE) for s in starts])
        self._shapes(pl.concat([batch.slice(s, SHAPE_SLICE) for s in starts]))
        established = [n for n in batch.columns
                       if self.columns[n].type not in (NULL, TEXT)]
        unknown = [n for n in batch.columns if self.columns[n].type == NULL]
        if established:
            self._verify_established(batch, established, counts)
        if unknown:
            stripped = sample.select(pl.col(unknown).str.strip_chars())
            for name in unknown:
                sampled = stripped[name].drop_nulls()
                candidate, _ = classify(sampled.filter(sampled != ""))
                self._settle(batch, name, candidate)

    def _shapes(self, sample: pl.DataFrame) -> None:
        # NUL-prefixed names cannot collide with a dump's columns (a column "value").
        value = pl.col("\0value")
        shapes = (sample.unpivot(variable_name="\0column", value_name="\0value")
                  .filter(value.is_not_null() & (value != ""))
                  .select("\0column", shape_expr(value).alias("\0shape"))
                  .group_by("\0column", "\0shape").len())
        for name, shape, count in shapes.iter_rows():
            self.columns[name].shapes[shape] += count
        for profile in self.columns.values():
            profile._prune_shapes()

    def _verify_established(self, batch: pl.DataFrame, names: list[str],
                            counts: dict[str, tuple[int, int]]) -> None:
        """Every typed column checked at once: the common case costs little Python."""
        checked = check_fits(batch, {n: self.columns[n].type for n in names}, counts,
                             self.batch_times)
        for name, (fitting, low, high) in checked.items():
            profile = self.columns[name]
            if fitting:
                if profile.type.kind in ("integer", "decimal"):
                    profile.number_min = _opt(min, profile.number_min, low)
                    profile.number_max = _opt(max, profile.number_max, high)
                elif low is not None and profile.type.kind != "boolean":
                    profile.time_min = _opt(min, profile.time_min, _as_datetime(low))
                    profile.time_max = _opt(max, profile.time_max, _as_datetime(high))
            else:
                self._settle(batch, name, profile.type)

    def _settle(self, batch: pl.DataFrame, name: str, candidate: InferredType) -> None:
        """Exact type of this batch's values given a candidate; joins it into the column."""
        profile = self.columns[name]
        if candidate == TEXT:
            profile.type = TEXT
            return
        values = batch[name].drop_nulls().str.strip_chars()
        values = values.filter(values != "")
        kind, parsed = verify(values, candidate)
        profile.type = profile.type.join(kind)
        if profile.type != TEXT:
            self._ranges(profile, values, kind, parsed)

    @staticmethod
    def _ranges(profile: ColumnProfile, values: pl.Series, kind: InferredType,
                parsed: dict[str, pl.Series]) -> None:
        if kind.kind in ("integer", "decimal"):
            numbers = values.str.replace(",", ".", literal=True).cast(pl.Float64, strict=False)
            profile.number_min = _opt(min, profile.number_min, numbers.min())
            profile.number_max = _opt(max, profile.number_max, numbers.max())
        elif kind.kind in ("date", "datetime"):
            for series in parsed.values():
                low, high = series.min(), series.max()
                if low is not None:
                    profile.time_min = _opt(min, profile.time_min, _as_datetime(low))
                    profile.time_max = _opt(max, profile.time_max, _as_datetime(high))

    def merge(self, other: TableProfile) -> TableProfile:
        merged = TableProfile()
        merged.rows = self.rows + other.rows
        for name in list(self.columns) + [n for n in other.columns if n not in self.columns]:
            mine = self.columns.get(name) or ColumnProfile(name, rows=self.rows)
            theirs = other.columns.get(name) or ColumnProfile(name, rows=other.rows)
            merged.columns[name] = mine.merge(theirs)
        return merged

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "columns": [c.to_dict() for c in self.columns.values()]}
