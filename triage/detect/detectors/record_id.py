"""Internal record keys (patient number, file number, order id), named by their header.

Keys have no shape of their own: a product SKU looks the same. Only a header
makes a column a record id.
"""

from __future__ import annotations

import polars as pl

from triage.detect.base import Detector


class RecordId(Detector):
    id = "record_id"
    category = "record_id"
    headers = "record_id"
    values_decide = False
    priority = 15

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(r"^[A-Za-z0-9][A-Za-z0-9_\-/.:#]{0,63}$") & col.str.contains(r"\d")


DETECTOR = RecordId()
