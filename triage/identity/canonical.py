"""Versioned canonical forms: the variants of one identifier must give one digest.

Each kind has a version (``FORMS``); the HMAC input carries ``kind:vN\\0`` so a
change of form is a new version, never a silent mismatch with an older index.
The forms and a table of variants that must agree are in
``schemas/canonical-forms.json`` (the tests read that table).

Every form has a pure-Python reference (``*_reference``), used for any value
outside the "plain" subset, and a vectorised polars path for plain values (ASCII
emails and ids, digit-and-separator phones, Latin names). A value is canonicalised
by the polars path only when that path is known to agree with the reference on
it; everything else goes, one distinct value at a time, through the reference.
Where the optional native kernel is built, it applies the same forms to the same
plain values and hashes them in one pass (``NATIVE_FORMS``, the ``*_NATIVE_VERSION``
constants and :class:`PhoneRules`; the collector calls it). The tests check all the
paths against each other on generated inputs.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import cache

import numpy as np
import phonenumbers
import polars as pl
import pyarrow as pa
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult
from stdnum.util import clean as stdnum_clean

from triage.detect.detectors._dates import legacy_dates, past_noon
from triage.errors import TriageError
from triage.native import parse_times
from triage.profile.types import within_python_years

#: kind -> canonical-form version. Bump a version when its form changes.
FORMS: dict[str, int] = {
    "email": 1,
    "phone": 1,
    "national_id": 1,
    "health_insurance_id": 1,
    "name_birth": 1,
}
#: (kind, version) -> number of the same form in the native kernel (``canonical_id``,
#: ``canonical_email`` in triage/_native.c), which canonicalises and hashes plain values
#: in one pass and leaves the rest to the reference; a new version needs a new number.
NATIVE_FORMS: dict[tuple[str, int], int] = {
    ("national_id", 1): 1,
    ("health_insurance_id", 1): 1,
    ("email", 1): 2,
}
#: The name + birth-date form the kernel makes (``triage_name_birth_digest``).
NAME_BIRTH_NATIVE_VERSION = 1
#: The phone form the kernel makes (``triage_phone_digest``, with the region's pattern
#: checked by polars).
PHONE_NATIVE_VERSION = 1
#: Kinds whose value is one column; ``name_birth`` is a composite of several.
SINGLE_COLUMN_KINDS = ("email", "phone", "national_id", "health_insurance_id")

# Python's str.strip() whitespace among ASCII, spelled out so polars strips the same.
_ASCII_WS = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
_EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")
_EMAIL_SHAPE_POLARS = r"^[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+$"
_ID_SHAPE = re.compile(r"[0-9A-Z]{5,}")
_ID_SEPARATORS = " -./:"
# Name separators: whitespace, hyphens and dashes, apostrophes, dots.
_NAME_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015'\u2019.]")


@dataclass(frozen=True)
class Canonicaliser:
    """A kind's canonical form for a scan: the default region matters for phones."""

    kind: str
    region: str = "FR"

    @property
    def version(self) -> int:
        return FORMS[self.kind]

    def series(self, values: pl.Series) -> pl.Series:
        """Canonical forms of ``values`` (String); None where a value is not valid."""
        if self.kind not in SINGLE_COLUMN_KINDS:
            raise ValueError(f"{self.kind} is not a single-column kind")
        return _with_fallback(values, _fast_expr(self.kind, self.region),
                              _reference(self.kind, self.region))

    def one(self, value: str) -> str | None:
        """One value (a lookup): the reference itself, which the fast path is tested against."""
        return _reference(self.kind, self.region)(value)


# ----------------------------------------------------------------- references

def email_reference(value: str) -> str | None:
    """NFKC, trim, lower-case; the domain's non-ASCII labels to IDNA (xn--)."""
    text = unicodedata.normalize("NFKC", value).strip().lower()
    if not _EMAIL_SHAPE.fullmatch(text):
        return None
    local, domain = text.rsplit("@", 1)
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    text = f"{local}@{domain}"
    return text if _EMAIL_SHAPE.fullmatch(text) else None


def phone_reference(value: str, region: str) -> str | None:
    """E.164 via phonenumbers, when the number has a possible length (not local-only)."""
    try:
        number = phonenumbers.parse(value, region)
    except NumberParseException:
        return None
    if phonenumbers.is_possible_number_with_reason(number) != ValidationResult.IS_POSSIBLE:
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def id_reference(value: str) -> str | None:
    """python-stdnum's compact form: separators dropped, trimmed, upper-case."""
    text = stdnum_clean(value, _ID_SEPARATORS).strip().upper()
    return text if _ID_SHAPE.fullmatch(text) else None


def name_reference(value: str) -> str | None:
    """Case-folded, accents (Mn marks after NFKD), spaces, hyphens, apostrophes, dots removed."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", value).casefold())
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    text = _NAME_SEPARATORS.sub("", text)
    return text or None


def _reference(kind: str, region: str):  # type: ignore[no-untyped-def]
    if kind == "email":
        return email_reference
    if kind == "phone":
        return lambda value: phone_reference(value, region)
    if kind in ("national_id", "health_insurance_id"):
        return id_reference
    if kind == "name":
        return name_reference
    raise ValueError(kind)


# ----------------------------------------------------------- vectorised paths

@dataclass(frozen=True)
class _Fast:
    """A polars expression over ``pl.col("v")``: ``plain`` says which rows it is exact for.

    ``steps``: intermediate columns computed first, in order, that ``plain`` and
    ``value`` refer to by name: polars does not always share a sub-expression used
    in several places, and each use would recompute it.
    """

    plain: pl.Expr
    value: pl.Expr
    steps: tuple[dict[str, pl.Expr], ...] = ()

    def apply(self, values: pl.Series) -> pl.DataFrame:
        """Columns ``plain`` (bool) and ``out`` (the form where plain, else null)."""
        staged = pl.DataFrame({"v": values}).lazy()
        for step in (*self.steps, {"plain": self.plain.fill_null(False)}):
            staged = staged.with_columns(**step)
        return staged.select("plain", pl.when("plain").then(self.value).alias("out")).collect()


def _fast_expr(kind: str, region: str) -> _Fast | None:
    # The candidate form is a step of its own ("text"): the value tests it and returns
    # it, which would otherwise compute it twice.
    v, text = pl.col("v"), pl.col("text")
    if kind == "email":
        # Printable ASCII (plus tab/CR/LF) and Latin-1 letters, with an ASCII domain: NFKC
        # is the identity on them and both lower-casings map them alike (no IDNA needed).
        plain = (v.str.contains(r"^[\x20-\x7e\t\n\r\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff]*$")
                 & ~v.str.contains(r"(?s)@.*[^\x00-\x7f]"))  # (?s): across line breaks too
        form = v.str.strip_chars(_ASCII_WS).str.to_lowercase()
        return _Fast(plain, pl.when(text.str.contains(_EMAIL_SHAPE_POLARS)).then(text),
                     ({"text": form},))
    if kind in ("national_id", "health_insurance_id"):
        # stdnum's character map is the identity on ASCII except '`', which is invalid anyway.
        plain = v.str.contains(r"^[\x20-\x7e\t\n\r]*$")
        form = (v.str.replace_all(r"[ \-./:]", "").str.strip_chars(_ASCII_WS)
                .str.to_uppercase())
        return _Fast(plain, pl.when(text.str.contains(r"^[0-9A-Z]{5,}$")).then(text),
                     ({"text": form},))
    if kind == "phone":
        return _phone_fast(region)
    if kind == "name":
        # Printable ASCII and the Latin letters whose form is ASCII: the reference is then
        # the same letter by letter (NFKD, casefold and dropping marks act per character),
        # so a table lookup replaces Unicode normalisation, 3x cheaper. On these values
        # the only separators left are the four ASCII ones.
        latin = _latin_letters_to_ascii()
        plain = v.str.contains("^[\\x20-\\x7e" + "".join(latin) + "]*$")
        form = (v.str.replace_many(list(latin), list(latin.values())).str.to_lowercase()
                .str.replace_many([" ", "-", "'", "."], [""] * 4))
        return _Fast(plain, pl.when(text.str.len_bytes() > 0).then(text), ({"text": form},))
    return None


@cache
def _latin_letters_to_ascii() -> dict[str, str]:
    """Latin-1 and Latin Extended-A letters whose name form is ASCII -> that form
    (``é`` -> ``e``, ``ß`` -> ``ss``); the others (``Ø``, ``Ł``, ``Œ``...) are left to
    the reference."""
    letters = [chr(c) for c in (*range(0xC0, 0xD7), *range(0xD8, 0xF7), *range(0xF8, 0x180))]
    forms = {letter: name_reference(letter) for letter in letters}
    return {letter: form for letter, form in forms.items() if form and form.isascii()}


@dataclass(frozen=True)
class PhoneRules:
    """What a region's numbers need for their E.164 form to follow from its metadata
    alone: country code, international and national prefixes, the general pattern of
    a national significant number and its possible lengths."""

    country_code: str
    international_prefix: str
    national_prefix: str
    pattern: str
    lengths: tuple[int, ...]

    def nsn_ok(self, nsn: pl.Expr) -> pl.Expr:
        """A national significant number the region's metadata accepts as written (it
        must not itself start with the national prefix: phonenumbers would strip it)."""
        return (nsn.str.contains(rf"^(?:{self.pattern})$")
                & nsn.str.len_bytes().is_in(list(self.lengths))
                & ~nsn.str.starts_with(self.national_prefix))


@cache
def phone_rules(region: str) -> PhoneRules | None:
    """The region's :class:`PhoneRules`, where phonenumbers' parsing is that simple: a
    plain-digit national prefix with no transform rule, a plain-digit international
    prefix, and the region being the main one for its country code; else None."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if meta is None:
        return None
    cc = str(meta.country_code)
    prefix = meta.national_prefix or ""
    parsing = meta.national_prefix_for_parsing
    if (not prefix.isdigit() or (parsing is not None and parsing != prefix)
            or meta.national_prefix_transform_rule
            or not (meta.international_prefix or "").isdigit()
            or phonenumbers.region_code_for_country_code(int(cc)) != region
            or (cc != prefix and cc.startswith(prefix))):
        return None
    return PhoneRules(cc, meta.international_prefix, prefix,
                      meta.general_desc.national_number_pattern,
                      tuple(meta.general_desc.possible_length))


@cache
def _phone_fast(region: str) -> _Fast | None:
    """Digits-and-separators shapes whose E.164 form follows from the region metadata
    alone (:func:`phone_rules`); the national significant number must match the
    region's general pattern with a possible length."""
    rules = phone_rules(region)
    if rules is None:
        return None
    cc, intl, prefix = rules.country_code, rules.international_prefix, rules.national_prefix
    v, digits, nsn = pl.col("v"), pl.col("digits"), pl.col("nsn")
    # The three written forms (+CC, international prefix + CC, national prefix) are
    # prefixes, cut off by one anchored regex (its alternatives are tried in this
    # order, as phonenumbers does). What is left must match the region's pattern;
    # ``plain`` allows only ASCII digits, "+" and separators, and no national pattern
    # matches a "+", so the pattern alone proves it is all digits.
    written = rf"^(?:\+{cc}|{intl}{cc}|{prefix})"
    steps = ({"digits": v.str.replace_all(r"[ .\-]", "")},
             {"nsn": pl.when(digits.str.contains(written)).then(digits.str.replace(written, ""))})
    plain = v.str.contains(r"^[0-9+ .\-]*$") & rules.nsn_ok(nsn).fill_null(False)
    return _Fast(plain, pl.lit("+" + cc) + nsn, steps)


def _with_fallback(values: pl.Series, fast: _Fast | None, reference) -> pl.Series:  # type: ignore[no-untyped-def]
    """Canonicalise: the fast path where it is exact, the reference on the distinct rest."""
    values = values.cast(pl.String)
    if fast is None:
        plain = pl.Series("plain", [False] * len(values), dtype=pl.Boolean)
        out = pl.Series("out", [None] * len(values), dtype=pl.String)
    else:
        both = fast.apply(values)
        plain, out = both["plain"], both["out"]
    # An empty value has no form in any kind: no need to ask the reference (exports
    # write "" for a missing phone or email, often in one row out of five).
    needs_reference = ~plain & (values.str.len_bytes() > 0).fill_null(False)
    if needs_reference.any():
        rest = values.filter(needs_reference).unique()
        canonical = pl.Series([reference(x) for x in rest.to_list()], dtype=pl.String)
        slow = values.replace_strict(rest, canonical, default=None, return_dtype=pl.String)
        out = pl.select(pl.when(pl.lit(needs_reference)).then(pl.lit(slow))
                        .otherwise(pl.lit(out)).alias("out"))["out"]
    return out.rename(values.name)


# ---------------------------------------------------------------- composites

#: Birth dates are accepted between these days; anything else is a typo or a placeholder.
_BIRTH_DAY_RANGE = (date(1880, 1, 1), date(2100, 12, 31))
_MONTH_FIRST_REGIONS = frozenset({"US", "PH", "FM", "MH", "PW"})


def date_formats(region: str, explicit: str | None = None) -> list[str]:
    """strptime formats tried in order: the given one, else ISO then the region's order."""
    if explicit:
        return [explicit]
    local = (["%m/%d/%Y", "%m-%d-%Y", "%m.%d.%Y"] if region in _MONTH_FIRST_REGIONS
             else ["%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"])
    return ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", *local]


def parse_dates(values: pl.Series, formats: list[str]) -> pl.Series:
    """Dates from strings (vectorised); an ISO timestamp keeps its date part; null for a
    year Python's dates cannot hold."""
    frame = pl.DataFrame({"v": values.cast(pl.String).str.strip_chars(_ASCII_WS)})
    if "%Y-%m-%d" in formats:
        # Only the ISO date format can read the date part of an ISO timestamp.
        frame = frame.with_columns(
            pl.when(pl.col("v").str.contains(r"^\d{4}-\d{2}-\d{2}[T ]"))
            .then(pl.col("v").str.slice(0, 10)).otherwise(pl.col("v")).alias("v"))
    parsed = within_python_years(
        pl.coalesce([pl.col("v").str.strptime(pl.Date, f, strict=False) for f in formats]))
    return frame.select(parsed.alias(values.name or "date"))[values.name or "date"]


def _per_distinct(values: pl.Series, transform) -> pl.Series:  # type: ignore[no-untyped-def]
    """``transform`` applied once per distinct value: birth dates repeat a lot. When most
    values are distinct (full names), mapping back would cost more than it saves."""
    values = values.cast(pl.String)
    distinct = values.drop_nulls().unique()
    if 2 * len(distinct) > len(values):
        return transform(values)
    mapped = transform(distinct)
    return values.replace_strict(distinct, mapped, default=None, return_dtype=mapped.dtype)


def name_birth_series(names: pl.Series, birth_dates: pl.Series, region: str,
                      date_format: str | None = None,
                      month_first: bool | None = None) -> pl.Series:
    """``<name>\\0<YYYY-MM-DD>`` for rows with both a name and a plausible birth date."""
    name = _per_distinct(names, lambda v: _with_fallback(v, _fast_expr("name", region),
                                                         name_reference))
    born = birth_iso(birth_dates, region, date_format, month_first)
    return pl.DataFrame({"n": name, "d": born}).select(
        (pl.col("n") + pl.lit("\0") + pl.col("d")).alias("name_birth"))["name_birth"]


def birth_iso(birth_dates: pl.Series, region: str, date_format: str | None = None,
              month_first: bool | None = None) -> pl.Series:
    """The composite's birth-date half: ISO dates, null outside the plausible years.
    ``month_first``: as :func:`read_birth_dates` takes it."""
    if date_format is not None and not _TIME_OF_DAY.search(date_format):
        read = parse_times(birth_dates.cast(pl.String), date_format)
        if read is not None:
            # The kernel reads a fixed-width date format: 2.5 ms per 28.5k-row batch of
            # the lab export, where strptime over the distinct values took 5.7-8.1 ms.
            # strptime still reads what the kernel leaves.
            micros, status = read
            days = np.floor_divide(micros, 86_400_000_000)
            earliest, latest = (_days_since_epoch(d) for d in _BIRTH_DAY_RANGE)
            plausible = (status == 1) & (days >= earliest) & (days <= latest)
            iso = pl.from_arrow(pa.array(days.astype(np.int32), mask=~plausible))
            iso = iso.cast(pl.Date).cast(pl.String).alias(birth_dates.name)  # type: ignore[union-attr]
            rest = np.flatnonzero(status == 2)
            if len(rest):
                iso = iso.scatter(rest, _birth_iso_strptime(birth_dates.gather(rest), region,
                                                            date_format, month_first))
            return iso
    return _birth_iso_strptime(birth_dates, region, date_format, month_first)


_TIME_OF_DAY = re.compile(r"%[HMS]")


def _days_since_epoch(day: date) -> int:
    return (day - date(1970, 1, 1)).days


def _birth_iso_strptime(birth_dates: pl.Series, region: str, date_format: str | None,
                        month_first: bool | None = None) -> pl.Series:
    earliest, latest = _BIRTH_DAY_RANGE
    # A Date cast to String is its ISO form, ~3x cheaper than strftime("%Y-%m-%d").
    return _per_distinct(birth_dates, lambda v: pl.DataFrame(
        {"d": read_birth_dates(v, region, date_format, month_first)})
                         .select(pl.when(pl.col("d").is_between(earliest, latest))
                                 .then(pl.col("d").cast(pl.String)))["d"])


#: A time of day that is a whole hour, in UTC: how a date stored as an instant reads.
_UTC_WHOLE_HOUR = r"[T ]\d{1,2}:00(?::00(?:[.,]0+)?)?(?:Z|[+-]00:?00)$"


def read_birth_dates(values: pl.Series, region: str, date_format: str | None,
                     month_first: bool | None = None) -> pl.Series:
    """Birth dates (one column's values): read as :func:`parse_dates` reads them with
    the column's format or the region's, four-digit years only; else in the legacy forms
    the birth-date detector accepts (``legacy_dates``: ``14/03/85`` is 1985, ``14/03/26``
    2026 and ``14/03/27`` 1927 in 2026; ``14-MAR-85``, ``2 mars 1985``, ``14031985``), in
    the day/month order ``month_first`` gives (the one the column's first batch settled:
    ``IdentifierPlan.month_first``), else the format's, else the region's. A whole hour after noon in UTC is
    the next day (:func:`past_noon`): ``1985-03-13T23:00:00.000Z``, a Paris midnight
    stored as an instant, is the 14th.

    Every rule looks at one value alone: the stage reads a column batch by batch (and
    the native kernel leaves it only some rows), so a rule over the values at hand
    would read one value two ways.
    """
    text = values.cast(pl.String).str.strip_chars(_ASCII_WS)
    formatted = parse_dates(values, date_formats(region, date_format))
    read = pl.DataFrame({"v": text, "d": formatted}).select(
        "v", d=pl.when(pl.col("v").str.contains(r"\d{4}")).then("d"))
    if (read["d"].is_null() & (text.str.len_bytes() > 0)).any():
        if month_first is None:
            month_first = (date_format.startswith("%m") if date_format
                           else region in _MONTH_FIRST_REGIONS)
        legacy = legacy_dates(text, date.today().year, month_first, settle_order=False)
        read = read.with_columns(pl.coalesce("d", pl.lit(legacy)))
    stored_instant = pl.col("v").str.contains(_UTC_WHOLE_HOUR)
    next_day = (stored_instant & past_noon(pl.col("v"))).fill_null(False).cast(pl.Int32)
    read = read.with_columns(pl.col("d") + pl.duration(days=next_day))
    return read["d"].alias(values.name or "date")


@cache
def name_letters_table() -> np.ndarray:
    """The Latin letters of the name form for the native kernel: per code point from
    U+00C0 to U+017F, the length of its ASCII form (0: left to the reference) and
    its bytes (``append_name_form`` in triage/_native.c)."""
    table = np.zeros((0x180 - 0xC0, 3), dtype=np.uint8)
    for letter, form in _latin_letters_to_ascii().items():
        if len(form) <= 2:
            table[ord(letter) - 0xC0, 0] = len(form)
            table[ord(letter) - 0xC0, 1:1 + len(form)] = list(form.encode("ascii"))
    return table


def name_birth_one(name: str, birth_date: str, region: str = "FR") -> str | None:
    """The composite for one person (lookup); the birth date must be ISO (YYYY-MM-DD)."""
    try:
        born = date.fromisoformat(birth_date.strip())
    except ValueError:
        raise TriageError("--birth-date must be YYYY-MM-DD") from None
    canonical_name = name_reference(name)
    earliest, latest = _BIRTH_DAY_RANGE
    if canonical_name is None or not earliest <= born <= latest:
        return None
    return f"{canonical_name}\0{born.isoformat()}"
