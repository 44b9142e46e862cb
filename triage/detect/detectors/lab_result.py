"""Laboratory results: values with lab units, qualitative results, abnormal flags, or
bare numbers whose precision varies from row to row.

A result column mixes analyses (glucose 0.95, platelets 243, HbA1c 5.4), so its
numbers carry 0, 1 or 2 decimals in the same column; a price, weight or
temperature column keeps one precision. A price column written by a program that
drops trailing zeros (233.9 for 233.90: one price in ten, more with prices ending
.90 and .50) is still one precision.
Flags (N, H, L, B) count when the column holds "N" (normal) among a handful of letters.
"""

from __future__ import annotations

import polars as pl

from triage.detect.base import Detector

_UNITS = (r"(?:[mµμnpk]?(?:g|mol|UI|IU|U|ui|u|eq|Eq)/(?:d?L|l|dl|ml|mL|24h|j)"
          r"|G/L|T/L|g/dL|%|mm/h|mmHg|fL|pg|sec|s|ratio|/mm3|/µL|/mm³)")
_NUMBER = r"^[<>≤≥]?\s?-?\d+(?:[.,]\d+)?"
_WITH_UNIT = rf"{_NUMBER}\s?{_UNITS}$"
_QUALITATIVE = (r"(?i)^(?:positif|positive?|négatif|negatif|negative?|positiv|negativ|"
                r"détecté|detecte|non détecté|non detecte|detected|not detected|nachweisbar|"
                r"nicht nachweisbar|normal|anormal|abnormal|réactif|non réactif|reactive|"
                r"non reactive|indéterminé|equivocal)$")
_FLAG = r"^(?:N|H|L|B|HH|LL|A|AA|\+|-|\+\+|--)$"
#: Share of the second most common precision above which numbers are mixed results.
MIXED_PRECISION = 0.1


class LabResult(Detector):
    id = "lab_result"
    category = "lab_result"
    headers = "lab_result"
    priority = 55
    min_value_share = 0.7

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return (col.str.contains(r"^[<>≤≥]?\s?-?\d") | col.str.contains(r"(?i)^[a-zé ]{3,20}$")
                | col.str.contains(_FLAG))

    def validate(self, values: pl.Series) -> pl.Series:
        return (values.str.contains(rf"{_NUMBER}$") | values.str.contains(_WITH_UNIT)
                | values.str.contains(_QUALITATIVE) | values.str.contains(_FLAG))

    def plausible(self, valid: pl.Series, sample_size: int) -> float:
        # A lab unit says "result"; a bare "%" is as often a discount or a rate.
        lab_units = valid.str.contains(_WITH_UNIT) & ~valid.str.contains(r"%$")
        if float(lab_units.mean() or 0) >= 0.5 \
                or float(valid.str.contains(_QUALITATIVE).mean() or 0) >= 0.5:
            return 1.0
        flags = valid.filter(valid.str.contains(_FLAG))
        if len(flags) >= 0.5 * len(valid):
            return 1.0 if "N" in set(flags.unique().to_list()) and flags.n_unique() <= 6 else 0.3
        numbers = valid.filter(valid.str.contains(rf"{_NUMBER}%?$")).str.strip_suffix("%")
        if len(numbers) == 0:
            return 0.3
        decimals = numbers.str.extract(r"[.,](\d+)$", 1).str.len_chars().fill_null(0)
        counts = decimals.value_counts(sort=True)
        shares = dict(zip(counts["v"].to_list(), (counts["count"] / len(numbers)).to_list(),
                          strict=True))
        usual = counts["v"][0]
        # One decimal fewer than most is what dropping a trailing zero leaves, in any
        # share: it proves no mixing; more decimals, or fewer still, do.
        mixed = any(share >= MIXED_PRECISION for places, share in shares.items()
                    if places not in (usual, usual - 1))
        # Results vary from patient to patient; reference ranges repeat per analysis.
        varied = numbers.n_unique() >= 0.3 * len(numbers)
        return 1.0 if mixed and varied else 0.3


DETECTOR = LabResult()
