"""Telephone numbers, validated with libphonenumber (``phonenumbers``).

International forms (+33…, 0033…) are validated as such; national forms are tried
against the regions of the supported languages, and must start with a trunk
prefix or fit a region without one (US). A number that a spreadsheet stored as a
number lost its trunk 0 (``612345678``): it is valid if it is with the 0 put back,
but bare digits are as likely a product code or a key, so only a header makes such
a column phones. A ``tel:`` link's scheme and an extension (``;ext=12``, ``ext. 12``,
`` x12``) are not part of the number: both are read past.
"""

from __future__ import annotations

import re

import phonenumbers
import polars as pl

from triage.detect.base import Detector

#: Bare ten-digit values need a header to be phones.
BARE_DIGITS_PLAUSIBILITY = 0.6

#: Regions whose national formats are tried for numbers without a country code.
NATIONAL_REGIONS = ("FR", "DE", "GB", "ES", "IT", "NL", "PT", "BE", "CH", "US")


_TEL_SCHEME = r"(?i)^\s*tel:"
_EXTENSION = r"(?i)\s*(?:;\s*ext\s*=|,?\s*ext\.?|\s+x)\s*\d{1,6}\s*$"


def number_text(values: pl.Expr) -> pl.Expr:
    """The number as written, without a ``tel:`` scheme or an extension."""
    return values.str.replace(_TEL_SCHEME, "").str.replace(_EXTENSION, "")


def phone_valid(value: str) -> bool:
    value = re.sub(_EXTENSION, "", re.sub(_TEL_SCHEME, "", value))
    compact = "".join(ch for ch in value if ch.isdigit() or ch == "+")
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    try:
        if compact.startswith("+"):
            return phonenumbers.is_valid_number(phonenumbers.parse(compact, None))
        # A national number without its trunk 0 has 9 or 10 digits; longer bare digits
        # (an EAN-13) are not taken for one.
        restore = not compact.startswith("0") and len(compact) in (9, 10)
        for region in NATIONAL_REGIONS:
            national = "0" + compact if restore and region != "US" else compact
            if region != "US" and not national.startswith("0"):
                continue
            if phonenumbers.is_valid_number(phonenumbers.parse(national, region)):
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
        number = number_text(col)
        digits = number.str.count_matches(r"\d")
        return (number.str.contains(r"^(?:\+|00)?[\d\s().\-/]{8,22}$")
                & digits.is_between(9, 15))

    def validate(self, values: pl.Series) -> pl.Series:
        return pl.Series(values.name, [phone_valid(v) for v in values.to_list()],
                         dtype=pl.Boolean)

    def plausible(self, valid: pl.Series, sample_size: int) -> float:
        # Phone numbers of many people differ; a code list repeats.
        distinct = min(1.0, valid.n_unique() / max(1.0, 0.3 * len(valid)))
        # Written numbers carry a "+", a trunk 0 or separators; bare digits are as likely
        # an identifier that happens to fit North American numbering, or a national
        # number once a 0 is put back.
        bare = float(valid.str.contains(r"^[1-9]\d{8,10}$").mean() or 0.0)
        return distinct * (BARE_DIGITS_PLAUSIBILITY if bare >= 0.8 else 1.0)


DETECTOR = Phone()
