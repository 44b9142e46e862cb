"""Family names: single words (maybe particles, hyphens) in the family-name lexicon."""

from __future__ import annotations

import polars as pl

from triage.detect.base import LEXICON_HEADER_MIN_SHARE, Detector
from triage.detect.detectors._names import NAME_TOKEN, in_lexicon


class LastName(Detector):
    id = "last_name"
    category = "last_name"
    headers = "last_name"
    priority = 34
    min_value_share = 0.6
    header_min_share = LEXICON_HEADER_MIN_SHARE

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(rf"^{NAME_TOKEN}(?:[\s\-]{NAME_TOKEN})?$")

    def validate(self, values: pl.Series) -> pl.Series:
        return in_lexicon(values, "last_names")


DETECTOR = LastName()
