"""Birth dates in legacy forms: detected, and read to the same ISO date by the identity stage.

Two-digit years, Oracle ``DD-MON-YY``, month names, compact ``DDMMYYYY``/``MMDDYYYY`` and
local midnights stored as UTC instants (MongoDB, JavaScript) were missed even under an
exact header; each form accepted must also canonicalise to the right day.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import polars as pl
import pytest

from triage.detect import TableDetector
from triage.detect.detectors._dates import legacy_dates
from triage.detect.registry import detector
from triage.identity.canonical import birth_iso, name_birth_series
from triage.profile.types import classify

_MONTHS_EN = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_MONTHS_FR = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
              "septembre", "octobre", "novembre", "décembre"]
_MONTHS_DE = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
              "September", "Oktober", "November", "Dezember"]


def _births(n: int = 300, seed: int = 7) -> list[date]:
    """Birth dates of ``n`` people aged 1 to 95."""
    rng = random.Random(seed)
    today = date.today()
    return [today - timedelta(days=rng.randint(366, 95 * 365)) for _ in range(n)]


def _utc_instant(day: date) -> str:
    """Paris midnight of ``day`` as MongoDB exports it: 23:00Z the day before, 22:00Z in
    summer (European summer time, roughly April to October here)."""
    hour = 22 if 4 <= day.month <= 10 else 23
    instant = datetime(day.year, day.month, day.day) - timedelta(hours=24 - hour)
    return instant.strftime("%Y-%m-%dT%H:%M:%S.000Z")


WRITTEN = {
    "dd/mm/yy": lambda d: d.strftime("%d/%m/%y"),
    "dd.mm.yy": lambda d: d.strftime("%d.%m.%y"),
    "dd-mm-yy": lambda d: d.strftime("%d-%m-%y"),
    "DD-MON-YY": lambda d: f"{d.day:02d}-{_MONTHS_EN[d.month - 1]}-{d.strftime('%y')}",
    "DD-MON-YYYY": lambda d: f"{d.day:02d}-{_MONTHS_EN[d.month - 1]}-{d.year}",
    "d Month yyyy": lambda d: f"{d.day:02d} {d.strftime('%B')} {d.year}",
    "d mois yyyy": lambda d: f"{d.day} {_MONTHS_FR[d.month - 1]} {d.year}",
    "d. Monat yyyy": lambda d: f"{d.day}. {_MONTHS_DE[d.month - 1]} {d.year}",
    "ddmmyyyy": lambda d: d.strftime("%d%m%Y"),
    "mmddyyyy": lambda d: d.strftime("%m%d%Y"),
    "utc instant": _utc_instant,
}


def _scan_format(values: list[str]) -> str | None:
    """The format a scan hands the identity stage: the profile's, when it is one."""
    inferred, _ = classify(pl.Series(values, dtype=pl.String))
    return next(iter(inferred.formats)) if len(inferred.formats) == 1 else None


@pytest.mark.parametrize("form", sorted(WRITTEN))
def test_legacy_birth_dates_are_detected_under_a_header(form):
    births = _births()
    det = TableDetector()
    det.update(pl.DataFrame({"date_naissance": [WRITTEN[form](d) for d in births]}))
    (finding,) = det.finish()
    assert finding.category == "birth_date"


def _settled_order(written: list[str]) -> bool | None:
    """The day/month order detection reports for the column, as the scan's plan takes it."""
    det = TableDetector()
    det.update(pl.DataFrame({"date_naissance": written}))
    (finding,) = det.finish()
    order = finding.evidence["values"].get("day_month_order")
    return None if order is None else order == "month_first"


@pytest.mark.parametrize("form", sorted(WRITTEN))
def test_legacy_birth_dates_canonicalise_to_the_iso_date(form):
    births = _births()
    written = [WRITTEN[form](d) for d in births]
    order = _settled_order(written)
    for region in ("FR", "US"):
        got = birth_iso(pl.Series(written), region, _scan_format(written), order).to_list()
        assert got == [d.isoformat() for d in births], region


def test_a_value_reads_alike_in_any_batch_of_its_column():
    # The order is the plan's, not the batch's: a batch of only ambiguous dates
    # (01/02/85) reads them in it, as a batch that settles it does.
    settled = ["13/02/85", "01/02/85", "25/12/60"]
    alone = ["01/02/85"]
    order = _settled_order(settled * 40)
    assert order is False
    for region in ("FR", "US"):
        assert (birth_iso(pl.Series(alone), region, None, order).to_list()
                == birth_iso(pl.Series(settled), region, None, order).to_list()[1:2]
                == ["1985-02-01"])


def test_a_utc_midnight_is_its_local_day_whatever_the_other_values():
    # Two real times of birth in a batch once made the whole batch "instants".
    values = ["1985-05-06T15:42:00Z", "1985-05-06T23:00:00.000Z", "1985-05-06"]
    assert birth_iso(pl.Series(values), "FR").to_list() == [
        "1985-05-06", "1985-05-07", "1985-05-06"]
    assert birth_iso(pl.Series(values[1:2]), "FR").to_list() == ["1985-05-07"]


def test_two_digit_years_do_not_fool_the_columns_four_digit_format():
    # A small column the profile types "%d/%m/%Y" (it reads 85 as the year 85).
    written = ["14/03/85", "02/11/47", "30/06/91"]
    assert _scan_format(written) == "%d/%m/%Y"
    assert birth_iso(pl.Series(written), "FR", "%d/%m/%Y").to_list() == [
        "1985-03-14", "1947-11-02", "1991-06-30"]


def test_composite_of_a_two_digit_year_equals_the_iso_ones():
    names = pl.Series(["Hélène Le Goff", "Jean Dupont"])
    legacy = name_birth_series(names, pl.Series(["14/03/85", "02/11/47"]), "FR")
    iso = name_birth_series(names, pl.Series(["1985-03-14", "1947-11-02"]), "FR")
    assert legacy.to_list() == iso.to_list()
    assert legacy[0] == "helenelegoff\x001985-03-14"


def test_a_two_digit_birth_year_is_the_latest_not_after_this_year():
    this_year = date.today().year
    now, next_ = f"{this_year % 100:02d}", f"{(this_year + 1) % 100:02d}"
    got = legacy_dates(pl.Series([f"01/01/{now}", f"01/01/{next_}", "01/01/00"]),
                       this_year, False).to_list()
    assert got == [date(this_year, 1, 1), date(this_year + 1 - 100, 1, 1),
                   date(this_year - this_year % 100, 1, 1)]
    assert birth_iso(pl.Series([f"14/03/{next_}"]), "FR").to_list() == [
        f"{this_year + 1 - 100}-03-14"]


def test_eight_digits_are_day_first_only_where_the_column_says_so():
    births = _births()
    day_first = [d.strftime("%d%m%Y") for d in births]
    month_first = [d.strftime("%m%d%Y") for d in births]
    ambiguous = ["01021985", "03041990", "12111975"]
    iso_like = ["19850314", "20010203", "19900102"]

    def read(values: list[str], month_first_on_a_tie: bool) -> list[date | None]:
        return legacy_dates(pl.Series(values), 2026, month_first_on_a_tie).to_list()

    assert read(day_first, True) == births
    assert read(month_first, False) == births
    # A column no value of which settles the order is read in the region's order.
    assert read(ambiguous, False)[0] == date(1985, 2, 1)
    assert read(ambiguous, True)[0] == date(1985, 1, 2)
    # YYYYMMDD is left to the ISO reader, also where a value would read day first.
    assert read([*iso_like, "01021985"], False) == [None] * 4


def test_instants_of_real_times_of_day_are_no_birth_dates():
    births = _births()
    rng = random.Random(3)
    timed = [f"{d.isoformat()}T{rng.randint(0, 23):02d}:{rng.choice([0, 15, 30]):02d}:00Z"
             for d in births]
    whole_hours = [f"{d.isoformat()}T{rng.randint(1, 23):02d}:00:00Z" for d in births]
    noon = [f"{d.isoformat()}T12:00:00Z" for d in births]
    det = TableDetector()
    det.update(pl.DataFrame({"date_naissance": timed, "dob": whole_hours, "C1": noon}))
    found = {f.name: f.category for f in det.finish()}
    assert found["date_naissance"] != "birth_date"
    assert found["dob"] != "birth_date"
    # Dates stored at noon keep their own date.
    assert found["C1"] == "birth_date"
    assert birth_iso(pl.Series(noon[:3]), "FR", _scan_format(noon)).to_list() == [
        d.isoformat() for d in births[:3]]


def test_two_digit_years_are_no_event_dates():
    event = detector("event_date")
    values = pl.Series(["14/03/21", "02.11.22", "14/03/2021", "14-MAR-2021"])
    assert event.validate(values).to_list() == [False, False, True, True]


def test_version_numbers_are_no_two_digit_year_dates():
    birth = detector("birth_date")
    assert birth.validate(pl.Series(["1.2.58", "3.10.47", "01.02.58"])).to_list() == [
        False, False, True]
