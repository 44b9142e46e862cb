"""Laboratory results: a value with a lab unit (g/L, mmol/L, UI/L …) or a qualitative result."""

from __future__ import annotations

import polars as pl

from triage.detect.base import Detector

_UNITS = (r"(?:[mµμnpk]?(?:g|mol|UI|IU|U|UI|ui|u|eq|Eq)/(?:d?L|l|dl|ml|mL|24h|j)"
          r"|G/L|T/L|g/dL|%|mm/h|mmHg|fL|pg|sec|s|ratio|/mm3|/µL|/mm³)")
_NUMERIC = rf"^[<>≤≥]?\s?-?\d+(?:[.,]\d+)?\s?{_UNITS}$"
_QUALITATIVE = (r"(?i)^(?:positif|positive?|négatif|negatif|negative?|positiv|negativ|"
                r"détecté|detecte|non détecté|non detecte|detected|not detected|nachweisbar|"
                r"nicht nachweisbar|normal|anormal|abnormal|réactif|non réactif|reactive|"
                r"non reactive|indéterminé|equivocal)$")


class LabResult(Detector):
    id = "lab_result"
    category = "lab_result"
    headers = "lab_result"
    priority = 55
    min_value_share = 0.7

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(r"^[<>≤≥]?\s?-?\d") | col.str.contains(r"(?i)^[a-zé ]{3,20}$")

    def validate(self, values: pl.Series) -> pl.Series:
        # Bare numbers are also prices and counts: they count only as shape, for headers.
        return values.str.contains(_NUMERIC) | values.str.contains(_QUALITATIVE)


DETECTOR = LabResult()
