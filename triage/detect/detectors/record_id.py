"""Internal record keys (patient number, file number, order id, invoice number).

Keys have little shape of their own. Under a key header any identifier-like value
will do. Without a header, only the common key shape counts: an optional short
upper-case prefix and 6 to 12 digits (``IPP 27427004``, ``RDV539867317``,
``INV-0814715``), taking many distinct values; a product SKU with two letter
groups, a 13-digit EAN or a 15-digit batch number does not have it. Insurance
member numbers share that shape: the table around them tells them apart
(``health_insurance_id``). A UUID is a key too: under a key header (``id``,
``order_uuid``) it is one; without a header, the tracking ids of ``online_id``
outweigh it.
"""

from __future__ import annotations

import polars as pl

from triage.detect.base import Detector
from triage.detect.detectors.online_id import UUID

#: The common key shape (also what a member number looks like: health_insurance_id).
KEY = r"^[A-Z]{0,4}[-_]?\d{6,12}$"


class RecordId(Detector):
    id = "record_id"
    category = "record_id"
    headers = "record_id"
    priority = 15
    min_value_share = 0.9
    header_min_share = 0.0
    value_weight = 0.75

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(r"^[A-Za-z0-9][A-Za-z0-9_\-/.:#]{0,63}$") & col.str.contains(r"\d")

    def validate(self, values: pl.Series) -> pl.Series:
        return values.str.contains(KEY) | values.str.contains(UUID)

    def plausible(self, valid: pl.Series, sample_size: int) -> float:
        # Keys identify records or people: many distinct values.
        return 1.0 if valid.n_unique() >= 0.3 * len(valid) else 0.3


DETECTOR = RecordId()
