"""Dates and timestamps parsed vectorised, for the date-like detectors.

A date-only export (``1985-03-02``, ``02/03/1985``, ``02.03.1985``, ``19850302``)
and timestamps (ISO 8601, ``dd/mm/yyyy hh:mm``, Unix seconds) all become a year
fraction, so birth dates and event dates are told apart by how they spread.

Legacy exports write birth dates in more forms (:func:`legacy_dates`): two-digit
years (``14/03/85``), month names (``14-MAR-85``, ``2 mars 1985``) and compact day-
or month-first digits (``14031985``). The identity stage reads birth dates with the
same function, so a form detection accepts is one canonicalisation reads alike.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

# Four-digit years only: %Y would read the "85" of "14/03/85" as the year 85.
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y/%m/%d", "%m/%d/%Y",
                "%Y%m%d")
#: Unix seconds between 2000-01-01 and 2035-01-01, the span event logs use.
EPOCH_RANGE = (946_684_800, 2_051_222_400)
DATE_SHAPE = (r"^(?:\d{4}[-/]\d{1,2}[-/]\d{1,2}|\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})|"
              r"(?:19|20)\d{6}|\d{4}(?:1[89]|20)\d{2})"
              r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")
EPOCH_SHAPE = r"^1\d{9}(?:\d{3})?$"

#: Day, month name (``MAR``, ``mars``, ``März``, ``févr.``), two- or four-digit year.
MONTH_NAME_DATE = r"^(\d{1,2})(?:er)?[ ./\-]+(\p{L}{3,})\.?[ ./,\-]+(\d{4}|\d{2})$"
#: Day and month in either order, two-digit year. Dotted ones must be zero-padded:
#: an unpadded ``1.2.10`` is more often a version number than a date.
TWO_DIGIT_YEAR_DATE = r"^(\d{1,2})[/\-](\d{1,2})[/\-](\d{2})$"
PADDED_DOTTED_DATE = r"^(\d{2})\.(\d{2})\.(\d{2})$"
#: Day and month in either order, then a year from 1800 to 2099: such a year can never
#: be the month and day of a ``YYYYMMDD`` date, nor its year a ``DDMM``/``MMDD``.
COMPACT_DAY_MONTH_DATE = r"^(\d{2})(\d{2})((?:1[89]|20)\d{2})$"
_MONTHS = (
    ("january", "jan", "janvier", "janv", "januar", "jänner", "jän"),
    ("february", "feb", "février", "fevrier", "févr", "fevr", "fév", "fev", "februar"),
    ("march", "mar", "mars", "märz", "maerz", "mär", "mrz"),
    ("april", "apr", "avril", "avr"),
    ("may", "mai"),
    ("june", "jun", "juin", "juni"),
    ("july", "jul", "juillet", "juil", "juli"),
    ("august", "aug", "août", "aout"),
    ("september", "sep", "sept", "septembre"),
    ("october", "oct", "octobre", "oktober", "okt"),
    ("november", "nov", "novembre"),
    ("december", "dec", "décembre", "decembre", "déc", "dezember", "dez"),
)
#: English, French and German month names and abbreviations, lower case -> month.
MONTH_NUMBERS = {name: month for month, names in enumerate(_MONTHS, 1) for name in names}


def date_shape(col: pl.Expr) -> pl.Expr:
    return (col.str.contains(DATE_SHAPE) | col.str.contains(EPOCH_SHAPE)
            | col.str.contains(MONTH_NAME_DATE))


def parse_years(values: pl.Series, two_digit_until: int | None = None, *,
                one_column: bool = False) -> pl.Series:
    """Year (as a float: 1985.17) of each value; null where it is not a date.

    ``two_digit_until`` and ``one_column``: as :func:`legacy_dates` reads them (values
    of several columns are read each in whichever day/month order fits it).
    """
    frame = pl.DataFrame({"v": values})
    day = pl.col("v").str.extract(r"^([\d/.\-]+)", 1)
    parsed = pl.when(day.str.contains(r"\d{4}")).then(
        pl.coalesce([day.str.to_date(fmt, strict=False) for fmt in DATE_FORMATS]))
    digits = pl.col("v").str.slice(0, 10).cast(pl.Int64, strict=False)
    epoch = pl.when(pl.col("v").str.contains(EPOCH_SHAPE)
                    & digits.is_between(*EPOCH_RANGE)).then(
        pl.from_epoch(digits, time_unit="s").dt.date())
    legacy = legacy_dates(values, two_digit_until, False if one_column else None)
    date = pl.coalesce([parsed, epoch, pl.lit(legacy)])
    year = date.dt.year() + (date.dt.ordinal_day() - 1) / 366
    return frame.select_seq(year.alias("year"))["year"]


def legacy_dates(values: pl.Series, two_digit_until: int | None,
                 month_first: bool | None, *, settle_order: bool = True) -> pl.Series:
    """Dates in the legacy forms (null for any other value): month names, two-digit
    years, compact ``DDMMYYYY`` or ``MMDDYYYY``.

    ``two_digit_until``: the latest year a two-digit year may stand for (the century
    is the latest that does not pass it: for a birth date, this year, so ``85`` is
    1985 and, in 2026, ``26`` is 2026 and ``27`` 1927); None: two-digit years are no
    dates. ``month_first``: ``values`` are one column, whose day/month order is the
    one that reads more of them, this one on a tie (``01/02/85``, ``01021985`` alone
    leave it open); None: values of several columns, each read in whichever order
    fits it, day first first. A column whose 8-digit values read more often as
    ``YYYYMMDD`` (the other readers' business) has no compact day-month dates.
    ``settle_order=False``: ``month_first`` as given, whatever the values: the
    identity stage reads a column batch by batch, and a value must read the same in
    every batch.
    """
    read = _legacy_reads(values, two_digit_until)
    if month_first is None:
        return read.select(pl.coalesce("named", "day_first", "month_first"))["named"]
    if not settle_order:
        ordered = pl.col("month_first" if month_first else "day_first")
        return read.select(pl.coalesce(pl.col("named"), ordered))["named"]
    day_first_reads, month_first_reads, compact_reads, ymd_reads = read.select(
        pl.col("day_first").is_not_null().sum(), pl.col("month_first").is_not_null().sum(),
        (pl.col("compact") & (pl.col("day_first").is_not_null()
                              | pl.col("month_first").is_not_null())).sum(),
        pl.col("ymd").sum()).row(0)
    if month_first_reads != day_first_reads:
        month_first = month_first_reads > day_first_reads
    ordered = pl.col("month_first" if month_first else "day_first")
    if ymd_reads and ymd_reads >= compact_reads:
        ordered = pl.when(~pl.col("compact")).then(ordered)
    return read.select(pl.coalesce(pl.col("named"), ordered))["named"]


def _legacy_reads(values: pl.Series, two_digit_until: int | None) -> pl.DataFrame:
    """Each value read every legacy way: ``named`` (month name), ``day_first`` and
    ``month_first`` dates, whether it is ``compact`` (8 digits), and ``ymd`` (it also
    reads as ``YYYYMMDD``)."""
    v = pl.col("v").str.replace(PADDED_DOTTED_DATE, "$1/$2/$3")
    named = v.str.extract_groups(MONTH_NAME_DATE)
    short = v.str.extract_groups(TWO_DIGIT_YEAR_DATE)
    compact = v.str.extract_groups(COMPACT_DAY_MONTH_DATE)
    year_text = pl.coalesce([g.struct.field("3") for g in (named, short, compact)])
    year = year_text.cast(pl.Int32, strict=False)
    if two_digit_until is None:
        year = pl.when(year_text.str.len_bytes() == 4).then(year)
    else:
        in_century = year + two_digit_until // 100 * 100
        year = pl.when(year_text.str.len_bytes() == 4).then(year).when(
            in_century > two_digit_until).then(in_century - 100).otherwise(in_century)
    first = pl.coalesce([short.struct.field("1"), compact.struct.field("1")])
    second = pl.coalesce([short.struct.field("2"), compact.struct.field("2")])
    month_name = (named.struct.field("2").str.to_lowercase()
                  .replace_strict(MONTH_NUMBERS, default=None, return_dtype=pl.Int32))
    return pl.DataFrame({"v": values.cast(pl.String).str.strip_chars()}).select(
        named=_date(year, month_name, named.struct.field("1")),
        day_first=_date(year, second, first),
        month_first=_date(year, first, second),
        compact=compact.struct.field("1").is_not_null(),
        ymd=v.str.contains(r"^\d{8}$") & v.str.to_date("%Y%m%d", strict=False).is_not_null())


def settled_month_first(values: pl.Series, two_digit_until: int | None) -> bool | None:
    """Whether a column's legacy dates (two-digit years, compact digits) put the month
    first, when its values settle it (``13/02/85`` reads only day first); None when
    they do not, or hold none. Decided once, on the first batch, for the whole pass."""
    day_first_reads, month_first_reads = _legacy_reads(values, two_digit_until).select(
        pl.col("day_first").is_not_null().sum(), pl.col("month_first").is_not_null().sum()).row(0)
    return None if day_first_reads == month_first_reads else month_first_reads > day_first_reads


def _date(year: pl.Expr, month: pl.Expr, day: pl.Expr) -> pl.Expr:
    # Through text: pl.date() raises on 31 February, strptime makes it null.
    return pl.concat_str([year, month, day], separator="-").str.to_date("%Y-%m-%d",
                                                                        strict=False)


def has_time(values: pl.Series) -> pl.Series:
    """True where the value carries a time of day other than midnight, or is Unix time."""
    timed = values.str.contains(r"[T ]\d{1,2}:\d{2}") & ~values.str.contains(r"[T ]00:00(?::00)?")
    return timed | values.str.contains(EPOCH_SHAPE)


#: Share of the timed values one time of day must hold for a column to be dates
#: stored at a fixed time.
FIXED_TIME_SHARE = 0.9


def dates_stored_as_instants(values: pl.Series) -> bool:
    """Whether the times of day of ``values`` are those of dates stored as instants: a
    local midnight written in UTC (MongoDB and JavaScript exports: ``T23:00:00.000Z``,
    ``T22:00:00.000Z`` in summer for Paris) is one whole hour, or two an hour apart
    with summer time; a date stored at noon, or at any fixed time, is one time for
    nearly all values. Real times of day (births, visits) take many values."""
    times = values.str.extract(r"[T ](\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)", 1).drop_nulls()
    if times.is_empty():
        return True
    frame = pl.DataFrame({"t": times}).select(
        hour=pl.col("t").str.extract(r"^(\d+)", 1).cast(pl.Int32),
        whole=pl.col("t").str.contains(r"^\d+:00(?::00(?:[.,]0+)?)?$"))
    hours = frame["hour"].unique().sort().to_list()
    dst_pair = len(hours) == 1 or (len(hours) == 2 and (hours[1] - hours[0]) in (1, 23))
    fixed = times.value_counts(sort=True)["count"][0] >= FIXED_TIME_SHARE * len(times)
    return bool(frame["whole"].all() and dst_pair) or fixed


def past_noon(col: pl.Expr) -> pl.Expr:
    """True where the value's time of day is after 12:00: a birth date stored as an
    instant is then the next day's local midnight, written in UTC from a zone east
    of it (Europe's ``T23:00Z``); one at or before noon is on its own date (the
    Americas' ``T05:00Z``, dates stored at noon). Right for any zone from UTC-12 to
    UTC+12; null for a value without a time."""
    time = col.str.extract_groups(r"[T ](\d{1,2}):(\d{2})")
    minutes = (time.struct.field("1").cast(pl.Int32) * 60
               + time.struct.field("2").cast(pl.Int32))
    return minutes > 12 * 60


def current_year() -> float:
    today = dt.date.today()
    return today.year + (today.timetuple().tm_yday - 1) / 366
