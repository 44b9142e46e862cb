"""French ADELI number: 9 digits (département, profession, order, key), Luhn key.

ADELI numbers share their shape with FINESS and SIREN; values alone cannot tell
them apart, so ADELI needs its header.
"""

from __future__ import annotations

import polars as pl

from triage.detect.base import Detector, checksum_validator
from triage.detect.detectors._checks import luhn_valid


class FrAdeli(Detector):
    id = "fr_adeli"
    category = "practitioner_id"
    subtype = "fr_adeli"
    headers = "fr_adeli"
    values_decide = False
    priority = 90
    costly = True

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(r"^(?:\d{2}|2[AB])\d{7}$")

    def validate(self, values: pl.Series) -> pl.Series:
        return checksum_validator(values, luhn_valid)


DETECTOR = FrAdeli()
