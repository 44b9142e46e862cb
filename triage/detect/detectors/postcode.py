"""Postal codes: 5 digits (FR, DE, US, ES, IT), UK, NL (1234 AB), PT (1234-567), ZIP+4;
under a postcode header also PL (12-345), SE/CZ/SK (123 45), 4 digits (DK, AT, CH, BE,
NO, HU) and 6 digits (RO).

Five bare digits are also quantities or codes: values alone decide only when the
column has a distinctly postal shape, or its five-digit values keep leading zeros,
end in 0 the French way, or repeat the way neighbours' postcodes do; otherwise the
header must say so, or the table (:meth:`Postcode.in_context`): US ZIP codes agree
with the state beside them, their first digit being the state's USPS national area
(0 for New England, 9 for the West Coast; ``lexicons/us_zip_areas.json``). Random
five-digit numbers agree about one time in ten, and no sample size is needed: a
large file's ZIP codes, which no longer repeat in the sample, are still typed.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import polars as pl

from triage.detect.base import Detector
from triage.detect.context import TableContext
from triage.detect.vocab import us_zip_areas

_DISTINCT = (r"^(?:[A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2}|[1-9]\d{3} ?[A-Za-z]{2}|\d{4}-\d{3}"
             r"|\d{5}-\d{4})$")


#: Other countries' shapes, too close to counts, years and codes to be typed by values:
#: only a header makes them postcodes.
_NATIONAL = r"^(?:\d{2}-\d{3}|\d{3} \d{2}|\d{4}|\d{6})$"
#: Share of five-digit values starting "00" above which they are zero-padded numbers
#: (file and order numbers): no French, German or Spanish postcode starts so.
PADDED_NUMBERS = 0.5


#: Distinct share under which five-digit values repeat like neighbours' postcodes. In
#: the gap: 256 values from a pool of ~600 ZIP codes are 0.81 +- 0.02 distinct, random
#: five-digit numbers 1.00 (a 0.85 threshold sat within two deviations and missed a
#: ZIP column in one draw of 14 to one of 2, by the number of values drawn).
REPEATED = 0.95
_ZIP = r"^\d{5}(?:-\d{4})?$"
#: Share of values with a ZIP shape, and of a column's values that are US state codes.
ZIP_SHARE = 0.9
STATE_SHARE = 0.9
#: Fewest sampled rows holding both a ZIP code and a state to compare them.
MIN_PAIRS = 20


@cache
def _state_code() -> str:
    return "^(?:" + "|".join(sorted(us_zip_areas())) + ")$"


class Postcode(Detector):
    id = "postcode"
    category = "postcode"
    headers = "postcode"
    priority = 45
    context_takes = frozenset({None})
    context_min_share = 0.9

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return (col.str.contains(r"^\d{5}$") | col.str.contains(_DISTINCT)
                | col.str.contains(_NATIONAL))

    def plausible(self, valid: pl.Series, sample_size: int) -> float:
        distinctive = float(valid.str.contains(_DISTINCT).mean() or 0.0)
        if distinctive >= 0.8:
            return 1.0
        digits = valid.filter(valid.str.contains(r"^\d{5}$"))
        if len(digits) == 0 or float(digits.str.starts_with("00").mean() or 0.0) > PADDED_NUMBERS:
            return 0.5
        # Counts and amounts vary in width and drop leading zeros; postcodes keep five
        # digits, start with 0 in whole regions (Saxony, New England), mostly end in 0
        # in France (56000, 27200), and repeat among neighbours.
        leading_zero = float(digits.str.starts_with("0").mean() or 0.0)
        french = float(digits.str.ends_with("0").mean() or 0.0)
        repeated = digits.n_unique() <= REPEATED * len(digits)
        return 1.0 if leading_zero >= 0.02 or french >= 0.5 or repeated else 0.5

    def in_context(self, column: str, table: TableContext) -> dict[str, Any] | None:
        n, zips = table.shape_share(_ZIP, column)
        if n < MIN_PAIRS or zips < ZIP_SHARE:
            return None
        best: dict[str, Any] | None = None
        for state in table.asked:
            counted, share = table.shape_share(_state_code(), state)
            if state == column or counted < MIN_PAIRS or share < STATE_SHARE:
                continue
            pairs = pl.DataFrame({"zip": table.values(column), "state": table.values(state)})
            agree = (pairs.drop_nulls()
                     .filter(pl.col("zip").str.contains(_ZIP))
                     .select(pl.col("state").replace_strict(us_zip_areas(), default=None)
                             .str.contains(pl.col("zip").str.slice(0, 1), literal=True)
                             .alias("agree"))
                     .drop_nulls()["agree"])
            if len(agree) < MIN_PAIRS:
                continue
            share = float(agree.mean() or 0.0)
            if share >= self.context_min_share and (best is None or share > best["context_share"]):
                best = {"sample_size": n, "shape_share": round(zips, 4),
                        "valid_share": round(zips, 4), "context": "zip_matches_state",
                        "context_share": share, "context_rows": len(agree)}
        return best


DETECTOR = Postcode()
