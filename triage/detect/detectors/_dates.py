"""Dates and timestamps parsed vectorised, for the date-like detectors.

A date-only export (``1985-03-02``, ``02/03/1985``, ``02.03.1985``, ``19850302``)
and timestamps (ISO 8601, ``dd/mm/yyyy hh:mm``, Unix seconds) all become a year
fraction, so birth dates and event dates are told apart by how they spread.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y/%m/%d", "%m/%d/%Y",
                "%Y%m%d", "%d/%m/%y")
#: Unix seconds between 2000-01-01 and 2035-01-01, the span event logs use.
EPOCH_RANGE = (946_684_800, 2_051_222_400)
DATE_SHAPE = (r"^(?:\d{4}[-/]\d{1,2}[-/]\d{1,2}|\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})|"
              r"(?:19|20)\d{6})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")
EPOCH_SHAPE = r"^1\d{9}(?:\d{3})?$"


def date_shape(col: pl.Expr) -> pl.Expr:
    return col.str.contains(DATE_SHAPE) | col.str.contains(EPOCH_SHAPE)


def parse_years(values: pl.Series) -> pl.Series:
    """Year (as a float: 1985.17) of each value; null where it is not a date."""
    frame = pl.DataFrame({"v": values})
    day = pl.col("v").str.extract(r"^([\d/.\-]+)", 1)
    parsed = pl.coalesce([day.str.to_date(fmt, strict=False) for fmt in DATE_FORMATS])
    digits = pl.col("v").str.slice(0, 10).cast(pl.Int64, strict=False)
    epoch = pl.when(pl.col("v").str.contains(EPOCH_SHAPE)
                    & digits.is_between(*EPOCH_RANGE)).then(
        pl.from_epoch(digits, time_unit="s").dt.date())
    date = pl.coalesce([parsed, epoch])
    year = date.dt.year() + (date.dt.ordinal_day() - 1) / 366
    return frame.select_seq(year.alias("year"))["year"]


def has_time(values: pl.Series) -> pl.Series:
    """True where the value carries a time of day other than midnight, or is Unix time."""
    timed = values.str.contains(r"[T ]\d{1,2}:\d{2}") & ~values.str.contains(r"[T ]00:00(?::00)?")
    return timed | values.str.contains(EPOCH_SHAPE)


def current_year() -> float:
    today = dt.date.today()
    return today.year + (today.timetuple().tm_yday - 1) / 366
