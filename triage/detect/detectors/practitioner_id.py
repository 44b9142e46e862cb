"""A practitioner identifier named by its header, in a scheme without a check here."""

from __future__ import annotations

import polars as pl

from triage.detect.base import Detector


class PractitionerId(Detector):
    id = "practitioner_id"
    category = "practitioner_id"
    headers = "practitioner_id"
    values_decide = False
    priority = 10

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(r"^[A-Za-z0-9][A-Za-z0-9 .\-/]{2,24}$") & col.str.contains(r"\d")


DETECTOR = PractitionerId()
