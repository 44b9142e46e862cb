"""UK NHS number: 10 digits, mod 11 check digit (python-stdnum ``stdnum.gb.nhs``)."""

from __future__ import annotations

import polars as pl
from stdnum.gb import nhs

from triage.detect.base import Detector, checksum_validator


class UkNhs(Detector):
    id = "uk_nhs"
    category = "national_id"
    subtype = "uk_nhs"
    headers = "uk_nhs"
    priority = 80
    costly = True

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(r"^\d{3}[ -]?\d{3}[ -]?\d{4}$")

    def validate(self, values: pl.Series) -> pl.Series:
        return checksum_validator(values, nhs.is_valid)

    def plausible(self, valid: pl.Series, sample_size: int) -> float:
        # Landline numbers start with 0 in national form; NHS numbers practically never.
        return 1.0 - float(valid.str.starts_with("0").mean() or 0.0)


DETECTOR = UkNhs()
