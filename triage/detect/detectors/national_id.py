"""A national identifier named by its header whose scheme has no check here."""

from __future__ import annotations

import polars as pl

from triage.detect.base import Detector


class NationalId(Detector):
    id = "national_id"
    category = "national_id"
    headers = "national_id"
    values_decide = False
    priority = 10

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(r"^[A-Za-z0-9][A-Za-z0-9 .\-/]{4,24}$") & col.str.contains(r"\d")


DETECTOR = NationalId()
