"""French RPPS practitioner number: 11 digits starting with 10, Luhn check digit.

Spec: ANS, "Identification des professionnels de santé" (RPPS = "1" + 10 digits,
the last a Luhn key computed on the first ten).
"""

from __future__ import annotations

import polars as pl

from triage.detect.base import Detector, checksum_validator
from triage.detect.detectors._checks import luhn_valid


class FrRpps(Detector):
    id = "fr_rpps"
    category = "practitioner_id"
    subtype = "fr_rpps"
    headers = "fr_rpps"
    priority = 90
    costly = True
    # Random 11-digit numbers starting 10 pass Luhn one time in ten; messy exports
    # damage a few values: 0.8 keeps both apart.
    min_value_share = 0.8

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(r"^10\d{9}$")

    def validate(self, values: pl.Series) -> pl.Series:
        return checksum_validator(values, luhn_valid)


DETECTOR = FrRpps()
