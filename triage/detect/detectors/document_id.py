"""Identity-document numbers (passport, driving licence, identity card).

Values alone are decided only for the French passport shape (2 digits, 2 letters,
5 digits), which nothing else in an export takes; other schemes need the header.
"""

from __future__ import annotations

import polars as pl

from triage.detect.base import Detector

#: Below the value-only threshold, above the header one: a header must confirm.
UNKNOWN_SCHEME_PLAUSIBILITY = 0.5


class DocumentId(Detector):
    id = "document_id"
    category = "document_id"
    headers = "document_id"
    priority = 40

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(r"^[A-Za-z0-9][A-Za-z0-9 \-]{5,19}$") & col.str.contains(r"\d")

    def plausible(self, valid: pl.Series, sample_size: int) -> float:
        french_passport = float(valid.str.contains(r"^\d{2}[A-Za-z]{2}\d{5}$").mean() or 0.0)
        return 1.0 if french_passport >= 0.9 else UNKNOWN_SCHEME_PLAUSIBILITY


DETECTOR = DocumentId()
