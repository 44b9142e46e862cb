"""Medical procedures and lab tests ordered: CCAM codes, procedure or analysis labels,
and the short analysis codes of lab software (GLY, HBA1C, TSH …).
"""

from __future__ import annotations

from functools import cache

import polars as pl

from triage.detect.base import Detector
from triage.detect.vocab import fold, matches, value_terms, words_pattern

_CCAM = r"^[A-Z]{4}\d{3}$"


@cache
def procedure_pattern() -> str:
    return words_pattern(value_terms("procedure"))


class MedicalProcedure(Detector):
    id = "medical_procedure"
    category = "medical_procedure"
    headers = "medical_procedure"
    priority = 50
    min_value_share = 0.6
    # Nomenclature codes (NABM 0552, CPT 80053) are bare digits: only a header types them.
    header_min_share = 0.0

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return (col.str.contains(r"\p{L}") & (col.str.count_matches(r"\S+") <= 10)
                | col.str.contains(r"^\d{4,5}$"))

    def validate(self, values: pl.Series) -> pl.Series:
        codes = pl.DataFrame({"v": values}).select_seq(
            fold(pl.col("v")).is_in(value_terms("analysis_codes")).alias("c"))["c"]
        return values.str.contains(_CCAM) | codes | matches(values, procedure_pattern())

    def plausible(self, valid: pl.Series, sample_size: int) -> float:
        # Procedures come from a nomenclature: they repeat over patients.
        return 1.0 if valid.n_unique() <= 0.5 * len(valid) or len(valid) < 20 else 0.6


DETECTOR = MedicalProcedure()
