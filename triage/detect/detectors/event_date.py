"""Dates and timestamps of events (visits, appointments, samples): recent, narrow spread.

Two-digit years are no event dates: the identity stage reads event dates for its
month counts with four-digit years only (``parse_dates``), and would count
``14/03/21`` in the year 21. Month names and compact ``DDMMYYYY`` are event dates,
though their months go uncounted.
"""

from __future__ import annotations

import polars as pl

from triage.detect.base import Detector
from triage.detect.detectors._dates import current_year, date_shape, has_time, parse_years

OLDEST_YEAR = 1980
#: Most events of an export fall within this many years.
MAX_SPREAD_YEARS = 15


class EventDate(Detector):
    id = "event_date"
    category = "event_date"
    headers = "event_date"
    priority = 50

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return date_shape(col)

    def validate(self, values: pl.Series) -> pl.Series:
        years = parse_years(values)
        return years.is_between(OLDEST_YEAR, current_year() + 2).fill_null(False)

    def plausible(self, valid: pl.Series, sample_size: int) -> float:
        if float(has_time(valid).mean() or 0.0) > 0.5:
            return 1.0
        years = parse_years(valid)
        spread = (years.quantile(0.9) or 0.0) - (years.quantile(0.1) or 0.0)
        return 1.0 if spread <= MAX_SPREAD_YEARS and (years.median() or 0) >= 1990 else 0.4


DETECTOR = EventDate()
