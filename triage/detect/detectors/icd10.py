"""ICD-10 / CIM-10 diagnosis codes (WHO ICD-10: letter, two digits, optional subcode).

The letter U is reserved for special purposes; dagger/asterisk marks are allowed.
A label may follow the code ("E11 Diabète de type 2").
"""

from __future__ import annotations

import polars as pl

from triage.detect.base import Detector

_ICD10 = r"^[A-TV-Za-tv-z]\d{2}(?:\.?\d{1,2})?[+*†]?(?:\s*[-:]?\s+\p{L}.*)?$"


class Icd10(Detector):
    id = "icd10"
    category = "diagnosis"
    subtype = "icd10"
    headers = "icd10"
    priority = 75

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(_ICD10)

    def plausible(self, valid: pl.Series, sample_size: int) -> float:
        # Diagnoses of many patients span chapters; a product code list uses one letter.
        chapters = valid.str.slice(0, 1).str.to_uppercase().n_unique()
        return 1.0 if chapters >= 2 or sample_size < 20 else 0.5


DETECTOR = Icd10()
