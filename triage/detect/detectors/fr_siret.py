"""French SIRET (14 digits) and SIREN (9 digits): Luhn (``stdnum.fr.siret``/``siren``)."""

from __future__ import annotations

import polars as pl
from stdnum.fr import siren, siret

from triage.detect.base import Detector, checksum_validator


def siret_or_siren_valid(value: str) -> bool:
    return siret.is_valid(value) if len(value.replace(" ", "")) > 9 else siren.is_valid(value)


class FrSiret(Detector):
    id = "fr_siret"
    category = "organisation_id"
    subtype = "fr_siret"
    headers = "fr_siret"
    priority = 70
    costly = True
    min_value_share = 0.9

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(r"^\d{3} ?\d{3} ?\d{3}(?: ?\d{5})?$")

    def validate(self, values: pl.Series) -> pl.Series:
        return checksum_validator(values, siret_or_siren_valid)

    def plausible(self, valid: pl.Series, sample_size: int) -> float:
        # Nine digits alone are equally FINESS, ADELI or SIREN: only 14 digits decide.
        return 1.0 if float(valid.str.len_chars().mean() or 0) > 12 else 0.8


DETECTOR = FrSiret()
