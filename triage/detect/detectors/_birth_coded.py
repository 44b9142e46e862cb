"""National ids that begin with their holder's birth date (PESEL, CPR, rodné číslo,
CNP, personnummer): one validation and one column test for all of them.

Each number is checked by its python-stdnum module, which reads the embedded date
(with the scheme's century, sex and serial-overflow offsets on the month or the
first digit) and, where the scheme has one, the check digit. A check digit alone
lets about one random number in ten through, and the Danish CPR has none since
2007; the date is what makes a random number rarely valid (0.5–2.5 % of random 10-
or 11-digit numbers pass), and it gives a column test that numbers of a different
kind fail as a set, the way the birth-date detector judges dates:

* the births spread over decades, and so do their two-digit years, with an adult
  median: dated invoice or order numbers (``DDMMYY`` + a counter) span a few years,
  though a counter's first digit, read as the CPR's century, may spread them over
  two centuries;
* no day and no month dominates: a column of phone numbers sharing a prefix puts
  that prefix where the day or month is (77 % of Swedish ``070`` mobile numbers
  are valid CPRs, all born on the 7th).
"""

from __future__ import annotations

import datetime as dt
from types import ModuleType
from typing import ClassVar

import polars as pl

from triage.detect.base import Detector, checksum_validator

#: Births of a population spread over decades (10th to 90th percentile), as for
#: birth-date columns; events and dated serial numbers over a few years.
MIN_SPREAD_YEARS = 15
#: Half the holders are at least this old: ids of a population, not of this year's items.
MIN_MEDIAN_AGE = 10
#: At most this share of births on one day of the month (1/31 expected), or on one
#: month (1/12 expected), with a few allowed in tiny samples where chance repeats.
MAX_DAY_SHARE, MIN_DAY_ALLOWANCE = 1 / 3, 2
MAX_MONTH_SHARE, MIN_MONTH_ALLOWANCE = 1 / 2, 3
#: Implausible as a column: too weak for values alone, enough to confirm a header.
IMPLAUSIBLE = 0.4


def _spread(years: pl.Series) -> float:
    return (years.quantile(0.9) or 0.0) - (years.quantile(0.1) or 0.0)


def births_plausibility(births: list[dt.date], *, days: bool = True) -> float:
    """1.0 when a set of embedded birth dates looks like a population, else IMPLAUSIBLE.

    ``days=False``: the ids embed a year and month only (the French NIR), so the day
    of the dates given says nothing and is not tested.
    """
    if not births:
        return 0.0
    dates = pl.Series("born", births, dtype=pl.Date)
    years = dates.dt.year()
    spread = min(_spread(years), _spread(years % 100))
    median_age = dt.date.today().year - (years.median() or 0.0)
    n = len(births)
    top_day = int(dates.dt.day().value_counts()["count"].max() or 0)
    top_month = int(dates.dt.month().value_counts()["count"].max() or 0)
    if (spread >= MIN_SPREAD_YEARS and median_age >= MIN_MEDIAN_AGE
            and (not days or top_day <= max(MIN_DAY_ALLOWANCE, MAX_DAY_SHARE * n))
            and top_month <= max(MIN_MONTH_ALLOWANCE, MAX_MONTH_SHARE * n)):
        return 1.0
    return IMPLAUSIBLE


class BirthCodedId(Detector):
    """A national id whose python-stdnum module (``scheme``) validates it and reads its
    birth date (``get_birth_date``); subclasses set the ids, the header key and the shape."""

    scheme: ClassVar[ModuleType]
    category = "national_id"
    priority = 85
    costly = True
    # Random numbers pass at 0.5–2.5 %, dated serial numbers and some phone numbers
    # far more: nearly all values must pass, and the set must look like births.
    min_value_share = 0.9

    def validate(self, values: pl.Series) -> pl.Series:
        return checksum_validator(values, self.scheme.is_valid)

    def plausible(self, valid: pl.Series, sample_size: int) -> float:
        return births_plausibility([self.scheme.get_birth_date(v) for v in valid.to_list()])
