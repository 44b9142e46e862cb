"""Postal codes: 5 digits (FR, DE, US, ES, IT), UK, NL (1234 AB), PT (1234-567), ZIP+4.

Five bare digits are also quantities or codes: values alone decide only when the
column has a distinctly postal shape, or its five-digit values keep leading zeros,
end in 0 the French way, or repeat the way neighbours' postcodes do; otherwise the
header must say so.
"""

from __future__ import annotations

import polars as pl

from triage.detect.base import Detector

_DISTINCT = (r"^(?:[A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2}|[1-9]\d{3} ?[A-Za-z]{2}|\d{4}-\d{3}"
             r"|\d{5}-\d{4})$")


#: Distinct share under which five-digit values repeat like neighbours' postcodes.
REPEATED = 0.85


class Postcode(Detector):
    id = "postcode"
    category = "postcode"
    headers = "postcode"
    priority = 45

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(r"^\d{5}$") | col.str.contains(_DISTINCT)

    def plausible(self, valid: pl.Series, sample_size: int) -> float:
        distinctive = float(valid.str.contains(_DISTINCT).mean() or 0.0)
        if distinctive >= 0.8:
            return 1.0
        digits = valid.filter(valid.str.contains(r"^\d{5}$"))
        if len(digits) == 0:
            return 0.5
        # Counts and amounts vary in width and drop leading zeros; postcodes keep five
        # digits, start with 0 in whole regions (Saxony, New England), mostly end in 0
        # in France (56000, 27200), and repeat among neighbours.
        leading_zero = float(digits.str.starts_with("0").mean() or 0.0)
        french = float(digits.str.ends_with("0").mean() or 0.0)
        repeated = digits.n_unique() <= REPEATED * len(digits)
        return 1.0 if leading_zero >= 0.02 or french >= 0.5 or repeated else 0.5

DETECTOR = Postcode()
