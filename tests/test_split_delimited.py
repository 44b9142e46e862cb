"""The native splitter of delimited chunks gives exactly polars' values, or declines.

``split_delimited`` (``triage_split_delimited`` in _native.c) takes the clean chunks
of a delimited source; whatever it declines goes to polars' reader and the exact one.
So the law is: when it returns a frame, that frame is polars' reading of the chunk,
and polars read every record at full width.
"""

from __future__ import annotations

import csv
import io
import random

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import read_all
from triage.native import native_kernel, split_delimited

pytestmark = pytest.mark.skipif(native_kernel() is None, reason="no C compiler here")


def polars_reading(chunk: bytes, names: list[str], delimiter: str,
                   quote: str | None) -> pl.DataFrame | None:
    """Polars' frame of ``chunk`` when every record has exactly ``len(names)`` fields."""
    overflow = "__overflow__"
    try:
        frame = pl.read_csv(
            chunk, has_header=False, separator=delimiter, quote_char=quote,
            infer_schema=False, schema=dict.fromkeys([*names, overflow], pl.String),
            missing_columns="insert", empty_string_is_null=False,
            truncate_ragged_lines=False, raise_if_empty=False)
    except Exception:  # noqa: BLE001 - any refusal means "not a clean chunk"
        return None
    return frame.drop(overflow)


def split(chunk: bytes, names: list[str], delimiter: str = ";",
          quote: str | None = '"') -> pl.DataFrame | None:
    return split_delimited(chunk, delimiter, quote, names, chunk.count(b"\n") + 1)


def assert_polars_agrees(chunk: bytes, names: list[str], delimiter: str = ";",
                         quote: str | None = '"') -> pl.DataFrame | None:
    frame = split(chunk, names, delimiter, quote)
    if frame is not None:
        expected = polars_reading(chunk, names, delimiter, quote)
        assert expected is not None, chunk
        assert frame.schema == expected.schema
        assert frame.rows() == expected.rows(), chunk
    return frame


_pieces = st.sampled_from([
    "a", "é", "€", "𝄞", ";", ",", '"', '""', "\n", "\r\n", "\r", " ", "", "x" * 11,
    "y" * 12, "z" * 13, "ü" * 7, "w" * 40])


@settings(max_examples=400, deadline=None)
@given(text=st.lists(_pieces, max_size=60).map("".join), width=st.sampled_from([2, 3, 5]))
def test_whatever_it_takes_from_any_text_is_what_polars_reads(text, width):
    assert_polars_agrees(text.encode(), [f"c{k}" for k in range(width)])


_value = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",),
                                        exclude_characters="\r\x00"), max_size=30)


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.lists(_value, min_size=3, max_size=3), min_size=1, max_size=30),
       quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
       ending=st.sampled_from(["\n", "\r\n"]), last_line_end=st.booleans())
def test_well_formed_tables_are_taken_and_read_as_polars_reads_them(
        rows, quoting, ending, last_line_end):
    """Quoted delimiters, doubled quotes, newlines in values and CRLF: all taken."""
    out = io.StringIO()
    csv.writer(out, delimiter=";", quoting=quoting, lineterminator=ending).writerows(rows)
    text = out.getvalue()
    if not last_line_end:
        text = text[: -len(ending)]
    frame = assert_polars_agrees(text.encode(), ["a", "b", "c"])
    assert frame is not None, text
    assert frame.rows() == [tuple(row) for row in rows]


def test_values_around_the_inline_limit_and_the_buffer_ends():
    """Up to 12 bytes sit in the view, longer ones are copied 32 then 16 bytes at a
    time, 512 records at a time column by column: every length around these limits,
    values that end the chunk, and tables of several such blocks."""
    rng = random.Random(5)
    for attempt in range(300):
        height = rng.randrange(1, 6) if attempt % 10 else rng.randrange(500, 1200)
        rows = [[rng.choice("abcé€") * rng.randrange(0, 52) for _ in range(4)]
                for _ in range(height)]
        text = "\n".join(";".join(row) for row in rows) + rng.choice(["", "\n"])
        frame = assert_polars_agrees(text.encode(), ["a", "b", "c", "d"])
        assert frame is not None
        assert frame.rows() == [tuple(row) for row in rows]


@pytest.mark.parametrize("chunk", [
    b"a;b;c\nd;e\n",             # a short record
    b"a;b;c\nd;e;f;g\n",         # a long one
    b"a;b;c\n\nd;e;f\n",         # a blank line
    b"a;b;c\n\r\n",              # a blank line with CRLF
    b'a;x"y;c\n',                # a quote inside an unquoted value
    b'a;x"y\nb;c\n',             # the same, where the fields before it fill a record
    b'a;"x"y;c\n',               # text after a closing quote
    b'a;"x;c\n',                 # a quote that never closes
    b"a;b\r;c\n",                # a carriage return inside a line
    b"a;b;c\r",                  # a carriage return ending the input
    b"a;\xff;c\n",               # invalid UTF-8
    b'a;"\xc3";c\n',             # invalid UTF-8 inside quotes
    b"a;\xed\xa0\x80;c\n",       # an encoded surrogate
    b"\xef\xbb\xbfa;b;c\n",       # a byte-order mark, which polars would drop
])
def test_declines_what_it_does_not_read_exactly(chunk):
    assert split(chunk, ["a", "b", "c"]) is None
    assert split(chunk, ["a", "b"]) is None


def test_without_a_quote_character_quotes_are_text():
    chunk = b'a;"b;c"\n"";x""y;\n'
    frame = assert_polars_agrees(chunk, ["a", "b", "c"], quote=None)
    assert frame is not None
    assert frame.rows() == [("a", '"b', 'c"'), ('""', 'x""y', "")]


def test_a_record_ending_in_a_delimiter_has_an_empty_last_value():
    for chunk in (b"a;b;\n", b"a;b;"):
        frame = assert_polars_agrees(chunk, ["a", "b", "c"])
        assert frame is not None and frame.rows() == [("a", "b", "")]


def test_files_read_alike_with_and_without_the_kernel(tmp_path, monkeypatch):
    """Quotes, CRLF, a ragged region and a repeated header, through the whole source."""
    import triage.native

    rng = random.Random(11)
    lines = ["nom;ville;note"]
    for i in range(4000):
        lines.append(f'"Zoë {i}";"Saint-Étienne; ""centre""";{rng.random():.6f}')
        if i == 2500:
            lines += ["court;ligne", "nom;ville;note"]
    path = tmp_path / "mixed.csv"
    path.write_bytes("\r\n".join(lines).encode() + b"\r\n")
    native_rows, native_accounting, _ = read_all(path, chunk_bytes=64 * 1024)
    triage.native.native_kernel.cache_clear()
    monkeypatch.setenv("TRIAGE_NATIVE", "0")
    try:
        python_rows, python_accounting, _ = read_all(path, chunk_bytes=64 * 1024)
    finally:
        triage.native.native_kernel.cache_clear()
    assert native_rows == python_rows
    assert native_accounting.to_dict() == python_accounting.to_dict()
    assert native_rows[7] == {"nom": "Zoë 7", "ville": 'Saint-Étienne; "centre"',
                              "note": python_rows[7]["note"]}
    assert native_accounting.to_dict()["rejected"] == 1  # the repeated header


def test_transcoded_cp1252_is_read_as_its_utf8_copy(tmp_path):
    """cp1252 text comes to the splitter from the transcoder, which skips its UTF-8
    check: every byte, the codec's undefined ones included, reads as the UTF-8 copy."""
    every_byte = bytes(b for b in range(0x20, 0x100) if b not in b';"')
    lines = [b"code;texte;valeur"] + [
        b"%d;%s;%s" % (i, every_byte[i % 50:i % 50 + 60], every_byte[-(i % 40) - 12:])
        for i in range(3000)]
    legacy = tmp_path / "legacy.csv"
    legacy.write_bytes(b"\r\n".join(lines) + b"\r\n")
    copy = tmp_path / "copy.csv"
    copy.write_bytes(b"\r\n".join(line.decode("cp1252", errors="triage-latin1").encode()
                                   for line in lines) + b"\r\n")
    legacy_rows, legacy_accounting, _ = read_all(legacy, chunk_bytes=64 * 1024)
    copy_rows, copy_accounting, _ = read_all(copy, chunk_bytes=64 * 1024)
    assert len(legacy_rows) == 3000
    assert legacy_rows == copy_rows
    assert legacy_accounting.to_dict()["parsed"] == copy_accounting.to_dict()["parsed"]


def test_each_column_holds_only_its_own_long_values():
    """Each column's long values sit in a buffer of their own, of their exact size."""
    rows = [("ab", f"a long value number {i:05d}", "x" * 13) for i in range(1000)]
    chunk = "".join(";".join(row) + "\n" for row in rows).encode()
    frame = split(chunk, ["short", "long", "thirteen"])
    assert frame is not None and frame.rows() == rows
    for name, own in (("short", 0), ("long", 25 * 1000), ("thirteen", 13 * 1000)):
        array = frame[name].to_arrow(compat_level=pl.CompatLevel.newest())
        data = [buffer.size for buffer in array.buffers()[2:] if buffer is not None]
        assert sum(data) == own, name


def test_a_column_kept_alone_keeps_no_other_columns_bytes_alive():
    """A sample or a projection kept past its batch holds its own column's memory only."""
    import gc
    import tracemalloc

    rows = [(f"{i % 100:02d}", f"une valeur assez longue, numéro {i:06d}") for i in range(2000)]
    chunk = "".join(";".join(row) + "\n" for row in rows).encode()
    tracemalloc.start()
    try:
        frame = split(chunk, ["code", "text"])
        assert frame is not None
        kept = frame["code"]
        everything = tracemalloc.get_traced_memory()[0]
        del frame
        gc.collect()
        alone = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert kept.to_list() == [code for code, _ in rows]
    long_bytes = sum(len(text.encode()) for _, text in rows)
    assert everything > long_bytes
    # The code column's views (16 bytes a row) and little else: not the text's values.
    assert alone < 16 * 2001 + long_bytes // 4
