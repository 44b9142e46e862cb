"""Romanian CNP: sex/century digit, YYMMDD, county code, serial, check digit on
weights 279146358279 mod 11 (``stdnum.ro.cnp``)."""

from __future__ import annotations

import polars as pl
from stdnum.ro import cnp

from triage.detect.detectors._birth_coded import BirthCodedId


class RoCnp(BirthCodedId):
    id = "ro_cnp"
    subtype = "ro_cnp"
    headers = "ro_cnp"
    scheme = cnp

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(r"^[1-9]\d{12}$")


DETECTOR = RoCnp()
