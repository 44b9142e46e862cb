"""SNOMED CT concept identifiers (diagnoses, findings): 6-18 digits, Verhoeff check.

Spec: SNOMED International, "SNOMED CT Technical Implementation Guide", 6.7: the
SCTID ends with a partition identifier (two digits; ``00`` for a core concept,
``10`` for an extension concept) and a Verhoeff check digit (``stdnum.verhoeff``).
A random number passes both one time in 500.
"""

from __future__ import annotations

import polars as pl
from stdnum import verhoeff

from triage.detect.base import Detector, checksum_validator


class Snomed(Detector):
    id = "snomed"
    category = "diagnosis"
    subtype = "snomed_ct"
    headers = "icd10"
    priority = 74
    costly = True

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        # partition 00 (core concept) or 10 (extension concept), then the check digit
        return col.str.contains(r"^[1-9]\d{3,15}[01]0\d$")

    def validate(self, values: pl.Series) -> pl.Series:
        return checksum_validator(values, verhoeff.is_valid)

    def plausible(self, valid: pl.Series, sample_size: int) -> float:
        # Concepts recur over patients; a column of unique numbers is more likely keys.
        return 1.0 if valid.n_unique() <= 0.5 * len(valid) or len(valid) < 20 else 0.5


DETECTOR = Snomed()
