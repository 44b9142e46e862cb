"""Column generators: one function per kind of value, each building a whole chunk at once.

A seed names a generator and its parameters per column. A generator receives the
:class:`Chunk` (the person id of every row, a per-chunk random generator, pools)
and returns a ``pl.Series`` of strings, composed with numpy and polars vector
operations only. ``level`` says whether the value belongs to the person (then a
null rate hides it for that person in every row) or to the row (a visit, an event).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from synthetic import catalogues
from synthetic.checkdigits import ean13_digit, kvnr_digit, lanr_digit, nir_key
from synthetic.people import Population, day_number, ymd
from synthetic.pools import CANARY_SURNAMES
from synthetic.rand import below, bijection, salt_of, weighted


@dataclass
class Chunk:
    people: Population
    #: Person id of each row (for scenarios without people: the row number).
    pid: np.ndarray
    #: Global row number of each row.
    row: np.ndarray
    rng: np.random.Generator
    spec: dict
    #: Data rows in the whole dump (numbering widths depend on it).
    total_rows: int

    def __post_init__(self) -> None:
        self._memo: dict = {}

    @property
    def n(self) -> int:
        return len(self.pid)

    @property
    def pools(self):
        return self.people.pools

    def memo(self, key, make: Callable):
        """Share one draw between the columns of a row (visit date, lab, analysis)."""
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    def event_day(self) -> np.ndarray:
        """The day of the row's event, never before the person was born."""
        span = self.spec["events"]
        lo, hi = day_number(span["start"]), day_number(span["end"])

        def draw() -> np.ndarray:
            first = np.full(self.n, lo, dtype=np.int64)
            if self.people.count:
                first = np.clip(self.people.birth_day(self.pid), lo, hi)
            return first + (self.rng.random(self.n) * (hi - first + 1)).astype(np.int64)

        return self.memo("event_day", draw)

    def event_seconds(self) -> np.ndarray:
        # Office hours for lab visits and bookings, any time for web events.
        return self.memo("event_seconds", lambda: self.rng.integers(7 * 3600, 19 * 3600, self.n))

    def person_u(self, name: str) -> np.ndarray:
        return self.people.u(self.pid, name)

    def place(self) -> np.ndarray:
        return self.memo("place", lambda: self.people.place(self.pid))

    def condition(self) -> np.ndarray:
        return self.memo("condition", lambda: self.people.condition(self.pid))


Generator = Callable[..., pl.Series]
#: name -> (function, level) where level is "person" or "row".
GENERATORS: dict[str, tuple[Generator, str]] = {}


def generator(name: str, level: str):
    def register(fn: Generator) -> Generator:
        GENERATORS[name] = (fn, level)
        return fn

    return register


# -- formatting helpers ------------------------------------------------------------


def _str(values) -> pl.Series:
    return pl.Series(values).cast(pl.String)


def _zfill(values, width: int) -> pl.Series:
    return pl.Series(np.asarray(values, dtype=np.int64)).cast(pl.String).str.zfill(width)


def _dates(days: np.ndarray, fmt: str) -> pl.Series:
    return (
        pl.Series(np.asarray(days, dtype=np.int32), dtype=pl.Int32).cast(pl.Date).dt.strftime(fmt)
    )


def _datetimes(days: np.ndarray, seconds: np.ndarray, fmt: str) -> pl.Series:
    millis = (np.asarray(days, dtype=np.int64) * 86400 + np.asarray(seconds, dtype=np.int64)) * 1000
    return pl.Series(millis, dtype=pl.Int64).cast(pl.Datetime("ms")).dt.strftime(fmt)


def _cat(*parts) -> pl.Series:
    """Concatenate string literals and Series element-wise (null if any part is null)."""
    return pl.select(pl.concat_str([pl.lit(p) for p in parts])).to_series()


def _where(mask: np.ndarray, yes: pl.Series | str, no: pl.Series | str) -> pl.Series:
    return pl.select(
        pl.when(pl.lit(pl.Series(mask))).then(pl.lit(yes)).otherwise(pl.lit(no))
    ).to_series()


def _decimal(values: np.ndarray, decimals: int, comma: bool) -> pl.Series:
    """Fixed-point text of floats: 1.5 -> '1,50' with two decimals and a comma."""
    scaled = np.round(np.asarray(values) * 10**decimals).astype(np.int64)
    whole = _str(scaled // 10**decimals)
    if decimals == 0:
        return whole
    return _cat(whole, "," if comma else ".", _zfill(scaled % 10**decimals, decimals))


# -- people ------------------------------------------------------------------------


def _serial(ids: np.ndarray, count: int, seed: int, name: str, digits: int) -> pl.Series:
    """Distinct zero-padded numbers for ids < count; wider than ``digits`` when count needs it."""
    width = max(digits, len(str(max(count - 1, 0))))
    return _zfill(bijection(ids, seed, name, 10**width), width)


@generator("person_number", "person")
def person_number(c: Chunk, prefix: str = "", digits: int = 8) -> pl.Series:
    return _cat(prefix, _serial(c.pid, c.people.count, c.people.seed, f"pn{prefix}", digits))


@generator("first_name", "person")
def first_name(c: Chunk, upper: bool = False) -> pl.Series:
    names = c.people.first_name(c.pid)
    return names.str.to_uppercase() if upper else names


@generator("last_name", "person")
def last_name(c: Chunk, upper: bool = False) -> pl.Series:
    names = c.people.last_name(c.pid)
    return names.str.to_uppercase() if upper else names


@generator("birth_name", "person")
def birth_name(c: Chunk, upper: bool = True) -> pl.Series:
    """Maiden name: for about 40 % of women a surname of their own, otherwise empty."""
    regular = len(c.pools.last) - len(CANARY_SURNAMES)
    other = c.pools.last.gather(below(c.pid, salt_of(c.people.seed, "birthname"), regular))
    other = other.str.to_uppercase() if upper else other
    has = c.people.female(c.pid) & (c.person_u("hasbirthname") < 0.4) & (c.pid >= c.people.canaries)
    return _where(has, other, "")


@generator("full_name", "person")
def full_name(c: Chunk, order: str = "first_last") -> pl.Series:
    first, last = c.people.first_name(c.pid), c.people.last_name(c.pid)
    if order == "last_first":
        return _cat(last.str.to_uppercase(), " ", first)
    return _cat(first, " ", last)


_SEX_STYLES = {
    "MF": ("M", "F"),
    "12": ("1", "2"),
    "civility_fr": ("M.", "Mme"),
    "HF": ("H", "F"),
    "gender_en": ("male", "female"),
    "MW": ("M", "W"),
    "anrede_de": ("Herr", "Frau"),
}


@generator("sex", "person")
def sex(c: Chunk, style: str = "MF") -> pl.Series:
    male, female = _SEX_STYLES[style]
    return _where(c.people.female(c.pid), female, male)


@generator("birth_date", "person")
def birth_date(c: Chunk, format: str = "%d/%m/%Y") -> pl.Series:
    return _dates(c.people.birth_day(c.pid), format)


@generator("age", "row")
def age(c: Chunk) -> pl.Series:
    """Age in whole years on the day of the row's event."""
    by, bm, bd = ymd(c.people.birth_day(c.pid))
    ey, em, ed = ymd(c.event_day())
    years = ey - by - ((em < bm) | ((em == bm) & (ed < bd)))
    return _str(np.maximum(years, 0))


@generator("fr_nir", "person")
def fr_nir(c: Chunk) -> pl.Series:
    return c.people.nir_text(c.pid)


@generator("email", "person")
def email(c: Chunk) -> pl.Series:
    return c.people.emails.gather(c.pid)


@generator("email_sha256", "person")
def email_sha256(c: Chunk) -> pl.Series:
    return c.people.email_sha256.gather(c.pid)


def _pairs(national: pl.Series, sep: str) -> pl.Series:
    """'0612345678' -> '06 12 34 56 78' with the given separator."""
    parts = [national.str.slice(i, 2) for i in range(0, 10, 2)]
    return pl.select(pl.concat_str([pl.lit(p) for p in parts], separator=sep)).to_series()


@generator("phone", "person")
def phone(c: Chunk, kind: str = "mobile", country: str = "fr", style: str = "spaced") -> pl.Series:
    """A distinct number per person (a bijection of the id), in the country's usual format."""
    seed = c.people.seed
    serial = bijection(c.pid, seed, f"phone-{kind}-{country}", 10**8 if country == "fr" else 10**7)
    if country == "fr":
        if kind == "mobile":
            lead = np.where(c.person_u("mobile07") < 0.3, 7, 6)
        else:
            lead = c.pools.places["zone"].gather(c.place()).to_numpy()
        national = _cat("0", _str(lead), _zfill(serial, 8))
        return (
            national if style == "compact" else _pairs(national, "." if style == "dotted" else " ")
        )
    if country == "us":
        # Exchange 555-01xx is reserved for fiction; use real-looking area codes, line from the id.
        area = np.array([212, 305, 312, 415, 512, 617, 704, 713, 818, 919])[
            below(c.pid, salt_of(seed, "area"), 10)
        ]
        exchange = 200 + serial // 10**4 % 800
        return _cat("(", _str(area), ") ", _str(exchange), "-", _zfill(serial % 10**4, 4))
    if country == "gb":
        return _cat(
            "+44 7",
            _zfill(serial // 10**4 % 1000, 3),
            " ",
            _zfill(serial % 10**4 * 100 + serial // 10**6 % 100, 6),
        )
    if country == "de":
        prefix = np.array([151, 160, 170, 171, 176, 1511, 1575, 162])[
            below(c.pid, salt_of(seed, "dep"), 8)
        ]
        return _cat("+49 ", _str(prefix), " ", _zfill(serial, 7))
    raise ValueError(f"no phone format for country {country!r}")


@generator("street_address", "person")
def street_address(c: Chunk) -> pl.Series:
    number = below(c.pid, salt_of(c.people.seed, "houseno"), 140) + 1
    street = c.pools.streets.gather(
        below(c.pid, salt_of(c.people.seed, "street"), len(c.pools.streets))
    )
    if c.spec["native_locale"] == "de":
        return _cat(street, " ", _str(number))
    return _cat(_str(number), " ", street)


@generator("address_complement", "person")
def address_complement(c: Chunk) -> pl.Series:
    kind = below(c.pid, salt_of(c.people.seed, "complement"), 4)
    number = _str(below(c.pid, salt_of(c.people.seed, "apt"), 60) + 1)
    forms = [
        _cat("Bât ", _str(np.array(list("ABCDEF"))[kind % 6])),
        _cat("Appt ", number),
        _cat("Résidence les Pins, appt ", number),
        pl.Series([""] * c.n),
    ]
    out = forms[3]
    for i in range(3):
        out = _where(kind == i, forms[i], out)
    return out


@generator("postcode", "person")
def postcode(c: Chunk) -> pl.Series:
    return c.pools.places["postcode"].gather(c.place())


@generator("city", "person")
def city(c: Chunk, upper: bool = False) -> pl.Series:
    names = c.pools.places["city"].gather(c.place())
    return names.str.to_uppercase() if upper else names


@generator("region", "person")
def region(c: Chunk) -> pl.Series:
    return c.pools.places["region"].gather(c.place())


@generator("blood_group", "person")
def blood_group(c: Chunk) -> pl.Series:
    idx = weighted(c.person_u("blood"), catalogues.BLOOD_GROUP_SHARES)
    return pl.Series(catalogues.BLOOD_GROUPS).gather(idx)


def _treating_doctor(c: Chunk) -> np.ndarray:
    return c.memo(
        "doctor", lambda: below(c.pid, salt_of(c.people.seed, "doctor"), c.pools.doctors.height)
    )


@generator("doctor_name", "person")
def doctor_name(c: Chunk) -> pl.Series:
    return c.pools.doctors["name"].gather(_treating_doctor(c))


@generator("doctor_id", "person")
def doctor_id(c: Chunk, scheme: str = "rpps") -> pl.Series:
    return c.pools.doctors[scheme].gather(_treating_doctor(c))


def _prescriber(c: Chunk) -> np.ndarray:
    """Who ordered this visit: the treating doctor seven times in ten, else another one."""

    def draw():
        other = c.rng.integers(0, c.pools.doctors.height, c.n)
        return np.where(c.rng.random(c.n) < 0.7, _treating_doctor(c), other)

    return c.memo("prescriber", draw)


@generator("prescriber_name", "row")
def prescriber_name(c: Chunk) -> pl.Series:
    return c.pools.doctors["name"].gather(_prescriber(c))


@generator("prescriber_id", "row")
def prescriber_id(c: Chunk, scheme: str = "rpps") -> pl.Series:
    return c.pools.doctors[scheme].gather(_prescriber(c))


@generator("practitioner_street", "row")
def practitioner_street(c: Chunk) -> pl.Series:
    return c.pools.doctors["street"].gather(_prescriber(c))


@generator("practitioner_postcode", "row")
def practitioner_postcode(c: Chunk) -> pl.Series:
    return c.pools.doctors["postcode"].gather(_prescriber(c))


@generator("practitioner_city", "row")
def practitioner_city(c: Chunk) -> pl.Series:
    return c.pools.doctors["city"].gather(_prescriber(c))


@generator("condition_icd10", "person")
def condition_icd10(c: Chunk) -> pl.Series:
    codes = pl.Series([cond["icd10"] or "" for cond in catalogues.CONDITIONS])
    return codes.gather(c.condition())


@generator("condition_label", "person")
def condition_label(c: Chunk, lang: str = "fr") -> pl.Series:
    labels = catalogues.ICD10_BY_LANG[lang]
    return pl.Series([labels.get(cond["icd10"], "") for cond in catalogues.CONDITIONS]).gather(
        c.condition()
    )


@generator("medication", "person")
def medication(c: Chunk, lang: str = "fr") -> pl.Series:
    names = catalogues.MEDICATION_EXTRA.get(lang, {})
    drugs = [cond["medication"] or "" for cond in catalogues.CONDITIONS]
    return pl.Series([names.get(d, d) for d in drugs]).gather(c.condition())


@generator("health_comment", "row")
def health_comment(c: Chunk, lang: str = "fr", mention_rate: float = 0.6) -> pl.Series:
    """A free-text note: about the person's condition at ``mention_rate`` of rows, else routine."""
    texts, offsets = [], []
    for cond in catalogues.CONDITIONS:
        offsets.append(len(texts))
        texts.extend(cond["notes"][lang])
    sizes = np.array([len(cond["notes"][lang]) for cond in catalogues.CONDITIONS])
    cond = c.condition()
    mention = c.rng.random(c.n) < mention_rate
    chosen = np.where(mention, cond, 0)
    idx = np.array(offsets)[chosen] + (c.rng.random(c.n) * sizes[chosen]).astype(np.int64)
    return pl.Series(texts).gather(idx)


@generator("ssn", "person")
def ssn(c: Chunk) -> pl.Series:
    """US SSNs valid under SSA rules: area 001-899 but 666, group 01-99, serial 0001-9999."""
    n = bijection(c.pid, c.people.seed, "ssn", 898 * 99 * 9999)
    area, rest = n // (99 * 9999), n % (99 * 9999)
    area = area + 1
    area = np.where(area >= 666, area + 1, area)  # skip 666, reaching 899 at most
    group, serial = rest // 9999 + 1, rest % 9999 + 1
    return _cat(_zfill(area, 3), "-", _zfill(group, 2), "-", _zfill(serial, 4))


@generator("kvnr", "person")
def kvnr(c: Chunk) -> pl.Series:
    """German health-insurance number: letter, 8 digits, check digit; distinct per person."""
    n = bijection(c.pid, c.people.seed, "kvnr", 26 * 10**8)
    letter, serial = n // 10**8, n % 10**8
    check = kvnr_digit(letter, serial)
    letters = pl.Series(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ")).gather(letter)
    return _cat(letters, _zfill(serial, 8), _str(check))


@generator("insurer", "person")
def insurer(c: Chunk, field: str = "name") -> pl.Series:
    idx = below(c.pid, salt_of(c.people.seed, "insurer"), len(catalogues.DE_KRANKENKASSEN))
    return pl.Series([k[0 if field == "name" else 1] for k in catalogues.DE_KRANKENKASSEN]).gather(
        idx
    )


@generator("lanr", "person")
def lanr(c: Chunk) -> pl.Series:
    """The treating doctor's LANR: 6 digits, a check digit, 2 specialty digits."""
    first6 = 100000 + bijection(_treating_doctor(c), c.people.seed, "lanr", 900000)
    return _cat(_str(first6), _str(lanr_digit(first6)), "01")


@generator("ethnicity", "person")
def ethnicity(c: Chunk) -> pl.Series:
    idx = weighted(c.person_u("ethnicity"), catalogues.US_ETHNICITY_SHARES)
    return pl.Series(catalogues.US_ETHNICITY).gather(idx)


@generator("ip_address", "person")
def ip_address(c: Chunk, v6_share: float = 0.3) -> pl.Series:
    seed = c.people.seed
    # Distinct low 24 bits per person, under first octets of public consumer ISP ranges.
    v4 = bijection(c.pid, seed, "ipv4", 2**24)
    first = np.array([24, 47, 50, 67, 68, 71, 73, 76, 98, 99, 107, 108, 174])
    v4_text = _cat(
        _str(first[below(c.pid, salt_of(seed, "net"), len(first))]),
        ".",
        _str(v4 >> 16 & 255),
        ".",
        _str(v4 >> 8 & 255),
        ".",
        _str(v4 & 255),
    )
    groups = [
        _hex(below(c.pid, salt_of(seed, f"v6{i}"), 65536))
        .str.strip_chars_start("0")
        .replace("", "0")
        for i in range(4)
    ]
    # 2601::/16 is a large US consumer ISP's allocation.
    v6_text = _cat(
        "2601:",
        groups[0],
        ":",
        groups[1],
        "::",
        groups[2],
        ":",
        groups[3],
    )
    return _where(c.person_u("v6") < v6_share, v6_text, v4_text)


def _hex(values: np.ndarray) -> pl.Series:
    """Four lower-case hex digits per value in [0, 65536)."""
    digits = pl.Series(list("0123456789abcdef"))
    return _cat(*(digits.gather(values >> shift & 15) for shift in (12, 8, 4, 0)))


@generator("cookie_id", "person")
def cookie_id(c: Chunk) -> pl.Series:
    """A Meta-style first-party cookie: fb.1.<creation ms>.<random>."""
    created = 1_500_000_000_000 + below(c.pid, salt_of(c.people.seed, "cookiets"), 10**11)
    return _cat(
        "fb.1.", _str(created), ".", _str(bijection(c.pid, c.people.seed, "cookie", 10**10))
    )


@generator("uuid", "person")
def uuid(c: Chunk, name: str = "adid") -> pl.Series:
    seed = c.people.seed
    h = [_hex(below(c.pid, salt_of(seed, f"{name}{i}"), 65536)) for i in range(8)]
    # Version-4 layout; the bijection in the last group keeps two people apart.
    tail = _zfill(bijection(c.pid, seed, name, 10**8), 8)
    return _cat(
        h[0], h[1], "-", h[2], "-4", h[3].str.slice(1), "-a", h[4].str.slice(1), "-", h[5], tail
    )


# -- rows --------------------------------------------------------------------------


@generator("row_number", "row")
def row_number(c: Chunk, prefix: str = "", digits: int = 9) -> pl.Series:
    return _cat(prefix, _serial(c.row, c.total_rows, c.people.seed, f"rn{prefix}", digits))


@generator("event_date", "row")
def event_date(
    c: Chunk, format: str = "%d/%m/%Y", lag_days: int = 0, time: bool = False
) -> pl.Series:
    """The row's event day (visit, appointment) shifted by 0..lag_days, with a time if asked."""
    day = c.event_day()
    if lag_days:
        day = day + c.rng.integers(0, lag_days + 1, c.n)
    if time:
        seconds = c.event_seconds() + (c.rng.integers(0, 3600 * lag_days, c.n) if lag_days else 0)
        return _datetimes(day, seconds % 86400, format)
    return _dates(day, format)


@generator("timestamp_iso", "row")
def timestamp_iso(c: Chunk) -> pl.Series:
    """Web-event time in ISO 8601 UTC with milliseconds."""
    seconds = c.memo("event_seconds_any", lambda: c.rng.integers(0, 86400, c.n))
    millis = c.rng.integers(0, 1000, c.n)
    return _cat(
        _datetimes(c.event_day(), seconds, "%Y-%m-%dT%H:%M:%S"), ".", _zfill(millis, 3), "Z"
    )


@generator("choice", "row")
def choice(c: Chunk, values: list[str], weights: list[float] | None = None) -> pl.Series:
    idx = weighted(c.rng.random(c.n), weights or [1.0] * len(values))
    return pl.Series(values, dtype=pl.String).gather(idx)


@generator("constant", "row")
def constant(c: Chunk, value: str) -> pl.Series:
    return pl.Series([value] * c.n, dtype=pl.String)


@generator("integer", "row")
def integer(c: Chunk, low: int, high: int) -> pl.Series:
    return _str(c.rng.integers(low, high + 1, c.n))


@generator("decimal", "row")
def decimal(c: Chunk, low: float, high: float, decimals: int = 2, comma: bool = False) -> pl.Series:
    return _decimal(c.rng.uniform(low, high, c.n), decimals, comma)


def _lab(c: Chunk) -> np.ndarray:
    """The lab of the visit: nine times in ten one in the patient's own département."""

    def draw():
        labs = c.pools.labs
        regions = c.pools.places["region"].to_numpy()
        region_names, region_of_place = np.unique(regions, return_inverse=True)
        lab_region = region_of_place[labs["place"].to_numpy()]
        # Table of the labs of each region, padded; count of labs per region.
        counts = np.bincount(lab_region, minlength=len(region_names))
        table = np.zeros((len(region_names), max(1, counts.max())), dtype=np.int64)
        for r in range(len(region_names)):
            members = np.flatnonzero(lab_region == r)
            table[r, : members.size] = members
        home = region_of_place[c.place()]
        pick = (c.rng.random(c.n) * np.maximum(counts[home], 1)).astype(np.int64)
        local = table[home, pick]
        anywhere = c.rng.integers(0, labs.height, c.n)
        return np.where((counts[home] > 0) & (c.rng.random(c.n) < 0.9), local, anywhere)

    return c.memo("lab", draw)


@generator("lab", "row")
def lab(c: Chunk, field: str = "name") -> pl.Series:
    return c.pools.labs[field].gather(_lab(c))


def _analysis(c: Chunk) -> np.ndarray:
    return c.memo("analysis", lambda: c.rng.integers(0, len(catalogues.FR_ANALYSES), c.n))


@generator("analysis", "row")
def analysis(c: Chunk, field: str = "code") -> pl.Series:
    idx = _analysis(c)
    if field == "nabm":
        return pl.Series(catalogues.FR_NABM).gather(idx)
    column = {"code": 0, "label": 1, "unit": 2}[field]
    return pl.Series([a[column] for a in catalogues.FR_ANALYSES]).gather(idx)


def _result_values(c: Chunk) -> np.ndarray:
    def draw():
        table = catalogues.FR_ANALYSES
        low = np.array([a[3] for a in table])[_analysis(c)]
        high = np.array([a[4] for a in table])[_analysis(c)]
        # Mostly inside the reference range, about one in six outside it.
        return np.maximum(low + (high - low) * c.rng.normal(0.5, 0.35, c.n), 0)

    return c.memo("result", draw)


@generator("analysis_result", "row")
def analysis_result(c: Chunk, comma: bool = True) -> pl.Series:
    values = _result_values(c)
    decimals = np.array([a[5] for a in catalogues.FR_ANALYSES])[_analysis(c)]
    out = _decimal(values, 0, comma)
    for d in (1, 2):
        out = _where(decimals == d, _decimal(values, d, comma), out)
    return out


@generator("analysis_reference", "row")
def analysis_reference(c: Chunk, bound: str = "low", comma: bool = True) -> pl.Series:
    column = 3 if bound == "low" else 4
    table = catalogues.FR_ANALYSES
    texts = [f"{a[column]:.{a[5]}f}".replace(".", "," if comma else ".") for a in table]
    return pl.Series(texts).gather(_analysis(c))


@generator("analysis_flag", "row")
def analysis_flag(c: Chunk) -> pl.Series:
    table = catalogues.FR_ANALYSES
    idx = _analysis(c)
    values = _result_values(c)
    low, high = np.array([a[3] for a in table])[idx], np.array([a[4] for a in table])[idx]
    return _where(values < low, "B", _where(values > high, "H", "N"))


@generator("version_string", "row")
def version_string(c: Chunk, parts: int = 4) -> pl.Series:
    pieces = [_str(c.rng.integers(0, 12 if i < 2 else 40, c.n)) for i in range(parts)]
    out = pieces[0]
    for p in pieces[1:]:
        out = _cat(out, ".", p)
    return out


@generator("ean13", "row")
def ean13(c: Chunk) -> pl.Series:
    first12 = 300_000_000_000 + c.rng.integers(0, 10**11 * 6, c.n)
    return _zfill(first12 * 10 + ean13_digit(first12), 13)


@generator("sku", "row")
def sku(c: Chunk) -> pl.Series:
    letters = pl.Series(list("ABCDEFGHJKLMNPRSTVWXZ"))
    a = letters.gather(c.rng.integers(0, 21, c.n))
    b = letters.gather(c.rng.integers(0, 21, c.n))
    return _cat("SKU-", a, b, "-", _zfill(c.rng.integers(0, 10**5, c.n), 5))


@generator("batch_number", "row")
def batch_number(c: Chunk) -> pl.Series:
    """15-digit lot numbers shaped like an NIR (starting 1 or 2) that FAIL its key."""
    first13 = c.rng.integers(1, 3, c.n) * 10**12 + c.rng.integers(0, 10**12, c.n)
    good = nir_key(first13)
    wrong = (good - 1 + c.rng.integers(1, 97, c.n)) % 97 + 1
    return _cat(_zfill(first13, 13), _zfill(wrong, 2))


@generator("pool", "row")
def pool(c: Chunk, name: str) -> pl.Series:
    """A value from a Faker-drawn pool (user agents, company names)."""
    values = c.pools.extra[name]
    return values.gather(c.rng.integers(0, len(values), c.n))


@generator("catalogue", "row")
def catalogue(c: Chunk, name: str, lang: str | None = None) -> pl.Series:
    """A value from a fixed list in :mod:`synthetic.catalogues` (procedures, reasons…)."""
    values = getattr(catalogues, name)
    if isinstance(values, dict):
        values = values[lang]
    return pl.Series(values).gather(c.rng.integers(0, len(values), c.n))


@generator("search_url", "row")
def search_url(c: Chunk, host: str = "www.example-health.com") -> pl.Series:
    """A page URL; on search pages the query string carries what the member typed."""
    terms = pl.Series(catalogues.HEALTH_SEARCHES).gather(
        c.rng.integers(0, len(catalogues.HEALTH_SEARCHES), c.n)
    )
    page = pl.Series(catalogues.PIXEL_PAGES).gather(
        c.rng.integers(0, len(catalogues.PIXEL_PAGES), c.n)
    )
    search = _cat(
        f"https://{host}/search?q=",
        terms.str.replace_all(" ", "+"),
        "&zip=",
        c.pools.places["postcode"].gather(c.place()),
    )
    return _where(c.rng.random(c.n) < 0.45, search, _cat(f"https://{host}", page))


@generator("media_path", "row")
def media_path(c: Chunk, kind: str = "before", bucket: str = "clinic-media") -> pl.Series:
    ext = {"before": ".jpg", "after": ".jpg", "video": ".mp4", "scan": ".obj"}[kind]
    # The same number as person_number(prefix="PT", digits=6): paths name the patient file.
    patient = _serial(c.pid, c.people.count, c.people.seed, "pnPT", 6)
    shot = _zfill(c.rng.integers(1, 20, c.n), 2)
    return _cat(f"s3://{bucket}/patients/", patient, f"/{kind}_", shot, ext)


@generator("money", "row")
def money(c: Chunk, low: float, high: float, comma: bool = False) -> pl.Series:
    return _decimal(np.round(c.rng.uniform(low, high, c.n), 0), 2, comma)
