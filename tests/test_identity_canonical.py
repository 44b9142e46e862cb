"""Canonical forms: the variant table in schemas/, and the fast paths agreeing with the references."""

from __future__ import annotations

import phonenumbers
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_identity_support import written_times

from triage.identity.canonical import (
    FORMS,
    NATIVE_FORMS,
    Canonicaliser,
    _fast_expr,
    _phone_fast,
    _with_fallback,
    email_reference,
    id_reference,
    name_birth_one,
    name_birth_series,
    name_reference,
    phone_reference,
)
from triage.identity.digest import KeyedHasher, hmac_prefix
from triage.native import native_kernel
from triage.resources import load_schema

TABLE = load_schema("canonical-forms.json")["forms"]


def _canonical(kind: str, inputs: list, region: str) -> list:
    if kind == "name_birth":
        return name_birth_series(pl.Series([i[0] for i in inputs], dtype=pl.String),
                                 pl.Series([i[1] for i in inputs], dtype=pl.String),
                                 region).to_list()
    return Canonicaliser(kind, region).series(pl.Series(inputs, dtype=pl.String)).to_list()


def test_every_form_is_documented_with_its_version():
    assert {kind: form["version"] for kind, form in TABLE.items()} == FORMS


@pytest.mark.parametrize("kind", sorted(FORMS))
def test_variants_in_the_table_agree(kind):
    for group in TABLE[kind]["agree"]:
        got = _canonical(kind, group["inputs"], group.get("region", "FR"))
        assert got == [group["canonical"]] * len(group["inputs"]), group["inputs"]


@pytest.mark.parametrize("kind", sorted(FORMS))
def test_invalid_values_in_the_table_have_no_form(kind):
    assert _canonical(kind, TABLE[kind]["invalid"], "FR") == [None] * len(TABLE[kind]["invalid"])


def test_name_lookup_form_equals_the_indexed_form():
    assert name_birth_one("Hélène Le-Goff", "1985-03-12") == "helenelegoff\x001985-03-12"
    assert name_birth_one("Hélène Le-Goff", "1700-03-12") is None


@pytest.mark.parametrize("kind", ["email", "phone", "national_id", "health_insurance_id"])
def test_one_value_form_equals_the_batch_form(kind):
    for group in TABLE[kind]["agree"]:
        canonicaliser = Canonicaliser(kind, group.get("region", "FR"))
        assert [canonicaliser.one(v) for v in group["inputs"]] == _canonical(
            kind, group["inputs"], group.get("region", "FR"))


# Alphabets that mix the plain subset with the characters that must leave it.
_TRICKY = "é\u00a0\x1c\x0bＡｊİıßŒſŉ\u0301\u2013’"
_EMAIL_CHARS = st.text(alphabet="abcXYZ09.@-_+ \téÉÿßÀ×" + _TRICKY, max_size=24)
_ID_CHARS = st.text(alphabet="0123456789abAB -./:_`\t" + _TRICKY, max_size=20)
_NAME_CHARS = st.text(alphabet="abcJEANÉéèçôÿÀÖØøĳĲŁłž -'." + _TRICKY, max_size=20)


@st.composite
def _emails(draw) -> str:  # type: ignore[no-untyped-def]
    """Mostly well-formed addresses (random text rarely is one), some with a tricky
    character, case and spacing varied: valid forms are what the fast paths must get right."""
    local = draw(st.text(alphabet="abcXYZ09._-+éÉÿßÀÖØÞ×", min_size=1, max_size=8))
    label = st.text(alphabet="abcXYZ09-éÉ", min_size=1, max_size=6)
    labels = draw(st.lists(label, min_size=1, max_size=3))
    spacing = st.sampled_from(["", " ", "\t", "\r\n", "\x0b", "\u00a0"])
    value = draw(spacing) + local + "@" + ".".join(labels) + draw(spacing)
    if draw(st.booleans()):
        at = draw(st.integers(min_value=0, max_value=len(value)))
        value = value[:at] + draw(st.sampled_from(list(_TRICKY + "@. \t\n"))) + value[at:]
    return value


@st.composite
def _ids(draw) -> str:  # type: ignore[no-untyped-def]
    """Mostly valid ids written with separators, spacing and case varied."""
    characters = draw(st.lists(st.sampled_from(list("0123456789abAB")), min_size=3,
                               max_size=15))
    separators = draw(st.lists(st.sampled_from(["", "", " ", "-", ".", "/", ":", "_", "`"]),
                               min_size=len(characters), max_size=len(characters)))
    spacing = st.sampled_from(["", " ", "\t", "\n", "\x0c", "\x1c", "\u00a0"])
    value = "".join(c + sep for c, sep in zip(characters, separators, strict=True))
    value = draw(spacing) + value + draw(spacing)
    if draw(st.integers(min_value=0, max_value=4)) == 0:
        at = draw(st.integers(min_value=0, max_value=len(value)))
        value = value[:at] + draw(st.sampled_from(list(_TRICKY))) + value[at:]
    return value


def _agrees(kind: str, values: list[str], reference, region: str = "FR") -> None:  # type: ignore[no-untyped-def]
    series = pl.Series(values, dtype=pl.String)
    got = _with_fallback(series, _fast_expr(kind, region), reference).to_list()
    assert got == [reference(v) for v in values]


@settings(max_examples=200, deadline=None)
@given(st.lists(_EMAIL_CHARS | _emails(), max_size=20))
def test_email_fast_path_equals_reference(values):
    _agrees("email", values, email_reference)


@settings(max_examples=200, deadline=None)
@given(st.lists(_ID_CHARS | _ids(), max_size=20))
def test_id_fast_path_equals_reference(values):
    _agrees("national_id", values, id_reference)


@settings(max_examples=200, deadline=None)
@given(st.lists(_NAME_CHARS, max_size=20))
def test_name_fast_path_equals_reference(values):
    _agrees("name", values, name_reference)


@pytest.mark.skipif(native_kernel() is None, reason="no C compiler here")
@settings(max_examples=300, deadline=None)
@given(case=st.one_of(
    st.tuples(st.just("email"),
              st.lists(st.one_of(_emails(), _emails(), st.none(), _EMAIL_CHARS), max_size=20)),
    st.tuples(st.sampled_from(["national_id", "health_insurance_id"]),
              st.lists(st.one_of(_ids(), _ids(), st.none(), _ID_CHARS), max_size=20))),
       long_value=st.booleans())
def test_native_forms_hash_what_the_reference_gives(case, long_value):
    # The kernel canonicalises and hashes in one pass; it must hash exactly the
    # reference's form, and leave to the reference no more than the polars path does.
    kind, values = case
    if long_value:
        values = [*values, "A" * 300 + "@example.org", "12345" * 60]
    reference = email_reference if kind == "email" else id_reference
    hasher = KeyedHasher(b"k" * 32, native=True)
    prefix = hmac_prefix(kind, FORMS[kind])
    series = pl.Series(values, dtype=pl.String)
    hi, lo, status = hasher.canonical_digest_words(NATIVE_FORMS[(kind, FORMS[kind])], prefix,
                                                   series)
    plain = _fast_expr(kind, "FR").apply(series)["plain"].to_list()
    for value, high, low, state, is_plain in zip(values, hi, lo, status, plain, strict=True):
        form = None if value is None else reference(value)
        if state == 2:
            assert value is not None and (not is_plain or len(value.encode()) > 256)
            continue
        if form is None:
            assert (state, high, low) == (0, 0, 0)
        else:
            digest = hasher.digest_one(prefix, form)
            assert state == 1
            assert (int(high), int(low)) == (int.from_bytes(digest[:8]),
                                             int.from_bytes(digest[8:]))


def test_name_fast_path_equals_reference_for_every_latin_character():
    # Alone and between letters and separators: the fast path maps letters one by one.
    characters = [chr(c) for c in range(0x20, 0x250)] + ["\u0301", "\u2019", "\u00a0"]
    _agrees("name", [*characters, *(f"Jo{c}-l'É. {c}{c}" for c in characters)],
            name_reference)


_REGIONS = ["FR", "US", "GB", "DE", "BE", "ES", "IT", "CH", "NL", "CA"]


@st.composite
def _phones(draw):  # type: ignore[no-untyped-def]
    region = draw(st.sampled_from(_REGIONS))
    cc = str(phonenumbers.country_code_for_region(region))
    lead = draw(st.sampled_from(["", "0", "1", "+" + cc, "00" + cc, "011" + cc, "+", "+1",
                                 "+44", "0" + cc, "(0)"]))
    digits = draw(st.text(alphabet="0123456789", min_size=3, max_size=13))
    seps = draw(st.lists(st.sampled_from([" ", ".", "-", ""]), min_size=len(digits),
                         max_size=len(digits)))
    body = "".join(d + s for d, s in zip(digits, seps, strict=True))
    return region, lead + draw(st.sampled_from(["", " "])) + body


@settings(max_examples=500, deadline=None)
@given(st.lists(_phones(), min_size=1, max_size=10))
def test_phone_fast_path_equals_phonenumbers(cases):
    for region in {r for r, _ in cases}:
        values = [v for r, v in cases if r == region]
        _agrees("phone", values, lambda v, region=region: phone_reference(v, region), region)


@pytest.mark.skipif(native_kernel() is None, reason="no C compiler here")
@settings(max_examples=300, deadline=None)
@given(cases=st.lists(_phones(), min_size=1, max_size=12),
       extra=st.lists(st.none() | st.sampled_from(["", " ", "+", "0+33612345678", "06 12 a",
                                                   "+33 6 12 34 56 78 90 12 34 56 78 90"]),
                      max_size=3))
def test_native_phones_hash_what_the_reference_gives(cases, extra):
    # The kernel cuts the written prefix and hashes the E.164 form; polars checks the
    # national pattern. Every row must get the digest (or none) of the reference.
    from triage.identity.collector import IdentifierPlan, IdentityCollector
    from triage.identity.keys import PURPOSE_IDENTIFIERS, HmacKey

    region = cases[0][0]
    values = pl.Series([number for _, number in cases] + extra, dtype=pl.String)
    key = HmacKey(b"k" * 32)
    plan = {"tel": IdentifierPlan("phone", ("phone",))}
    batch = pl.DataFrame({"tel": values})
    native = IdentityCollector(key, plan, region)._slot_digests("tel", "phone", batch)
    reference = KeyedHasher(key.subkey(PURPOSE_IDENTIFIERS), native=False)
    prefix = hmac_prefix("phone", FORMS["phone"])
    for value, high, low in zip(values.to_list(), *native, strict=True):
        form = None if not value else phone_reference(value, region)
        if form is None:
            assert (high, low) == (None, None), value
        else:
            digest = reference.digest_one(prefix, form)
            assert (high, low) == (int.from_bytes(digest[:8]), int.from_bytes(digest[8:])), value


@pytest.mark.skipif(native_kernel() is None, reason="no C compiler here")
@pytest.mark.parametrize("region", _REGIONS)
def test_native_phones_read_every_written_form_of_a_region(region):
    # A valid number of the region written the four usual ways (and with a digit
    # short or long): the kernel, with polars' pattern check, must give the reference.
    from triage.identity.collector import IdentifierPlan, IdentityCollector
    from triage.identity.keys import PURPOSE_IDENTIFIERS, HmacKey

    cc = str(phonenumbers.country_code_for_region(region))
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    intl, national = meta.international_prefix or "00", meta.national_prefix or ""
    values = []
    for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
        nsn = phonenumbers.national_significant_number(
            phonenumbers.example_number_for_type(region, kind))
        values += [f"+{cc}{nsn}", f"+{cc} {nsn[:3]} {nsn[3:]}", f"{intl}{cc}{nsn}",
                   f"{national}{nsn}", f"{national}{nsn[:-1]}", f"{national}{nsn}9"]
    key = HmacKey(b"k" * 32)
    batch = pl.DataFrame({"tel": values})
    plan = {"tel": IdentifierPlan("phone", ("phone",))}
    native = IdentityCollector(key, plan, region)._slot_digests("tel", "phone", batch)
    reference = KeyedHasher(key.subkey(PURPOSE_IDENTIFIERS), native=False)
    prefix = hmac_prefix("phone", FORMS["phone"])
    for value, high, low in zip(values, *native, strict=True):
        form = phone_reference(value, region)
        expected = (None, None) if form is None else (
            int.from_bytes(reference.digest_one(prefix, form)[:8]),
            int.from_bytes(reference.digest_one(prefix, form)[8:]))
        assert (high, low) == expected, value


def test_phone_fast_path_covers_the_common_french_shapes():
    fast = _phone_fast("FR")
    assert fast is not None
    values = pl.Series(["06 12 34 56 78", "+33 6 12 34 56 78", "0033612345678", "01.23.45.67.89"])
    assert fast.apply(values)["plain"].all()


def test_phone_fast_path_is_off_where_parsing_is_not_simple():
    assert _phone_fast("AR") is None  # national prefix transform rules
    assert _phone_fast("CA") is None  # +1 belongs to the US metadata


@pytest.mark.skipif(native_kernel() is None, reason="no C compiler here")
@settings(max_examples=300, deadline=None)
@given(case=written_times())
def test_birth_dates_read_by_the_kernel_equal_strptime(case):
    """A birth-date column with a fixed-width format is read by the kernel, the rest by
    strptime: the composite's date half must not depend on which read it."""
    from triage.identity.canonical import _birth_iso_strptime, birth_iso

    fmt, values = case
    born = pl.Series("born", values, dtype=pl.String)
    assert birth_iso(born, "FR", fmt).to_list() == _birth_iso_strptime(born, "FR", fmt).to_list()


@pytest.mark.skipif(native_kernel() is None, reason="no C compiler here")
def test_birth_dates_at_the_edges_of_the_plausible_years():
    from triage.identity.canonical import birth_iso

    born = pl.Series(["01/01/1880", "31/12/1879", "31/12/2100", "01/01/2101", "29/02/2000",
                      "29/02/1900", " 01/02/1990", "1/02/1990", "", None])
    assert birth_iso(born, "FR", "%d/%m/%Y").to_list() == [
        "1880-01-01", None, "2100-12-31", None, "2000-02-29", None, "1990-02-01",
        "1990-02-01", None, None]
