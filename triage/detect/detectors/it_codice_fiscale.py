"""Italian codice fiscale: 16 characters with a control letter (``stdnum.it.codicefiscale``)."""

from __future__ import annotations

import polars as pl
from stdnum.it import codicefiscale

from triage.detect.base import Detector, checksum_validator


class ItCodiceFiscale(Detector):
    id = "it_codice_fiscale"
    category = "national_id"
    subtype = "it_codice_fiscale"
    headers = "it_codice_fiscale"
    priority = 90
    costly = True

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        # Digits may be replaced by letters (omocodia), hence the letter classes.
        return col.str.contains(
            r"^[A-Za-z]{6}[0-9LMNPQRSTUVlmnpqrstuv]{2}[A-Za-z][0-9LMNPQRSTUVlmnpqrstuv]{2}"
            r"[A-Za-z][0-9LMNPQRSTUVlmnpqrstuv]{3}[A-Za-z]$")

    def validate(self, values: pl.Series) -> pl.Series:
        return checksum_validator(values, codicefiscale.is_valid)


DETECTOR = ItCodiceFiscale()
