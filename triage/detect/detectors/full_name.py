"""Full names: two to four words holding a given name and a family name."""

from __future__ import annotations

import polars as pl

from triage.detect.base import Detector
from triage.detect.detectors._names import NAME_TOKEN, TITLES, full_name_hits


class FullName(Detector):
    id = "full_name"
    category = "full_name"
    headers = "full_name"
    priority = 36
    min_value_share = 0.6

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(rf"^{NAME_TOKEN}(?:,?\s+{NAME_TOKEN}){{1,3}}$")

    def validate(self, values: pl.Series) -> pl.Series:
        return full_name_hits(values)

    def plausible(self, valid: pl.Series, sample_size: int) -> float:
        # Names written with a doctor's title are the practitioner's.
        return 1.0 - float(valid.str.contains(TITLES).mean() or 0.0)


DETECTOR = FullName()
