"""Spanish DNI (8 digits + control letter) and NIE (X/Y/Z + 7 digits + letter).

python-stdnum ``stdnum.es.dni`` and ``stdnum.es.nie``: letter = number mod 23.
"""

from __future__ import annotations

import polars as pl
from stdnum.es import dni, nie

from triage.detect.base import Detector, checksum_validator


def dni_or_nie_valid(value: str) -> bool:
    return dni.is_valid(value) or nie.is_valid(value)


class EsDni(Detector):
    id = "es_dni"
    category = "national_id"
    subtype = "es_dni"
    headers = "es_dni"
    priority = 90
    costly = True

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(r"^(?:\d{8}|[XYZxyz]-?\d{7})-?[A-Za-z]$")

    def validate(self, values: pl.Series) -> pl.Series:
        return checksum_validator(values, dni_or_nie_valid)


DETECTOR = EsDni()
