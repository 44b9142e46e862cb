"""Diagnosis labels: short texts naming a condition ("Diabète de type 2", "HIV")."""

from __future__ import annotations

import polars as pl

from triage.detect.base import Detector
from triage.detect.detectors._text import SPECIALITY, VISIT_REASON, sentence_share, share
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
        if share(valid, SPECIALITY) >= 0.5:
            return 0.0  # "Cardiologue" names the doctor's field, not the patient's illness
        if share(valid, VISIT_REASON) >= 0.3 or sentence_share(valid) >= 0.25:
            return 0.4  # reasons for a visit and sentences are notes
        # Labels come from a coding list: they repeat.
        return 1.0 if valid.n_unique() <= 0.5 * len(valid) or len(valid) < 20 else 0.6


DETECTOR = Diagnosis()
