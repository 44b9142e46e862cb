"""Free text that mentions health: comments, observations, clinical notes.

Most comments of a lab export say nothing medical ("RAS", "à jeun"); the column is
health data when a fair share of its texts do, so the threshold is a share of
texts with a health word (any of the languages in ``health_terms.json``).
"""

from __future__ import annotations

import polars as pl

from triage.detect.base import Detector
from triage.detect.detectors._text import SPECIALITY, VISIT_REASON, sentence_share, share
from triage.detect.vocab import health_pattern, matches

MIN_HEALTH_SHARE = 0.2
#: A column whose texts nearly all name a condition is a diagnosis label column.
LABEL_LIKE_SHARE = 0.7


class HealthNote(Detector):
    id = "health_note"
    category = "health_note"
    headers = "health_note"
    priority = 30
    min_value_share = MIN_HEALTH_SHARE
    header_min_share = 0.05

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(r"\p{L}{2}")

    def validate(self, values: pl.Series) -> pl.Series:
        return matches(values, health_pattern())

    def plausible(self, valid: pl.Series, sample_size: int) -> float:
        if share(valid, SPECIALITY) >= 0.5:
            return 0.0  # the doctor's speciality, not the patient's health
        # Notes are sentences, or say why the person came, or mention health only now
        # and then; short noun phrases that nearly all name a condition are labels.
        health_share = len(valid) / sample_size
        if (sentence_share(valid) >= 0.25 or share(valid, VISIT_REASON) >= 0.3
                or health_share < LABEL_LIKE_SHARE):
            return 1.0
        return 0.3

    def evidence(self, valid: pl.Series) -> dict[str, float | int | str]:
        return {"health_term_texts": len(valid)}


DETECTOR = HealthNote()
