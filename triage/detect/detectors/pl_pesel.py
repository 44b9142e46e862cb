"""Polish PESEL: 11 digits, birth date (century in the month: +20 for 2000s, +80 for
the 1800s), serial, sex digit, check digit on weights 1-3-7-9 (``stdnum.pl.pesel``)."""

from __future__ import annotations

import polars as pl
from stdnum.pl import pesel

from triage.detect.detectors._birth_coded import BirthCodedId


class PlPesel(BirthCodedId):
    id = "pl_pesel"
    subtype = "pl_pesel"
    headers = "pl_pesel"
    scheme = pesel

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(r"^\d{11}$")


DETECTOR = PlPesel()
