"""Czech (and Slovak) rodné číslo: YYMMDD/SSSC, women's month +50 (+20 when the
serials ran out), 10 digits divisible by 11 since 1954, 9 digits without a check
before (``stdnum.cz.rc``)."""

from __future__ import annotations

import polars as pl
from stdnum.cz import rc

from triage.detect.detectors._birth_coded import BirthCodedId


class CzRc(BirthCodedId):
    id = "cz_rc"
    subtype = "cz_rc"
    headers = "cz_rc"
    scheme = rc

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        # The 9-digit form has no check digit: only its slash sets it apart from any
        # 9-digit number.
        return col.str.contains(r"^\d{6}(?:/?\d{4}|/\d{3})$")


DETECTOR = CzRc()
