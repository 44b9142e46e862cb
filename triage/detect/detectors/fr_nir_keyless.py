"""French NIR written without its key: the 13 characters alone (``1850578006084``).

Some exports (the Mega-Bus lab software, see ``docs/detection.md``) keep the NIR's
13 characters and drop the 2-digit key. Thirteen digits carry no check, so unlike
the full NIR (``fr_nir``) values can never decide alone: the column needs a NIR,
social-security or national-id header, its values the NIR's structure, and the set
of them the births of a population:

* structure (INSEE): sex digit 1-4, 7 or 8; birth month 01-12, or 20-42 and 50-99
  (a civil record without the month); département 01-96 (91-96: Algeria, Morocco,
  Tunisia before independence), 2A/2B, 99 (born abroad), or 971-978 / 984-988
  overseas with a 2-digit commune; commune and order number not all zeros;
* a value that is also a valid Romanian CNP (13 digits, a date and a check digit
  on weights 279146358279 mod 11) is taken for a CNP: a checked reading beats an
  unchecked one, so a CNP column under a ``national id`` header stays a CNP;
* as a column, nearly all birth months real (random 13-digit numbers fall mostly on
  the special months) and the years and months of a population, as for the other
  birth-coded ids (``_birth_coded.births_plausibility``, without the day: the NIR
  has none).

The verdict is ``national_id`` / ``fr_nir`` like the full form: it is the same
number. The scan completes each value with its computed key before hashing
(``triage/identity/completion.py``), so the index holds the digest of the full NIR
a victim will look up.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from triage.detect.base import Detector
from triage.detect.detectors._birth_coded import IMPLAUSIBLE, births_plausibility

#: Sex digit, year, month, département (2A/2B), commune and order: the NIR less its key.
SHAPE = r"^[1-478][0-9]{4}(?:[0-9]{2}|2[AB])[0-9]{6}$"
#: Separators written inside a NIR (those the national-id canonical form drops).
SEPARATORS = r"[\s.\-/:]"
#: Share of valid values whose month is a calendar month (01-12) a column needs:
#: INSEE's special months are rare in a population, but 86 % of the months that
#: random digits give.
MIN_REAL_MONTH_SHARE = 0.8
_CNP_WEIGHTS = (2, 7, 9, 1, 4, 6, 3, 5, 8, 2, 7, 9)


def _compact(col: pl.Expr) -> pl.Expr:
    return col.str.replace_all(SEPARATORS, "").str.to_uppercase()


def _number(text: pl.Expr, start: int, length: int) -> pl.Expr:
    return text.str.slice(start, length).str.to_integer(strict=False)


def _structure_ok(c: pl.Expr) -> pl.Expr:
    """The NIR's fields are possible (``c``: compact, of :data:`SHAPE`)."""
    month = _number(c, 3, 2)
    departement = c.str.slice(5, 2)
    overseas = ((departement == "97") & c.str.slice(7, 1).is_in(list("12345678"))
                | (departement == "98") & c.str.slice(7, 1).is_in(list("45678")))
    metropolitan = (departement.is_in(["2A", "2B", "99"])
                    | _number(c, 5, 2).is_between(1, 96))
    place = (pl.when(overseas).then(c.str.slice(8, 2) != "00")
             .otherwise(metropolitan & (c.str.slice(7, 3) != "000")))
    return (c.str.contains(SHAPE)
            & (month.is_between(1, 12) | month.is_between(20, 42) | month.is_between(50, 99))
            & place & (c.str.slice(10, 3) != "000"))


def _cnp_ok(c: pl.Expr) -> pl.Expr:
    """A valid Romanian CNP as far as its date allows (month 01-12, day 01-31) and its
    check digit (``stdnum.ro.cnp``)."""
    total = pl.sum_horizontal([_number(c, i, 1) * w for i, w in enumerate(_CNP_WEIGHTS)])
    check = pl.when(total % 11 == 10).then(1).otherwise(total % 11)
    return (c.str.contains(r"^[0-9]{13}$") & _number(c, 3, 2).is_between(1, 12)
            & _number(c, 5, 2).is_between(1, 31) & (check == _number(c, 12, 1)))


class FrNirKeyless(Detector):
    id = "fr_nir_keyless"
    category = "national_id"
    subtype = "fr_nir"
    headers = "fr_nir"
    more_headers = ("us_ssn", "national_id")
    values_decide = False
    # The share a full verdict is measured against (the value strength's scale).
    min_value_share = 0.9
    # Under its header, most values must be keyless NIRs: random 13-digit numbers
    # have the structure about half the time (and fail as a column).
    header_min_share = 0.5
    header_min_shape = 0.5
    # Below the full NIR (its check decides), above the generic national id.
    priority = 88

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return _compact(col).str.contains(SHAPE)

    def validate(self, values: pl.Series) -> pl.Series:
        c = pl.col("c")
        return (pl.DataFrame({"c": values}).lazy()
                .select(c=_compact(c))
                .select((_structure_ok(c) & ~_cnp_ok(c).fill_null(False)).alias(values.name))
                .collect().to_series())

    def plausible(self, valid: pl.Series, sample_size: int) -> float:
        c = pl.col("c")
        this_year = dt.date.today().year
        read = pl.DataFrame({"c": valid}).select(c=_compact(c)).select(
            year=_number(c, 1, 2), month=_number(c, 3, 2))
        real = read.filter(pl.col("month").is_between(1, 12))
        if not len(read) or len(real) < MIN_REAL_MONTH_SHARE * len(read):
            return IMPLAUSIBLE
        # Two-digit years: the latest such year not after this one.
        year = (pl.when(pl.col("year") + 2000 <= this_year).then(pl.col("year") + 2000)
                .otherwise(pl.col("year") + 1900))
        births = real.select(pl.date(year, pl.col("month"), 1).alias("born"))["born"].to_list()
        return births_plausibility(births, days=False)

    def evidence(self, valid: pl.Series) -> dict[str, float | int | str]:
        months = pl.DataFrame({"c": valid}).select(_number(_compact(pl.col("c")), 3, 2))
        special = months.to_series().is_between(1, 12).not_().mean() if len(valid) else None
        return {"nir_key": "absent", "special_month_share": round(float(special or 0.0), 4)}


DETECTOR = FrNirKeyless()
