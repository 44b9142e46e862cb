"""Dutch burgerservicenummer: 9 digits passing the "11-test" (``stdnum.nl.bsn``)."""

from __future__ import annotations

import polars as pl
from stdnum.nl import bsn

from triage.detect.base import Detector, checksum_validator


class NlBsn(Detector):
    id = "nl_bsn"
    category = "national_id"
    subtype = "nl_bsn"
    headers = "nl_bsn"
    priority = 60
    costly = True
    # Random 9-digit numbers pass the 11-test one time in 11: a column must nearly all pass.
    min_value_share = 0.9

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(r"^\d{4}\.?\d{2}\.?\d{3}$")

    def validate(self, values: pl.Series) -> pl.Series:
        return checksum_validator(values, bsn.is_valid)


DETECTOR = NlBsn()
