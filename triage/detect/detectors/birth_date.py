"""Dates of birth: valid dates in the past, spread over decades, no time of day (or
the fixed one of dates stored as instants)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from triage.detect.base import Detector
from triage.detect.detectors._dates import (
    current_year,
    date_shape,
    dates_stored_as_instants,
    has_time,
    parse_years,
    settled_month_first,
)

OLDEST_YEAR = 1900
#: Birth dates of a population spread over decades; event dates over a few years.
MIN_SPREAD_YEARS = 15


class BirthDate(Detector):
    id = "birth_date"
    category = "birth_date"
    headers = "birth_date"
    priority = 55

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return date_shape(col)

    def validate(self, values: pl.Series) -> pl.Series:
        years = parse_years(values, _this_year())
        return years.is_between(OLDEST_YEAR, current_year()).fill_null(False)

    def plausible(self, valid: pl.Series, sample_size: int) -> float:
        if (float(has_time(valid).mean() or 0.0) > 0.2
                and not dates_stored_as_instants(valid)):
            return 0.0
        # Read as one column, as the identity stage reads it: the values that only
        # another day/month order than the column's reads are no dates of it.
        years = parse_years(valid, _this_year(), one_column=True)
        read = float(years.is_not_null().mean() or 0.0)
        spread = (years.quantile(0.9) or 0.0) - (years.quantile(0.1) or 0.0)
        median_age = current_year() - (years.median() or 0.0)
        if spread >= MIN_SPREAD_YEARS and median_age >= 10:
            return read
        # A narrow or recent spread is an event column, unless a header says otherwise.
        return 0.4 * read

    def evidence(self, valid: pl.Series) -> dict[str, float | int | str]:
        # The order legacy dates (03/14/85) are in, when the sample settles it: the
        # identity stage reads every batch of the column in it.
        month_first = settled_month_first(valid, _this_year())
        if month_first is None:
            return {}
        return {"day_month_order": "month_first" if month_first else "day_first"}


def _this_year() -> int:
    # Nobody is born in the future: a two-digit year is the latest one not after now.
    return dt.date.today().year


DETECTOR = BirthDate()
