"""A health-insurance member number (mutuelle, insurer, EHIC), named by its header."""

from __future__ import annotations

import polars as pl

from triage.detect.base import Detector


class HealthInsuranceId(Detector):
    id = "health_insurance_id"
    category = "health_insurance_id"
    headers = "health_insurance_id"
    values_decide = False
    priority = 20

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(r"^[A-Za-z0-9][A-Za-z0-9 .\-/]{3,29}$") & col.str.contains(r"\d")


DETECTOR = HealthInsuranceId()
