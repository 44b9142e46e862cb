"""Telephone numbers, validated with libphonenumber (``phonenumbers``).

International forms (+33…, 0033…) are validated as such; national forms are tried
against the regions of the supported languages, and must start with a trunk
prefix or fit a region without one (US), so bare product codes do not pass.
"""

from __future__ import annotations

import phonenumbers
import polars as pl

from triage.detect.base import Detector

#: Bare ten-digit values need a header to be phones.
BARE_DIGITS_PLAUSIBILITY = 0.6

#: Regions whose national formats are tried for numbers without a country code.
NATIONAL_REGIONS = ("FR", "DE", "GB", "ES", "IT", "NL", "PT", "BE", "CH", "US")


def phone_valid(value: str) -> bool:
    compact = "".join(ch for ch in value if ch.isdigit() or ch == "+")
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    try:
        if compact.startswith("+"):
            return phonenumbers.is_valid_number(phonenumbers.parse(compact, None))
        for region in NATIONAL_REGIONS:
            if region != "US" and not compact.startswith("0"):
                continue
            if phonenumbers.is_valid_number(phonenumbers.parse(compact, region)):
                return True
    except phonenumbers.NumberParseException:
        return False
    return False


class Phone(Detector):
    id = "phone"
    category = "phone"
    headers = "phone"
    priority = 60
    costly = True
    # Generated and mistyped numbers fail libphonenumber's ranges now and then.
    min_value_share = 0.7

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        digits = col.str.count_matches(r"\d")
        return (col.str.contains(r"^(?:\+|00)?[\d\s().\-/]{8,22}$")
                & digits.is_between(9, 15))

    def validate(self, values: pl.Series) -> pl.Series:
        return pl.Series(values.name, [phone_valid(v) for v in values.to_list()],
                         dtype=pl.Boolean)

    def plausible(self, valid: pl.Series, sample_size: int) -> float:
        # Phone numbers of many people differ; a code list repeats.
        distinct = min(1.0, valid.n_unique() / max(1.0, 0.3 * len(valid)))
        # Written numbers carry a "+", a trunk 0 or separators; ten bare digits are as
        # likely an identifier that happens to fit North American numbering.
        bare = float(valid.str.contains(r"^[1-9]\d{9}$").mean() or 0.0)
        return distinct * (BARE_DIGITS_PLAUSIBILITY if bare >= 0.8 else 1.0)


DETECTOR = Phone()
