"""Swedish personnummer: (YY)YYMMDD-NNNC, '+' instead of '-' from the year the holder
turns 100, Luhn check over the last 10 digits (``stdnum.se.personnummer``)."""

from __future__ import annotations

import polars as pl
from stdnum.se import personnummer

from triage.detect.detectors._birth_coded import BirthCodedId


class SePersonnummer(BirthCodedId):
    id = "se_personnummer"
    subtype = "se_personnummer"
    headers = "se_personnummer"
    scheme = personnummer

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(r"^(?:18|19|20)?\d{6}[-+ ]?\d{4}$")


DETECTOR = SePersonnummer()
