"""ABO blood group and rhesus: O+, AB-, "A Rh+", "B positif", "0 neg" …"""

from __future__ import annotations

import polars as pl

from triage.detect.base import Detector

_RHESUS = r"(?:\s?(?:rh|rhesus|rhésus)?\s?(?:[+\-]|pos|neg|positi[fv]e?|n[eé]gati[fv]e?|\+ve|-ve))"
_BLOOD = rf"(?i)^(?:groupe\s)?(?:AB|A|B|O|0){_RHESUS}?$"


class BloodType(Detector):
    id = "blood_type"
    category = "blood_type"
    headers = "blood_type"
    priority = 85

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(_BLOOD)

    def plausible(self, valid: pl.Series, sample_size: int) -> float:
        distinct = valid.n_unique()
        with_rhesus = float(valid.str.contains(rf"(?i){_RHESUS}$").mean() or 0.0)
        if distinct > 8 or (distinct < 2 and sample_size >= 50):
            return 0.0
        # Bare letters A/B/O are also grades or classes: without rhesus, a header must say so.
        return 1.0 if with_rhesus >= 0.5 else 0.5


DETECTOR = BloodType()
