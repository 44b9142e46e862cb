"""Medical procedures: CCAM codes (4 letters + 3 digits) or procedure labels."""

from __future__ import annotations

from functools import cache

import polars as pl

from triage.detect.base import Detector
from triage.detect.vocab import matches, value_terms, words_pattern

_CCAM = r"^[A-Z]{4}\d{3}$"


@cache
def procedure_pattern() -> str:
    return words_pattern(value_terms("procedure"))


class MedicalProcedure(Detector):
    id = "medical_procedure"
    category = "medical_procedure"
    headers = "medical_procedure"
    priority = 50
    min_value_share = 0.6

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(r"\p{L}{2}") & (col.str.count_matches(r"\S+") <= 10)

    def validate(self, values: pl.Series) -> pl.Series:
        return values.str.contains(_CCAM) | matches(values, procedure_pattern())


DETECTOR = MedicalProcedure()
