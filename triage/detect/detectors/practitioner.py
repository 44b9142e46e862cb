"""The treating doctor's name: "Dr Martin", "Docteur J. Dupont", or a name under its header."""

from __future__ import annotations

import polars as pl

from triage.detect.base import Detector
from triage.detect.detectors._names import NAME_TOKEN

_DOCTOR = r"(?i)^(?:dr|docteur|doctor|doc|pr|prof|professeur|professor|dott|dott\.ssa|drs)\.?\s+"


class Practitioner(Detector):
    id = "practitioner"
    category = "practitioner"
    headers = "practitioner"
    priority = 40
    min_value_share = 0.6

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(rf"^(?:\S+\.?\s+)?{NAME_TOKEN}(?:,?\s+{NAME_TOKEN}){{0,3}}$")

    def plausible(self, valid: pl.Series, sample_size: int) -> float:
        # With a title the values say "doctor"; without one only the header can.
        titled = float(valid.str.contains(_DOCTOR).mean() or 0.0)
        return 1.0 if titled >= 0.6 else 0.5


DETECTOR = Practitioner()
