"""German Institutionskennzeichen (IK) of insurers, hospitals, practices: 9 digits.

Spec: GKV-Spitzenverband, "Gemeinsames Rundschreiben Institutionskennzeichen", Anlage 1:
digits 1-2 classify the institution, 3-8 are the serial, 9 is a check digit over 3-8
with weights 2, 1, 2, 1, 2, 1, the digits of each product summed, mod 10.
"""

from __future__ import annotations

import polars as pl

from triage.detect.base import Detector, checksum_validator


def ik_valid(value: str) -> bool:
    if len(value) != 9 or not value.isdigit():
        return False
    total = 0
    for i, ch in enumerate(value[2:8]):
        product = int(ch) * (2 if i % 2 == 0 else 1)
        total += product // 10 + product % 10
    return total % 10 == int(value[8])


class DeIk(Detector):
    id = "de_ik"
    category = "organisation_id"
    subtype = "de_ik"
    headers = "de_ik"
    priority = 72
    costly = True
    # A random 9-digit number passes one time in ten; insurers' IKs start with 10.
    min_value_share = 0.95

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(r"^(?:10|26|51|52|59|6\d|7\d|8\d|9\d|30|31|33|36|45|46|47|48|49|50|25|27|28)\d{7}$")

    def validate(self, values: pl.Series) -> pl.Series:
        return checksum_validator(values, ik_valid)

    def plausible(self, valid: pl.Series, sample_size: int) -> float:
        # Institutions are few and repeat over people.
        return 1.0 if valid.n_unique() <= max(30, 0.3 * len(valid)) else 0.6


DETECTOR = DeIk()
