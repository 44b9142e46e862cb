"""US National Provider Identifier: 10 digits starting with 1 or 2; Luhn over "80840" + NPI.

Spec: CMS, "Requirements for the NPI check digit" (ISO 7812 with card-issuer prefix 80840).
"""

from __future__ import annotations

import polars as pl

from triage.detect.base import Detector, checksum_validator
from triage.detect.detectors._checks import luhn_valid


def npi_valid(value: str) -> bool:
    return luhn_valid("80840" + value)


class UsNpi(Detector):
    id = "us_npi"
    category = "practitioner_id"
    subtype = "us_npi"
    headers = "us_npi"
    priority = 85
    costly = True
    min_value_share = 0.8

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(r"^[12]\d{9}$")

    def validate(self, values: pl.Series) -> pl.Series:
        return checksum_validator(values, npi_valid)


DETECTOR = UsNpi()
