"""IBAN: ISO 13616, country length and mod-97 check (``stdnum.iban``)."""

from __future__ import annotations

import polars as pl
from stdnum import iban

from triage.detect.base import Detector, checksum_validator


class Iban(Detector):
    id = "iban"
    category = "payment"
    subtype = "iban"
    headers = "iban"
    priority = 95
    costly = True

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(r"^[A-Za-z]{2}\d{2}[A-Za-z0-9 ]{10,36}$")

    def validate(self, values: pl.Series) -> pl.Series:
        return checksum_validator(values, iban.is_valid)


DETECTOR = Iban()
