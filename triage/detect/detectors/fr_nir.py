"""French NIR (numéro de sécurité sociale): 13 characters + key = 97 - (number mod 97).

Spec: INSEE, "Numéro d'inscription au répertoire"; Corsica's 2A/2B are replaced by
19/18 before the modulo (python-stdnum ``stdnum.fr.nir`` implements both).
"""

from __future__ import annotations

import polars as pl
from stdnum.fr import nir

from triage.detect.base import Detector, checksum_validator


class FrNir(Detector):
    id = "fr_nir"
    category = "national_id"
    subtype = "fr_nir"
    headers = "fr_nir"
    priority = 90
    costly = True

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        # sex digit, year, month, département (2A/2B), commune, order, key
        return col.str.replace_all(r"[\s.\-]", "").str.contains(
            r"^[1-478]\d{4}(?:\d{2}|2[ABab])\d{6}\d{2}$")

    def validate(self, values: pl.Series) -> pl.Series:
        return checksum_validator(values, nir.is_valid)


DETECTOR = FrNir()
