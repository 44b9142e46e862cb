"""US Social Security Number: area/group/serial rules (python-stdnum ``stdnum.us.ssn``)."""

from __future__ import annotations

import polars as pl
from stdnum.us import ssn

from triage.detect.base import Detector, checksum_validator

#: Nine bare digits are also SIREN, FINESS or order numbers; only dashes are SSN-typical.
UNDASHED_PLAUSIBILITY = 0.85


class UsSsn(Detector):
    id = "us_ssn"
    category = "national_id"
    subtype = "us_ssn"
    headers = "us_ssn"
    priority = 70
    costly = True

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(r"^\d{3}[- ]?\d{2}[- ]?\d{4}$")

    def validate(self, values: pl.Series) -> pl.Series:
        return checksum_validator(values, ssn.is_valid)

    def plausible(self, valid: pl.Series, sample_size: int) -> float:
        dashed = float(valid.str.contains(r"^\d{3}-\d{2}-\d{4}$").mean() or 0.0)
        return 1.0 if dashed >= 0.5 else UNDASHED_PLAUSIBILITY


DETECTOR = UsSsn()
