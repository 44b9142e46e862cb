"""Diagnosis labels: short texts naming a condition ("Diabète de type 2", "HIV")."""

from __future__ import annotations

import polars as pl

from triage.detect.base import Detector
from triage.detect.vocab import health_pattern, matches

#: Longer texts are notes, not labels.
MAX_LABEL_WORDS = 6


class Diagnosis(Detector):
    id = "diagnosis"
    category = "diagnosis"
    headers = "diagnosis"
    priority = 35
    min_value_share = 0.6

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(r"\p{L}{2}") & (col.str.count_matches(r"\S+") <= MAX_LABEL_WORDS)

    def validate(self, values: pl.Series) -> pl.Series:
        return matches(values, health_pattern())

    def plausible(self, valid: pl.Series, sample_size: int) -> float:
        # Labels come from a coding list: they repeat.
        return 1.0 if valid.n_unique() <= 0.5 * len(valid) or len(valid) < 20 else 0.6


DETECTOR = Diagnosis()
