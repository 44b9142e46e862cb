"""Racial or ethnic origin: a closed vocabulary (census and hospital categories)."""

from __future__ import annotations

import polars as pl

from triage.detect.base import Detector
from triage.detect.vocab import fold, value_terms


class EthnicOrigin(Detector):
    id = "ethnic_origin"
    category = "ethnic_origin"
    headers = "ethnic_origin"
    priority = 60

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        short = col.str.len_bytes() <= 48
        folded = fold(col).str.replace_all(r"[^a-z ]+", " ").str.strip_chars()
        return short & folded.is_in(value_terms("ethnic_origin"))

    def plausible(self, valid: pl.Series, sample_size: int) -> float:
        distinct = valid.n_unique()
        return 1.0 if 2 <= distinct <= 30 or sample_size < 20 else 0.3


DETECTOR = EthnicOrigin()
