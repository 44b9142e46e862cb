"""French FINESS establishment number: 9 characters (département incl. 2A/2B), Luhn key.

Spec: DREES, "FINESS: structure du numéro" (key computed like a Luhn digit on the
first eight characters, Corsica's 2A/2B read as 20).
"""

from __future__ import annotations

import polars as pl

from triage.detect.base import Detector, checksum_validator
from triage.detect.detectors._checks import luhn_valid


def finess_valid(value: str) -> bool:
    value = value.upper().replace("2A", "20", 1).replace("2B", "20", 1)
    return value.isdigit() and luhn_valid(value)


class FrFiness(Detector):
    id = "fr_finess"
    category = "organisation_id"
    subtype = "fr_finess"
    headers = "fr_finess"
    priority = 75
    costly = True
    min_value_share = 0.8

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        # département 01-95, 2A/2B or overseas 97x, then a category digit.
        return col.str.contains(r"^(?:0[1-9]|[1-8]\d|9[0-5]|2[ABab]|97)\d{7}$")

    def validate(self, values: pl.Series) -> pl.Series:
        return checksum_validator(values, finess_valid)

    def plausible(self, valid: pl.Series, sample_size: int) -> float:
        # Establishments are few and repeat over patients; a column of unique 9-digit
        # Luhn numbers is more likely another register (SIREN, ADELI).
        return 1.0 if valid.n_unique() <= max(50, 0.5 * len(valid)) else 0.85


DETECTOR = FrFiness()
