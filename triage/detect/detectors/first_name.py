"""Given names: single (maybe hyphenated) words found in the given-name lexicon."""

from __future__ import annotations

import polars as pl

from triage.detect.base import LEXICON_HEADER_MIN_SHARE, Detector
from triage.detect.detectors._names import NAME_TOKEN, in_lexicon


class FirstName(Detector):
    id = "first_name"
    category = "first_name"
    headers = "first_name"
    priority = 35
    min_value_share = 0.6
    header_min_share = LEXICON_HEADER_MIN_SHARE

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(rf"^{NAME_TOKEN}$")

    def validate(self, values: pl.Series) -> pl.Series:
        return in_lexicon(values, "first_names")


DETECTOR = FirstName()
