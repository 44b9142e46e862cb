"""Medication: a dose ("850 mg", "75 µg", "0,4 mg") or a known drug name (INN or brand)."""

from __future__ import annotations

from functools import cache

import polars as pl

from triage.detect.base import Detector
from triage.detect.vocab import matches, value_terms, words_pattern

_DOSE = r"(?i)\b\d+(?:[.,]\d+)?\s?(?:mg|µg|μg|mcg|g|ml|ui|iu|ie|mg/ml|%)(?:\s|$|/)"


@cache
def drug_pattern() -> str:
    return words_pattern(value_terms("medication"))


class Medication(Detector):
    id = "medication"
    category = "medication"
    headers = "medication"
    priority = 60
    min_value_share = 0.6

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(r"\p{L}{3}") & (col.str.count_matches(r"\S+") <= 12)

    def validate(self, values: pl.Series) -> pl.Series:
        return values.str.contains(_DOSE) | matches(values, drug_pattern())


DETECTOR = Medication()
