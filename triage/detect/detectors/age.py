"""Ages in years: whole numbers 0-120 (maybe "42 ans"), spread like a population's."""

from __future__ import annotations

import polars as pl

from triage.detect.base import Detector

MAX_AGE = 120
#: Share of the five most common values above which numbers are codes, not ages.
MAX_TOP5_SHARE = 0.5
#: A population's ages reach down to the young and up to the old, and spread: weights,
#: pulses, temperatures, stays in days and test scores are whole numbers of the same
#: size, but bunched (quartiles closer than this) or cut off at one end.
YOUNGEST_AT_LEAST, OLDEST_AT_MOST, MIN_QUARTILE_SPREAD = 25, 70, 20
#: Share of values of 100 and more above which they are percentages, not ages (about
#: 2 people in 10,000 are centenarians; 1 % of uniform percentages are exactly 100).
MAX_CENTENARIANS = 0.005


class Age(Detector):
    id = "age"
    category = "age"
    headers = "age"
    priority = 40

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(r"(?i)^\d{1,3}(?:\s?(?:ans?|years?|yrs?|y|jahre?|j|anos|anni|años))?$")

    def validate(self, values: pl.Series) -> pl.Series:
        number = values.str.extract(r"^(\d{1,3})", 1).cast(pl.Int32, strict=False)
        return number.is_between(0, MAX_AGE).fill_null(False)

    def plausible(self, valid: pl.Series, sample_size: int) -> float:
        numbers = valid.str.extract(r"^(\d{1,3})", 1).cast(pl.Int32)
        distinct = numbers.n_unique()
        median = numbers.median() or 0
        leading_zero = float(valid.str.contains(r"^0\d").mean() or 0.0)
        if leading_zero > 0.05:
            return 0.0  # codes, not ages
        # A population's ages: many distinct values, none dominant, some adults, a
        # middle-aged median. Codes (départements, categories) concentrate on a few.
        top5 = float(numbers.value_counts(sort=True)["count"].head(5).sum()) / len(numbers)
        if not (distinct >= min(15, max(3, sample_size // 10)) and 15 <= median <= 80
                and top5 <= MAX_TOP5_SHARE):
            return 0.4
        spread = (numbers.quantile(0.75) or 0) - (numbers.quantile(0.25) or 0)
        centenarians = float((numbers >= 100).mean() or 0.0)
        if len(numbers) < 30:
            # Too few to see a population's shape: the old test, some adults.
            return 1.0 if (numbers.max() or 0) >= 40 else 0.4
        population = ((numbers.min() or 0) <= YOUNGEST_AT_LEAST
                      and (numbers.max() or 0) >= OLDEST_AT_MOST
                      and spread >= MIN_QUARTILE_SPREAD and centenarians <= MAX_CENTENARIANS)
        return 1.0 if population else 0.4


DETECTOR = Age()
