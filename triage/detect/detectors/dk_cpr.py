"""Danish CPR number: DDMMYY-SSSS, the serial's first digit giving the century
(``stdnum.dk.cpr``). Its mod-11 check was given up in 2007: only the date and its
not being in the future are checked, hence the column test of ``_birth_coded``."""

from __future__ import annotations

import polars as pl
from stdnum.dk import cpr

from triage.detect.detectors._birth_coded import BirthCodedId


class DkCpr(BirthCodedId):
    id = "dk_cpr"
    subtype = "dk_cpr"
    headers = "dk_cpr"
    scheme = cpr

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(r"^\d{6}[- ]?\d{4}$")


DETECTOR = DkCpr()
