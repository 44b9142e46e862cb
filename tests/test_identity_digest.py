"""Keyed digests: RFC 4231 vectors, and the native kernel agreeing with Python byte for byte."""

from __future__ import annotations

import hashlib
import hmac

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_identity_support import digest_bytes

from triage.identity.digest import DIGEST_BYTES, KeyedHasher, hmac_prefix
from triage.native import native_kernel

# RFC 4231 section 4: (key, data, HMAC-SHA-256). Case 5 is checked truncated to 128 bits.
RFC4231 = [
    (b"\x0b" * 20, b"Hi There",
     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
    (b"Jefe", b"what do ya want for nothing?",
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
    (b"\xaa" * 20, b"\xdd" * 50,
     "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
    (bytes(range(1, 26)), b"\xcd" * 50,
     "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
    (b"\xaa" * 131, b"Test Using Larger Than Block-Size Key - Hash Key First",
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
    (b"\xaa" * 131, (b"This is a test using a larger than block-size key and a larger than "
     b"block-size data. The key needs to be hashed before being used by the HMAC algorithm."),
     "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
]
RFC4231_CASE5 = (b"\x0c" * 20, b"Test With Truncation", "a3b6167473100ee06e0c796c2955552b")

needs_native = pytest.mark.skipif(native_kernel() is None, reason="no C compiler here")


@pytest.mark.parametrize(("key", "data", "expected"), RFC4231)
def test_python_path_matches_rfc4231(key, data, expected):
    assert KeyedHasher(key, native=False).full_digest(data).hex() == expected


def test_truncation_matches_rfc4231_case_5():
    key, data, expected = RFC4231_CASE5
    hasher = KeyedHasher(key, native=False)
    assert hasher.full_digest(data)[:DIGEST_BYTES].hex() == expected


@needs_native
@pytest.mark.parametrize("mode", [True, "portable"])
@pytest.mark.parametrize(("key", "data", "expected"),
                         [case for case in [*RFC4231, RFC4231_CASE5] if case[1].isascii()])
def test_native_kernel_matches_rfc4231(key, data, expected, mode):
    # The kernel takes text; with an empty prefix it hashes the RFC message as is.
    digest = digest_bytes(KeyedHasher(key, native=mode), b"", pl.Series([data.decode()]))
    assert bytes(digest[0]).hex() == expected[:2 * DIGEST_BYTES]


@needs_native
@pytest.mark.parametrize("mode", [True, "portable"])
@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.text(max_size=200), max_size=50),
       kind=st.sampled_from(["email", "phone", "name_birth"]))
def test_native_kernel_agrees_with_python(values, kind, mode):
    key = hashlib.sha256(b"fixed test key").digest()
    prefix = hmac_prefix(kind, 1)
    series = pl.Series(values, dtype=pl.String)
    native = digest_bytes(KeyedHasher(key, native=mode), prefix, series)
    python = digest_bytes(KeyedHasher(key, native=False), prefix, series)
    assert native.tobytes() == python.tobytes()
    for value, digest in zip(values, python, strict=True):
        assert bytes(digest) == hmac.new(key, prefix + value.encode(), "sha256").digest()[:16]


@needs_native
@pytest.mark.parametrize("mode", [True, "portable"])
@pytest.mark.parametrize("count", [1, 2, 3, 57])
def test_native_kernel_around_the_one_block_limit(mode, count):
    # Prefix and value within 55 bytes fit one inner block and are hashed two at a
    # time; longer ones are hashed at once, while a short one may be waiting.
    key = hashlib.sha256(b"fixed test key").digest()
    prefix = hmac_prefix("email", 1)
    lengths = [55 - len(prefix) + delta for delta in (-1, 0, 1, 2, -30, 9, 0)] * 9
    values = ["x" * length for length in lengths[:count]]
    series = pl.Series(values, dtype=pl.String)
    native = digest_bytes(KeyedHasher(key, native=mode), prefix, series)
    for value, digest in zip(values, native, strict=True):
        assert bytes(digest) == hmac.new(key, prefix + value.encode(), "sha256").digest()[:16]


@needs_native
def test_native_kernel_on_a_sliced_parallel_batch():
    key = b"k" * 32
    values = pl.Series([f"user{i}@example.com" * (i % 5) for i in range(200_000)])[7:]
    native = digest_bytes(KeyedHasher(key, native=True), b"email:v1\0", values)
    python = KeyedHasher(key, native=False).digest_python(b"email:v1\0", values[:1000].to_list())
    assert native[:1000].tobytes() == python.tobytes()


@needs_native
@pytest.mark.parametrize("mode", [True, "portable"])
@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.none() | st.text(max_size=40), max_size=60),
       cut=st.integers(min_value=0, max_value=5))
def test_native_words_skip_nulls_and_read_views_in_place(values, cut, mode):
    # Values of 12 bytes or fewer sit inside the view, longer ones in data buffers;
    # a slice starts at an offset into the views and the validity bitmap.
    key = hashlib.sha256(b"fixed test key").digest()
    series = pl.Series(values, dtype=pl.String)[cut:]
    native = KeyedHasher(key, native=mode).digest_words(b"email:v1\0", series)
    python = KeyedHasher(key, native=False).digest_words(b"email:v1\0", series)
    assert native[0].tobytes() == python[0].tobytes()
    assert native[1].tobytes() == python[1].tobytes()
    for value, hi, lo in zip(series.to_list(), *python, strict=True):
        if value is None:
            assert (hi, lo) == (0, 0)
            continue
        digest = hmac.new(key, b"email:v1\0" + value.encode(), "sha256").digest()
        assert (int(hi), int(lo)) == (int.from_bytes(digest[:8]), int.from_bytes(digest[8:16]))


def test_kinds_and_versions_never_collide():
    hasher = KeyedHasher(b"k" * 32, native=False)
    digests = {hasher.digest_one(hmac_prefix(kind, version), "123456789")
               for kind in ("phone", "national_id", "health_insurance_id") for version in (1, 2)}
    assert len(digests) == 6
