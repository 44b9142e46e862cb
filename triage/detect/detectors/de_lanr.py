"""German LANR (lebenslange Arztnummer): 6 digits + check digit + 2-digit speciality.

Spec: KBV, "Richtlinie zur Vergabe der Arzt-, Betriebsstätten- ... nummern" §2:
weights 4 and 9 alternating over the first six digits, check = (10 - sum mod 10) mod 10.
"""

from __future__ import annotations

import polars as pl

from triage.detect.base import Detector, checksum_validator


def lanr_valid(value: str) -> bool:
    if len(value) != 9 or not value.isdigit():
        return False
    total = sum(int(d) * (4 if i % 2 == 0 else 9) for i, d in enumerate(value[:6]))
    return (10 - total % 10) % 10 == int(value[6])


class DeLanr(Detector):
    id = "de_lanr"
    category = "practitioner_id"
    subtype = "de_lanr"
    headers = "practitioner_id"
    priority = 70
    costly = True
    # Random 9-digit numbers pass one time in ten.
    min_value_share = 0.95

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(r"^\d{9}$")

    def validate(self, values: pl.Series) -> pl.Series:
        return checksum_validator(values, lanr_valid)


DETECTOR = DeLanr()
