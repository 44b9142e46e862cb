"""Medical procedures and lab tests ordered: CCAM codes, procedure or analysis labels,
and the short analysis codes of lab software (GLY, HBA1C, TSH …).

Nomenclature codes that are bare digits (NABM lab acts ``0552``, ``1104``; CPT
``80053``) are numbers like any other one by one. A header types them; without one,
their table does (:meth:`MedicalProcedure.in_context`): a column of fixed-width
digit codes that the procedure column beside it determines (each analysis has its
one act code) is another coding of the same act. Amounts a procedure also
determines (a tariff: ``2500``, ``1200``) are told apart by their round values.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import polars as pl

from triage.detect.base import Detector
from triage.detect.context import TableContext
from triage.detect.vocab import fold, matches, value_terms, words_pattern

_CCAM = r"^[A-Z]{4}\d{3}$"
#: Share of a column's values that must be digit codes of one width for the context rule.
CODE_SHARE = 0.95
#: Most share of distinct codes ending in 0 (tariffs and amounts are round, codes not).
ROUND_SHARE = 0.5


@cache
def procedure_pattern() -> str:
    return words_pattern(value_terms("procedure"))


class MedicalProcedure(Detector):
    id = "medical_procedure"
    category = "medical_procedure"
    headers = "medical_procedure"
    priority = 50
    min_value_share = 0.6
    # Nomenclature codes (NABM 0552, CPT 80053) are bare digits: a header, or the
    # procedure column they code (in_context), types them.
    header_min_share = 0.0
    context_takes = frozenset({None})
    context_min_share = 0.9

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

    def in_context(self, column: str, table: TableContext) -> dict[str, Any] | None:
        procedures = table.columns_of(("medical_procedure",), but=column)
        if not procedures:
            return None
        # Codes of one width (a nomenclature's), measured for all columns at once.
        n, four = table.shape_share(r"^\d{4}$", column)
        share = max(four, table.shape_share(r"^\d{5}$", column)[1])
        if n < 20 or share < CODE_SHARE:
            return None
        values = table.values(column).drop_nulls()
        codes = values.unique()
        # A nomenclature: a few codes, repeated over patients; not amounts (round).
        round_share = float(codes.str.ends_with("0").mean() or 0.0)
        if not 3 <= len(codes) <= 0.5 * len(values) or round_share > ROUND_SHARE:
            return None
        coded = table.supported_dependency(procedures, [column], self.context_min_share)
        if not coded.holds or coded.share < self.context_min_share:
            return None
        return {"sample_size": len(values), "shape_share": round(share, 4),
                "valid_share": round(share, 4),
                "context": "codes_the_procedure", "context_share": coded.share,
                "context_groups": coded.groups}


DETECTOR = MedicalProcedure()
