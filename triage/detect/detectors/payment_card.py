"""Payment card numbers (PAN): ISO/IEC 7812 issuer ranges and lengths, Luhn check."""

from __future__ import annotations

import re

import polars as pl

from triage.detect.base import Detector
from triage.detect.detectors._checks import luhn_valid

# (issuer prefix pattern, allowed lengths): Visa, Mastercard, Amex, Discover, JCB, Diners, Maestro, others
_BRANDS = [
    (re.compile(r"^4"), (13, 16, 19)),
    (re.compile(r"^(?:5[1-5]|222[1-9]|22[3-9]\d|2[3-6]\d\d|27[01]\d|2720)"), (16,)),
    (re.compile(r"^3[47]"), (15,)),
    (re.compile(r"^(?:6011|65|64[4-9])"), (16, 19)),
    (re.compile(r"^35(?:2[89]|[3-8]\d)"), (16, 19)),
    (re.compile(r"^3(?:0[0-5]|[68])"), (14, 16, 19)),
    (re.compile(r"^(?:5018|5020|5038|6304|6759|676[1-3])"), tuple(range(12, 20))),
    (re.compile(r"^(?:50|5[6-9]|6\d)"), (16, 19)),
]


def card_valid(value: str) -> bool:
    digits = re.sub(r"[\s\-]", "", value)
    return any(prefix.match(digits) and len(digits) in lengths
               for prefix, lengths in _BRANDS) and luhn_valid(digits)


class PaymentCard(Detector):
    id = "payment_card"
    category = "payment"
    subtype = "payment_card"
    headers = "payment_card"
    priority = 85
    costly = True
    # One random number in ten passes Luhn: a card column must nearly all pass.
    min_value_share = 0.9

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(r"^[2-6]\d{3}(?:[ \-]?\d{2,4}){2,4}$") & col.str.replace_all(
            r"[ \-]", "").str.len_chars().is_between(12, 19)

    def validate(self, values: pl.Series) -> pl.Series:
        return pl.Series(values.name, [card_valid(v) for v in values.to_list()],
                         dtype=pl.Boolean)


DETECTOR = PaymentCard()
