"""German Krankenversichertennummer (KVNR, unveränderbarer Teil): letter + 8 digits + check.

The statutory health-insurance number: a health-insurance id, lifelong.

Spec: GKV-Spitzenverband, "Richtlinien ... Krankenversichertennummer" §3: the letter
becomes its two-digit alphabet position (A=01 … Z=26), the ten digits are weighted
1, 2, 1, 2 …, the digits of each product are summed, and the total mod 10 is the
check digit. python-stdnum has no KVNR module.
"""

from __future__ import annotations

import polars as pl

from triage.detect.base import Detector, checksum_validator


def kvnr_valid(value: str) -> bool:
    value = value.strip().upper()
    if len(value) != 10 or not value[0].isalpha() or not value[1:].isdigit():
        return False
    digits = f"{ord(value[0]) - ord('A') + 1:02d}" + value[1:9]
    total = 0
    for i, ch in enumerate(digits):
        product = int(ch) * (1 if i % 2 == 0 else 2)
        total += product // 10 + product % 10
    return total % 10 == int(value[9])


class DeKvnr(Detector):
    id = "de_kvnr"
    category = "health_insurance_id"
    subtype = "de_kvnr"
    headers = "de_kvnr"
    priority = 90
    costly = True

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(r"^[A-Za-z]\d{9}$")

    def validate(self, values: pl.Series) -> pl.Series:
        return checksum_validator(values, kvnr_valid)


DETECTOR = DeKvnr()
