"""Where the people are: region codes from postcodes, NIRs, ZIP codes and phones, vectorised.

Each function takes a polars ``Expr`` (returns an ``Expr``) or a ``Series`` (returns a
``Series``) of strings and yields region codes, null where the value does not fit.
They run inside the scan's single pass, once per batch, so everything is a polars
expression; only phones call a library, once per distinct prefix, never per row.
:func:`packed_view` gives a view's codes as the scan carries them per person (packed
numbers), from the native kernel where it has the view's rule: the expressions and
packing cost the lab export's pass ~14 ms of CPU per 28k-row batch, the kernel ~1.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TypeVar

import numpy as np
import phonenumbers
import polars as pl

from triage.identity.collector import pack_code, pack_codes
from triage.native import region_codes

CORSE_DU_SUD = "2A"
HAUTE_CORSE = "2B"
BORN_ABROAD = "99"

ExprOrSeries = TypeVar("ExprOrSeries", pl.Expr, pl.Series)

#: The geography views of a summary, with their titles.
GEOGRAPHY_VIEWS = {
    "fr_departement_postcode": "France: département of residence (postcode)",
    "fr_departement_nir": "France: département of birth (NIR)",
    "us_state": "United States: state (ZIP code)",
    "country_phone": "Country of the phone number",
}


def _apply(values: ExprOrSeries, build: Callable[[pl.Expr], pl.Expr]) -> ExprOrSeries:
    """Run an Expr builder on an Expr, or on a Series (keeping its name)."""
    if isinstance(values, pl.Series):
        return pl.select(build(pl.lit(values))).to_series().alias(values.name)
    return build(values)


# Each function reduces a value to the few characters that decide its region with one
# regex extract, then looks them up in a small precomputed table: a hash lookup per row
# instead of a chain of conditions.

def _fr_postcode_expr(postcode: pl.Expr) -> pl.Expr:
    # A 4-digit value is a postcode of départements 01-09 whose leading zero a spreadsheet ate.
    digits = postcode.cast(pl.String).str.strip_chars().str.extract(r"^(\d{4,5})$", 1)
    prefix = digits.str.zfill(5).str.slice(0, 3)
    return prefix.replace_strict(postcode_prefix_departements(), default=None,
                                 return_dtype=pl.String)


@cache
def postcode_prefix_departements() -> dict[str, str]:
    """First three digits of a French postcode -> département code."""
    table = {}
    for prefix in (f"{n:03d}" for n in range(1000)):
        if prefix[:2] == "20":
            # Corsica shares 20: 200xx-201xx are Corse-du-Sud, 202xx-206xx Haute-Corse.
            department = {"0": CORSE_DU_SUD, "1": CORSE_DU_SUD}.get(prefix[2])
            table[prefix] = department or (HAUTE_CORSE if prefix[2] in "23456" else None)
        elif prefix in OVERSEAS:
            table[prefix] = prefix
        elif prefix[:2] in METROPOLITAN_DEPARTEMENTS:
            table[prefix] = prefix[:2]
    return {prefix: code for prefix, code in table.items() if code}


def fr_departement_from_postcode(postcodes: ExprOrSeries) -> ExprOrSeries:
    """French département code of a postcode: ``"56"``, ``"2A"``/``"2B"``, ``"971"``…

    Overseas postcodes (97x, 98x) give their 3-digit territory code; Monaco (980xx),
    unknown prefixes and non-postcodes give null.
    """
    return _apply(postcodes, _fr_postcode_expr)


def _nir_expr(nir: pl.Expr) -> pl.Expr:
    code = nir.cast(pl.String).str.replace_all(r"[\s.\-]", "")
    # sex (1), birth year (2), month (2), département (2, or 3 overseas), commune, order, key:
    # keep the département field and the digit after it (overseas départements use it).
    # A test and a fixed slice cost less than a capturing regex.
    valid = code.str.contains(r"^[1-478]\d{4}(?:\d{3}|2[AaBb]\d)\d{5}(?:\d{2})?$")
    field = pl.when(valid).then(code.str.slice(5, 3))
    return field.replace_strict(nir_field_departements(), default=None, return_dtype=pl.String)


@cache
def nir_field_departements() -> dict[str, str]:
    """NIR characters 6-8 -> birth département (2 characters, or 3 overseas)."""
    births = [*METROPOLITAN_DEPARTEMENTS, CORSE_DU_SUD, HAUTE_CORSE, "20", BORN_ABROAD]
    table = {f"{code}{digit}": code for code in births for digit in "0123456789"}
    table.update({code: code for code in OVERSEAS})
    # Corsica's letters may be written in lower case.
    table.update({field.lower(): code for field, code in table.items() if field[1] in "AB"})
    return table


def fr_departement_from_nir(nirs: ExprOrSeries) -> ExprOrSeries:
    """Birth département from a NIR (positions 6-7): ``"56"``, ``"2A"``, ``"971"``, ``"99"``.

    ``"99"`` means born abroad; ``"20"`` is Corsica before its 1976 split. Spaces,
    dots and dashes inside the NIR are ignored; the check key is not verified here.
    """
    return _apply(nirs, _nir_expr)


def _us_zip_expr(zips: pl.Expr) -> pl.Expr:
    # ZIP+4 keeps its first five digits; four digits lost a leading zero (New England).
    code = zips.cast(pl.String).str.strip_chars()
    digits = pl.coalesce(code.str.extract(r"^(\d{5})(?:-?\d{4})?$", 1),
                         code.str.extract(r"^(\d{4})$", 1))
    return digits.str.zfill(5).str.slice(0, 3).replace_strict(
        zip_prefix_states(), default=None, return_dtype=pl.String)


def us_state_from_zip(zips: ExprOrSeries) -> ExprOrSeries:
    """USPS state (or territory, or military AA/AE/AP) code of a ZIP code, by 3-digit prefix."""
    return _apply(zips, _us_zip_expr)


@cache
def zip_prefix_states() -> dict[str, str]:
    """USPS 3-digit ZIP prefix -> state; prefixes unused inside a state's range count as it."""
    table = {}
    for first, last, state in _ZIP_RANGES:
        for prefix in range(first, last + 1):
            table[f"{prefix:03d}"] = state
    return table


# Calling codes shared by several regions, and how many leading digits (calling code
# included) decide the region; every other calling code belongs to one region.
_SHARED_CODE_PREFIX_DIGITS = {"1": 4, "7": 3, "44": 6, "47": 4, "61": 7, "39": 7, "262": 6,
                              "290": 4, "358": 5, "590": 8, "599": 4, "212": 7}


@cache
def _calling_codes() -> dict[str, tuple[str, ...]]:
    return {str(code): tuple(regions)
            for code, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items()}


def _region_of_number(e164: str) -> str | None:
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return None
    return region if region and region not in ("ZZ", "001") else None


def country_from_phone(phones: ExprOrSeries) -> ExprOrSeries:
    """ISO 3166 region of E.164 phone numbers (``"+33612345678"`` -> ``"FR"``), null if none.

    The calling code gives the region directly when only one region uses it; shared
    codes (+1, +7, +44…) ask phonenumbers once per distinct deciding prefix, using
    one number of that prefix. Numbers not in E.164 form (no ``+``) give null.
    """
    if isinstance(phones, pl.Expr):
        return phones.map_batches(_country_from_phone_series, return_dtype=pl.String)
    return _country_from_phone_series(phones)


def _country_from_phone_series(phones: pl.Series) -> pl.Series:
    digits = phones.cast(pl.String).str.strip_chars().str.replace_all(r"[\s.\-()]", "")
    digits = pl.select(pl.when(digits.str.contains(r"^\+\d{4,15}$")).then(digits.str.slice(1))
                       ).to_series()
    codes = _calling_codes()
    # E.164 calling codes are prefix-free, so at most one of the 1-3 digit prefixes matches.
    calling_code = pl.select(
        pl.when(digits.str.slice(0, 1).is_in(list(codes))).then(digits.str.slice(0, 1))
        .when(digits.str.slice(0, 2).is_in(list(codes))).then(digits.str.slice(0, 2))
        .when(digits.str.slice(0, 3).is_in(list(codes))).then(digits.str.slice(0, 3))
    ).to_series()
    single = {code: regions[0] for code, regions in codes.items()
              if len(regions) == 1 and regions[0] != "001"}
    region = calling_code.replace_strict(single, default=None, return_dtype=pl.String)
    shared = calling_code.is_in([code for code, regions in codes.items() if len(regions) > 1])
    if shared.any():
        frame = pl.DataFrame({"digits": digits, "code": calling_code}).with_row_index()
        frame = frame.filter(shared)
        frame = frame.with_columns(prefix=pl.col("digits").str.slice(
            0, pl.col("code").replace_strict(_SHARED_CODE_PREFIX_DIGITS, default=8,
                                             return_dtype=pl.Int64)))
        representatives = frame.group_by("prefix").agg(pl.col("digits").first())
        prefix_region = {prefix: _region_of_number("+" + number)
                         for prefix, number in representatives.iter_rows()}
        shared_regions = frame.select(
            "index", pl.col("prefix").replace_strict(prefix_region, default=None,
                                                     return_dtype=pl.String))
        region = region.scatter(shared_regions["index"], shared_regions["prefix"])
    return region.alias(phones.name)


METROPOLITAN_DEPARTEMENTS = {
    "01": "Ain", "02": "Aisne", "03": "Allier", "04": "Alpes-de-Haute-Provence",
    "05": "Hautes-Alpes", "06": "Alpes-Maritimes", "07": "Ardèche", "08": "Ardennes",
    "09": "Ariège", "10": "Aube", "11": "Aude", "12": "Aveyron", "13": "Bouches-du-Rhône",
    "14": "Calvados", "15": "Cantal", "16": "Charente", "17": "Charente-Maritime",
    "18": "Cher", "19": "Corrèze", "21": "Côte-d'Or", "22": "Côtes-d'Armor", "23": "Creuse",
    "24": "Dordogne", "25": "Doubs", "26": "Drôme", "27": "Eure", "28": "Eure-et-Loir",
    "29": "Finistère", "30": "Gard", "31": "Haute-Garonne", "32": "Gers", "33": "Gironde",
    "34": "Hérault", "35": "Ille-et-Vilaine", "36": "Indre", "37": "Indre-et-Loire",
    "38": "Isère", "39": "Jura", "40": "Landes", "41": "Loir-et-Cher", "42": "Loire",
    "43": "Haute-Loire", "44": "Loire-Atlantique", "45": "Loiret", "46": "Lot",
    "47": "Lot-et-Garonne", "48": "Lozère", "49": "Maine-et-Loire", "50": "Manche",
    "51": "Marne", "52": "Haute-Marne", "53": "Mayenne", "54": "Meurthe-et-Moselle",
    "55": "Meuse", "56": "Morbihan", "57": "Moselle", "58": "Nièvre", "59": "Nord",
    "60": "Oise", "61": "Orne", "62": "Pas-de-Calais", "63": "Puy-de-Dôme",
    "64": "Pyrénées-Atlantiques", "65": "Hautes-Pyrénées", "66": "Pyrénées-Orientales",
    "67": "Bas-Rhin", "68": "Haut-Rhin", "69": "Rhône", "70": "Haute-Saône",
    "71": "Saône-et-Loire", "72": "Sarthe", "73": "Savoie", "74": "Haute-Savoie",
    "75": "Paris", "76": "Seine-Maritime", "77": "Seine-et-Marne", "78": "Yvelines",
    "79": "Deux-Sèvres", "80": "Somme", "81": "Tarn", "82": "Tarn-et-Garonne", "83": "Var",
    "84": "Vaucluse", "85": "Vendée", "86": "Vienne", "87": "Haute-Vienne", "88": "Vosges",
    "89": "Yonne", "90": "Territoire de Belfort", "91": "Essonne", "92": "Hauts-de-Seine",
    "93": "Seine-Saint-Denis", "94": "Val-de-Marne", "95": "Val-d'Oise",
}
OVERSEAS = {
    "971": "Guadeloupe", "972": "Martinique", "973": "Guyane", "974": "La Réunion",
    "975": "Saint-Pierre-et-Miquelon", "976": "Mayotte", "977": "Saint-Barthélemy",
    "978": "Saint-Martin", "984": "Terres australes et antarctiques françaises",
    "986": "Wallis-et-Futuna", "987": "Polynésie française", "988": "Nouvelle-Calédonie",
}
DEPARTEMENT_NAMES = {**METROPOLITAN_DEPARTEMENTS, **OVERSEAS, CORSE_DU_SUD: "Corse-du-Sud",
                     HAUTE_CORSE: "Haute-Corse", "20": "Corse (before 1976)",
                     BORN_ABROAD: "born abroad"}

# USPS ZIP prefix ranges (first, last, state), from the National Five-Digit ZIP Code
# and Post Office Directory; more specific ranges come after the broad ones they cut.
_ZIP_RANGES = [
    (5, 5, "NY"), (6, 7, "PR"), (8, 8, "VI"), (9, 9, "PR"), (10, 27, "MA"), (28, 29, "RI"),
    (30, 38, "NH"), (39, 49, "ME"), (50, 59, "VT"), (55, 55, "MA"), (60, 69, "CT"),
    (70, 89, "NJ"), (90, 98, "AE"), (100, 149, "NY"), (150, 196, "PA"), (197, 199, "DE"),
    (200, 205, "DC"), (201, 201, "VA"), (206, 219, "MD"), (220, 246, "VA"), (247, 268, "WV"),
    (270, 289, "NC"), (290, 299, "SC"), (300, 319, "GA"), (398, 399, "GA"), (320, 349, "FL"),
    (340, 340, "AA"), (350, 369, "AL"), (370, 385, "TN"), (386, 397, "MS"), (400, 427, "KY"),
    (430, 459, "OH"), (460, 479, "IN"), (480, 499, "MI"), (500, 528, "IA"), (530, 549, "WI"),
    (550, 567, "MN"), (569, 569, "DC"), (570, 577, "SD"), (580, 588, "ND"), (590, 599, "MT"),
    (600, 629, "IL"), (630, 658, "MO"), (660, 679, "KS"), (680, 693, "NE"), (700, 714, "LA"),
    (716, 729, "AR"), (730, 749, "OK"), (733, 733, "TX"), (750, 799, "TX"), (800, 816, "CO"),
    (820, 831, "WY"), (832, 838, "ID"), (840, 847, "UT"), (850, 865, "AZ"), (870, 884, "NM"),
    (885, 885, "TX"), (889, 898, "NV"), (900, 961, "CA"), (962, 966, "AP"), (967, 968, "HI"),
    (969, 969, "GU"), (970, 979, "OR"), (980, 994, "WA"), (995, 999, "AK"),
]

US_STATE_NAMES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan",
    "MN": "Minnesota", "MS": "Mississippi", "MO": "Missouri", "MT": "Montana",
    "NE": "Nebraska", "NV": "Nevada", "NH": "New Hampshire", "NJ": "New Jersey",
    "NM": "New Mexico", "NY": "New York", "NC": "North Carolina", "ND": "North Dakota",
    "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania",
    "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota", "TN": "Tennessee",
    "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington",
    "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming", "PR": "Puerto Rico",
    "VI": "U.S. Virgin Islands", "GU": "Guam", "AA": "Armed Forces Americas",
    "AE": "Armed Forces Europe", "AP": "Armed Forces Pacific",
}


#: The view -> its expression builder, for every view of a summary.
VIEW_BUILDERS: dict[str, Callable[[pl.Expr], pl.Expr]] = {
    "fr_departement_postcode": fr_departement_from_postcode,
    "fr_departement_nir": fr_departement_from_nir,
    "us_state": us_state_from_zip,
    "country_phone": country_from_phone,
}

#: The kernel's rule numbers (``triage_region_codes``), for the views it derives.
_KERNEL_RULES = {"fr_departement_postcode": 1, "us_state": 2, "fr_departement_nir": 3}

#: The characters of a NIR's field the kernel numbers (see nir_field_index in _native.c).
_NIR_MIDDLE = "0123456789ABab"


@cache
def _kernel_table(view: str) -> np.ndarray:
    """The packed code (0: none) of each table index of the kernel's rule for ``view``."""
    if view == "fr_departement_nir":
        fields = [f"{first}{middle}{last}" for first in "0123456789" for middle in _NIR_MIDDLE
                  for last in "0123456789"]
        codes = nir_field_departements()
    else:
        fields = [f"{prefix:03d}" for prefix in range(1000)]
        codes = (postcode_prefix_departements() if view == "fr_departement_postcode"
                 else zip_prefix_states())
    return np.array([pack_code(codes[f]) if f in codes else 0 for f in fields],
                    dtype=np.uint64)


def packed_view(view: str, values: pl.Series) -> pl.Series:
    """The region codes of ``view`` for ``values``, packed as the identity collector
    carries them (:func:`~triage.identity.collector.pack_codes`), null where none.

    The kernel derives the values written in ASCII by the same rules as the view's
    expression; the rest, and every value without the kernel, go through the
    expression (the tests compare both on arbitrary text).
    """
    derived = region_codes(_KERNEL_RULES[view], values, _kernel_table(view)) if (
        view in _KERNEL_RULES and values.dtype == pl.String) else None
    if derived is None:
        return pack_codes(VIEW_BUILDERS[view](values.cast(pl.String)))
    codes, status = derived
    packed = pl.Series(values.name, codes, dtype=pl.UInt64)
    rest = np.flatnonzero(status == 2)
    if len(rest):
        redone = pack_codes(VIEW_BUILDERS[view](values.gather(rest)))
        packed = packed.scatter(rest, redone)
    return packed.set(pl.Series(status == 0) | (packed == 0), None)  # type: ignore[arg-type]
