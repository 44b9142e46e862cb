"""Turkish T.C. Kimlik No: 11 digits, no leading 0, two check digits
(``stdnum.tr.tckimlik``). It embeds no birth date, but two check digits let only one
random number in a hundred through."""

from __future__ import annotations

import polars as pl
from stdnum.tr import tckimlik

from triage.detect.base import Detector, checksum_validator


class TrTckimlik(Detector):
    id = "tr_tckimlik"
    category = "national_id"
    subtype = "tr_tckimlik"
    headers = "tr_tckimlik"
    priority = 80
    costly = True
    min_value_share = 0.9

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(r"^[1-9]\d{10}$")

    def validate(self, values: pl.Series) -> pl.Series:
        return checksum_validator(values, tckimlik.is_valid)


DETECTOR = TrTckimlik()
