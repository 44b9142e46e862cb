"""Region codes from postcodes, NIRs, ZIP codes and phones: vectorised, per batch."""

from __future__ import annotations

import random
import time

import numpy as np
import phonenumbers
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.identity.collector import pack_code
from triage.native import native_kernel, region_codes
from triage.report.geography import (
    country_from_phone,
    fr_departement_from_nir,
    fr_departement_from_postcode,
    packed_view,
    us_state_from_zip,
)

needs_native = pytest.mark.skipif(native_kernel() is None, reason="no C compiler here")

POSTCODES = [
    ("56000", "56"), ("27000", "27"), ("75001", "75"), (" 45000 ", "45"),
    ("20000", "2A"), ("20137", "2A"), ("20167", "2A"),          # Ajaccio, Porto-Vecchio
    ("20200", "2B"), ("20600", "2B"), ("20290", "2B"),          # Bastia, Furiani, Borgo
    ("97100", "971"), ("97200", "972"), ("97300", "973"), ("97400", "974"), ("97600", "976"),
    ("98800", "988"), ("1000", "01"),                           # a spreadsheet ate the 0
    ("98000", None),                                            # Monaco
    ("96000", None), ("00100", None), ("5600", "05"), ("560000", None), ("ABCDE", None),
    ("", None), (None, None),
]


def test_departement_from_postcode() -> None:
    values = pl.Series("postcode", [value for value, _ in POSTCODES])
    result = fr_departement_from_postcode(values)
    assert result.name == "postcode"
    assert result.to_list() == [expected for _, expected in POSTCODES]


def test_expr_and_series_agree() -> None:
    frame = pl.DataFrame({"cp": [value for value, _ in POSTCODES]})
    from_expr = frame.select(fr_departement_from_postcode(pl.col("cp"))).to_series()
    assert from_expr.to_list() == fr_departement_from_postcode(frame["cp"]).to_list()


NIRS = [
    ("185055600608436", "56"),             # born in Morbihan
    ("2 85 05 2A 006 084 36", "2A"),       # Corse-du-Sud, written with spaces
    ("2 85 05 2a 006 084 36", "2A"),       # the letter in lower case
    ("1850520B00608436", None),            # 16 characters: not a NIR
    ("18505 2B 006 084", "2B"),            # without its key
    ("1 72 03 20 006 084", "20"),          # Corsica before 1976
    ("185059906008436", "99"),             # born abroad
    ("1850597106008 36", "971"),           # Guadeloupe: 3-digit département, 2-digit commune
    ("2-91-12-974-12-345-67", "974"),
    ("9850556006084", None),               # sex digit 9 does not exist
    ("18505", None), ("", None), (None, None),
]


def test_departement_from_nir_birth_field() -> None:
    values = pl.Series([value for value, _ in NIRS], dtype=pl.String)
    assert fr_departement_from_nir(values).to_list() == [expected for _, expected in NIRS]


ZIPS = [("10001", "NY"), ("02139", "MA"), ("2139", "MA"), ("94105-1234", "CA"), ("941051234", "CA"),
        ("00501", "NY"), ("00901", "PR"), ("20500", "DC"), ("33101", "FL"), ("73301", "TX"),
        ("96910", "GU"), ("96813", "HI"), ("99501", "AK"), ("09012", "AE"), ("00001", None),
        ("ABCDE", None), (None, None)]


def test_state_from_zip() -> None:
    values = pl.Series([value for value, _ in ZIPS], dtype=pl.String)
    assert us_state_from_zip(values).to_list() == [expected for _, expected in ZIPS]


def _example_numbers() -> list[str]:
    numbers = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                numbers.append(phonenumbers.format_number(example,
                                                          phonenumbers.PhoneNumberFormat.E164))
    return numbers


def test_country_from_phone_matches_phonenumbers_per_number() -> None:
    numbers = _example_numbers() + ["0612345678", "+999", "", None, "+800 1234 5678"]
    result = country_from_phone(pl.Series("tel", numbers, dtype=pl.String))
    expected = []
    for number in numbers:
        region = None
        if number and number.startswith("+"):
            try:
                region = phonenumbers.region_code_for_number(phonenumbers.parse(number, None))
            except phonenumbers.NumberParseException:
                pass
        expected.append(region if region not in ("ZZ", "001") else None)
    assert result.name == "tel"
    mismatches = [(number, got, want) for number, got, want
                  in zip(numbers, result.to_list(), expected, strict=True) if got != want]
    assert mismatches == []


def test_country_from_phone_as_an_expression() -> None:
    frame = pl.DataFrame({"tel": ["+33612345678", "+14165550123", None]})
    assert frame.select(country_from_phone(pl.col("tel")))["tel"].to_list() == ["FR", "CA", None]


def test_country_from_phone_does_not_call_phonenumbers_per_row() -> None:
    rng = random.Random(3)
    numbers = [f"+336{rng.randrange(10**8):08d}" for _ in range(150_000)]
    numbers += [f"+1{rng.choice(['202', '416', '212', '604'])}555{rng.randrange(10**4):04d}"
                for _ in range(150_000)]
    series = pl.Series(numbers)
    started = time.perf_counter()
    result = country_from_phone(series)
    elapsed = time.perf_counter() - started
    assert (result == "FR").sum() == 150_000
    assert set(result.unique().to_list()) == {"FR", "US", "CA"}
    assert elapsed < 3.0, f"{elapsed:.2f}s for 300,000 numbers"


# The scan's packed views: the kernel derives ASCII values by the expressions' rules.
_VIEW_CASES = {"fr_departement_postcode": POSTCODES, "fr_departement_nir": NIRS,
               "us_state": ZIPS}
_VIEWS = {"fr_departement_postcode": fr_departement_from_postcode,
          "fr_departement_nir": fr_departement_from_nir, "us_state": us_state_from_zip}


@pytest.mark.parametrize("view", sorted(_VIEW_CASES))
def test_packed_view_is_the_packed_expression(view: str) -> None:
    values = pl.Series([value for value, _ in _VIEW_CASES[view]], dtype=pl.String)
    expected = [None if code is None else pack_code(code) for _, code in _VIEW_CASES[view]]
    assert packed_view(view, values).to_list() == expected


_PIECES = st.sampled_from(["1", "2", "4", "7", "9", "0", "5", "85", "056", "2A", "2b", "2C",
                           "A", "971", "20", " ", "\t", ".", "-", "\u00a0", "\u2003", "٣",
                           "\x1c", "é", "\n", "1234", "-1234"])


_DIGITS = st.text("0123456789", min_size=1, max_size=6)
_SEPARATOR = st.sampled_from(["", "", "", " ", ".", "-", "\u00a0"])
# Near-NIRs: a sex digit, year and month, a birth field, more digits, separators anywhere.
_NIR_LIKE = st.lists(st.one_of(st.sampled_from("12347895"), _DIGITS, _SEPARATOR,
                               st.sampled_from(["056", "2A0", "2b3", "2C1", "971", "990"])),
                     min_size=3, max_size=9).map("".join)
# NIR-shaped: the right groups, each of which may be off (a wrong sex digit, a letter
# where only Corsica has one, one digit too many or too few at the end).
_NIR_SHAPED = st.tuples(
    st.sampled_from("123456789"), st.text("0123456789", min_size=4, max_size=4),
    st.sampled_from(["056", "2A0", "2b3", "2C1", "3A1", "971", "990", "200"]),
    st.text("0123456789", min_size=4, max_size=8), _SEPARATOR, _SEPARATOR,
).map(lambda p: p[0] + p[4] + p[1] + p[2] + p[5] + p[3])
_TEXT = st.none() | st.lists(_PIECES, max_size=12).map("".join) | _NIR_LIKE | _NIR_SHAPED


@needs_native
@pytest.mark.parametrize("view", sorted(_VIEW_CASES))
@settings(max_examples=300, deadline=None)
@given(values=st.lists(_TEXT, max_size=40))
def test_the_kernel_derives_what_the_expression_does(view: str, values: list) -> None:
    series = pl.Series(values, dtype=pl.String)
    expression = _VIEWS[view](series)
    expected = [None if code is None else pack_code(code) for code in expression.to_list()]
    assert packed_view(view, series).to_list() == expected


@needs_native
def test_the_kernel_takes_plain_values_and_leaves_the_rest_to_the_expression() -> None:
    # Unicode whitespace and digits are the expression's to judge, not the kernel's.
    values = pl.Series(["56000", "\u00a056000", "٥٦٠٠٠", None], dtype=pl.String)
    _codes, status = region_codes(1, values, np.zeros(1000, dtype=np.uint64))
    assert status.tolist() == [1, 2, 2, 0]


@needs_native
@pytest.mark.parametrize("view", sorted(_VIEW_CASES))
def test_packed_view_of_a_slice_reads_its_own_rows(view: str) -> None:
    # A batch's column may start part-way into its buffers (an offset, and a validity
    # bitmap that does not start at bit 0): the kernel reads from there.
    values = pl.Series([value for value, _ in _VIEW_CASES[view]] * 3, dtype=pl.String)
    for start in (1, 5, 9):
        part = values.slice(start, len(values) - start - 2)
        expected = [None if code is None else pack_code(code)
                    for code in _VIEWS[view](part).to_list()]
        assert packed_view(view, part).to_list() == expected
