"""Delimited text: the csv-spectrum corpus, encodings, ragged rows, broken quotes."""

from __future__ import annotations

import csv
import io
import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import read_all
from triage.sources import EXTRA_COLUMN

# Upstream's expectation for this case holds another phone number than its CSV
# (see ../shared/corpora/csv-spectrum/SOURCE.txt); every other field is compared.
KNOWN_WRONG_UPSTREAM = {"location_coordinates": {"Contact Phone Number"}}


def spectrum_cases(shared):
    csvs = shared / "corpora" / "csv-spectrum" / "csvs"
    expected = shared / "corpora" / "csv-spectrum" / "json"
    for path in sorted(csvs.iterdir()):
        if path.suffix == ".csv":
            yield path.stem, path, expected / f"{path.stem}.json"
        elif path.name == "latin1.csv.removed-upstream":
            yield "latin1", path, expected / "latin1.json.removed-upstream"


def test_csv_spectrum_every_case(shared):
    cases = list(spectrum_cases(shared))
    assert len(cases) == 13
    for name, csv_path, json_path in cases:
        expected = json.loads(json_path.read_text(encoding="utf-8"))
        if isinstance(expected, dict):
            expected = [expected]
        rows, accounting, _ = read_all(csv_path)
        ignored = KNOWN_WRONG_UPSTREAM.get(name, set())
        strip = lambda rs, ignored=ignored: [{k: v for k, v in r.items() if k not in ignored} for r in rs]
        assert strip(rows) == strip(expected), name
        assert accounting.read == accounting.parsed == len(expected), name
        assert accounting.rejected == 0


def test_latin1_case_is_sniffed_as_a_legacy_encoding(shared):
    _, _, (source,) = read_all(shared / "corpora/csv-spectrum/csvs/latin1.csv.removed-upstream")
    assert source.info.encoding == "cp1252"


TABLE = [["nom", "prénom", "commentaire"],
         ["Müller", "Zoë", "enceinte; suivi « OK »"],
         ["Ørsted", "Élodie", "line one\nline two"],
         ["Dupont", "Jean-François", 'dit "oui"']]


def _csv_text(rows, delimiter=";"):
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


@pytest.mark.parametrize("encoding,expected", [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16"),
    ("utf-16-le", "utf-16-le"), ("utf-16-be", "utf-16-be"), ("utf-32", "utf-32"),
    ("utf-32-be", "utf-32"), ("cp1252", "cp1252"), ("latin-1", "cp1252"),
])
def test_each_encoding_reads_back_identically(tmp_path, encoding, expected):
    text = _csv_text(TABLE)
    if encoding == "cp1252":
        text = text.replace("OK", "OK €")  # € exists in cp1252 only (0x80)
    path = tmp_path / "t.csv"
    # Python's "utf-32-be" writes no BOM; exports do, and UTF-32 is read by its BOM.
    path.write_bytes(("\ufeff" + text if encoding == "utf-32-be" else text).encode(encoding))
    rows, accounting, (source,) = read_all(path)
    assert source.info.encoding == expected
    assert source.info.delimiter == ";"
    body = [dict(zip(TABLE[0], r, strict=True)) for r in TABLE[1:]]
    if encoding == "cp1252":
        body[0]["commentaire"] = body[0]["commentaire"].replace("OK", "OK €")
    assert rows == body
    assert accounting.parsed == 3 and accounting.rejected == 0


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters_are_sniffed(tmp_path, delimiter):
    path = tmp_path / "t.txt"
    path.write_text(_csv_text([["a", "b", "c"], ["1", "x y", "3"], ["4", "5", "6"]], delimiter))
    rows, _, (source,) = read_all(path)
    assert source.info.delimiter == delimiter
    assert rows == [{"a": "1", "b": "x y", "c": "3"}, {"a": "4", "b": "5", "c": "6"}]


def test_no_header_gives_numbered_columns(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("0612345678;1985-02-01;12.5\n0698765432;1990-12-31;7.25\n")
    rows, _, (source,) = read_all(path)
    assert source.info.header is False
    assert list(rows[0]) == ["col_1", "col_2", "col_3"]
    assert len(rows) == 2


@pytest.mark.parametrize("rows_text", [
    "Zebulon Quaxworth\tLyon\nJean Dupont\tParis\nMarie Curie\tLille\nPaul Martin\tNantes\n",
    "Quaxworth\nDupont\nMartin\nDurand\n",
    "Zebulon,Quaxworth\nJean,Dupont\nMarie,Curie\n",
])
def test_a_first_row_shaped_like_the_rows_below_is_data_not_a_header(tmp_path, rows_text):
    path = tmp_path / "t.csv"
    path.write_text(rows_text)
    rows, accounting, (source,) = read_all(path)
    assert source.info.header is False
    assert accounting.read == accounting.parsed == rows_text.count("\n")
    assert all(name.startswith("col_") for name in rows[0])


@pytest.mark.parametrize("header", ["nom,ville", "Nom,Ville", "First Name,City"])
def test_labels_above_values_of_the_same_shape_stay_a_header(tmp_path, header):
    path = tmp_path / "t.csv"
    path.write_text(f"{header}\nJean Dupont,Paris\nMarie Curie,Lyon\n")
    rows, accounting, (source,) = read_all(path)
    assert source.info.header is True
    assert list(rows[0]) == header.split(",")
    assert accounting.read == 2


@pytest.mark.parametrize("header,names", [
    ("nom;;email;telephone", ["nom", "col_2", "email", "telephone"]),
    ("date;nom;date;email", ["date", "nom", "date_2", "email"]),
])
def test_known_labels_with_a_blank_or_repeated_cell_are_still_a_header(tmp_path, header, names):
    path = tmp_path / "t.csv"
    path.write_text(f"{header}\nDupont;x;a@example.fr;0612345678\n"
                    "Martin;y;b@example.fr;0698765432\n")
    rows, accounting, (source,) = read_all(path)
    assert source.info.header is True
    assert list(rows[0]) == names
    assert accounting.read == 2


def test_a_first_row_with_a_blank_cell_and_no_known_label_is_data(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("Zebulon;;Lyon\nJean;x;Paris\n")
    _, accounting, (source,) = read_all(path)
    assert source.info.header is False
    assert accounting.read == 2


@pytest.mark.parametrize("title", [
    "Export du 12/03/2019 - Laboratoire Biomed\n",
    "Export du 12/03/2019;;;\n\nLaboratoire Biomed;;;\n",  # padded to width, a blank line
    "\n\n",
    "Rapport;12/03/2019\r\n",  # a delimiter, still fewer fields than the table
])
def test_a_title_block_above_the_header_is_skipped_and_counted(tmp_path, title):
    path = tmp_path / "t.csv"
    table = ("nom;prenom;email;telephone\nDupont;Jean;jean@example.fr;06 12 34 56 78\n"
             "Martin;Claire;claire@example.fr;06 98 76 54 32\n")
    path.write_text(title + table)
    rows, accounting, (source,) = read_all(path)
    assert source.info.header is True
    assert [list(row) for row in rows] == [["nom", "prenom", "email", "telephone"]] * 2
    assert rows[0]["email"] == "jean@example.fr"
    titles = sum(1 for line in title.splitlines() if line.strip())
    assert accounting.parsed == 2
    assert accounting.read == 2 + titles
    assert accounting.reasons == ({"preamble": titles} if titles else {})
    if titles:
        assert accounting.regions == [{"reason": "preamble", "kept": False, "line": 1,
                                       "byte_offset": 0}]


@pytest.mark.parametrize("text", ["Dupont;Jean;Rennes;12 rue des Lilas\n",
                                  "Dupont;Jean;Rennes;12 rue des Lilas"])
def test_a_file_of_one_record_is_a_row_not_a_header(tmp_path, text):
    # One person's record: with nothing below it, it is a header only when its cells
    # are known labels; read as names, it would print the person as column names.
    path = tmp_path / "t.csv"
    path.write_text(text)
    rows, accounting, (source,) = read_all(path)
    assert source.info.header is False
    assert accounting.read == accounting.parsed == 1
    assert source.declared_columns() == []
    assert rows[0]["col_1"] == "Dupont"


def test_short_rows_above_a_row_of_names_are_data(tmp_path):
    # A headerless list whose first rows are short: the first full row has one cell that
    # is a header word ("Mobile"), which is no header.
    path = tmp_path / "t.csv"
    path.write_text("Martin\nDurand;Paul\nLefebvre;Anne;Rennes;Mobile\n"
                    "Petit;Luc;Brest;Fixe\nRoux;Eve;Vannes;Mobile\nMoreau;Zoe;Lorient;Fixe\n")
    rows, accounting, (source,) = read_all(path)
    assert source.info.header is False
    assert accounting.read == accounting.parsed == 6
    assert "preamble" not in accounting.reasons
    assert all(name.startswith("col_") for name in rows[0])


def test_a_title_with_a_stray_quote_ends_where_the_sniffer_ends_it(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('Fichier "clients VIP\nnom;email\n"Dupont";"a@example.fr"\n'
                    '"Martin";"b@example.fr"\n')
    rows, accounting, _ = read_all(path)
    assert [r["email"] for r in rows] == ["a@example.fr", "b@example.fr"]
    assert accounting.reasons == {"preamble": 1}


@pytest.mark.parametrize("title", ["Export du 12/03/2019\n", "Export du 12/03/2019\n;;\n"])
def test_a_title_and_a_header_without_rows(tmp_path, title):
    path = tmp_path / "t.csv"
    path.write_text(title + "nom;prenom;email\n")
    rows, accounting, (source,) = read_all(path)
    assert rows == []
    assert source.declared_columns() == ["nom", "prenom", "email"]
    # A line of empty cells is a record (a blank line is not): counted with the title.
    assert accounting.reasons == {"preamble": title.count("\n")}
    assert accounting.parsed == 0


def test_short_first_rows_of_a_headerless_table_stay_rows(tmp_path):
    # Fewer fields, but no header follows them: ragged data, read and counted as before.
    path = tmp_path / "t.csv"
    path.write_text("Dupont\nMartin;Claire;0698765432\nDurand;Paul;0711223344\n")
    rows, accounting, (source,) = read_all(path)
    assert source.info.header is False
    assert accounting.read == accounting.parsed == 3
    assert accounting.repaired == {"too_few_fields": 1}
    assert rows[0]["col_1"] == "Dupont"


def test_a_quoted_title_spanning_lines_is_one_preamble_record(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('"Export\ndu 12/03/2019"\nid,email\n1,a@example.fr\n2,b@example.fr\n')
    rows, accounting, _ = read_all(path)
    assert [r["email"] for r in rows] == ["a@example.fr", "b@example.fr"]
    assert accounting.reasons == {"preamble": 1}


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_every_line_ending_reads_the_same_rows(tmp_path, ending):
    path = tmp_path / "t.csv"
    path.write_bytes(ending.join(["id,email", "1,a@example.fr", '2,"b@example.fr"', ""]).encode())
    rows, accounting, _ = read_all(path)
    assert rows == [{"id": "1", "email": "a@example.fr"}, {"id": "2", "email": "b@example.fr"}]
    assert accounting.read == accounting.parsed == 2


@pytest.mark.parametrize("title", ["", "Export du 01/01/2020\n"])
def test_a_carriage_return_inside_a_value_stays_in_its_record(tmp_path, title):
    # A spreadsheet cell's line break in an LF file: the csv module the sniffer used
    # refused it ("new-line character seen in unquoted field"), an internal error.
    path = tmp_path / "t.csv"
    path.write_bytes(f"{title}nom,email\nDup\ront,a@x.fr\nMartin,b@x.fr\n".encode())
    rows, accounting, (source,) = read_all(path)
    assert source.info.header is True
    assert [r["email"] for r in rows] == ["a@x.fr", "b@x.fr"]
    assert accounting.parsed == 2


@pytest.mark.parametrize("inside", ["\f", "\u2028", "\x85", "\v", "\x1c"])
def test_characters_that_python_breaks_lines_at_stay_inside_their_record(tmp_path, inside):
    # str.splitlines() breaks at these; the reader does not. A header sniffed from a line
    # the reader does not see made it skip the row hidden behind it.
    path = tmp_path / "t.csv"
    path.write_text(f"id,email{inside}900,x@example.fr\n1,a@example.fr\n2,b@example.fr\n",
                    encoding="utf-8")
    _, accounting, _ = read_all(path)
    assert accounting.read == accounting.parsed == 3


def test_ragged_rows_are_kept_and_counted(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a;b;c\n1;2;3\n4;5\n6;7;8;9;10\n11;12;13\n")
    rows, accounting, _ = read_all(path)
    assert accounting.read == accounting.parsed == 4
    assert accounting.repaired == {"too_few_fields": 1, "too_many_fields": 1}
    assert rows[1] == {"a": "4", "b": "5", "c": None, EXTRA_COLUMN: None}
    assert rows[2] == {"a": "6", "b": "7", "c": "8", EXTRA_COLUMN: "9;10"}
    assert rows[3]["c"] == "13"


def test_unterminated_quote_rejects_one_line_and_reads_on(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('a,b\n1,ok\n2,"never closed\n3,fine\n4,"x"\n')
    rows, accounting, _ = read_all(path)
    # The broken record cannot be delimited: only its first line is dropped.
    assert accounting.reasons == {"unterminated_quote": 1}
    assert accounting.rejected == 1
    assert [r["a"] for r in rows] == ["1", "3", "4"]
    (region,) = accounting.regions
    assert region["line"] == 3
    assert region["byte_offset"] == len(b"a,b\n1,ok\n")


def test_unterminated_quote_message_never_quotes_content(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('a,b\n1,"SECRET-CANARY-0612345678\n')
    _, accounting, _ = read_all(path)
    assert "SECRET" not in json.dumps(accounting.to_dict())
    assert accounting.rejected == 1


def test_repeated_header_lines_are_rejected(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id;nom\n1;a\nid;nom\n2;b\n")
    rows, accounting, _ = read_all(path)
    assert [r["id"] for r in rows] == ["1", "2"]
    assert accounting.reasons == {"repeated_header": 1}
    assert accounting.read == 3
    assert accounting.regions == [{"reason": "repeated_header", "kept": False, "line": 3,
                                   "byte_offset": 11}]


def test_invalid_utf8_bytes_are_counted_not_fatal(tmp_path):
    path = tmp_path / "t.csv"
    good = "".join(f"Élodie{i};Besançon\n" for i in range(20))
    path.write_bytes(f"nom;ville\n{good}".encode() + b"X\xff\xfeY;Nice\n")
    rows, accounting, (source,) = read_all(path)
    assert source.info.encoding == "utf-8"
    assert len(rows) == 21
    assert accounting.repaired == {"undecodable_bytes": 1}
    # Where the bad byte is, not where its chunk starts.
    assert accounting.regions == [{"reason": "undecodable_bytes", "kept": True, "line": 22,
                                   "byte_offset": len(f"nom;ville\n{good}X".encode())}]


def test_record_too_long_is_refused_in_bounded_memory(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"a,b\n1,2\n" + b"x" * 300_000 + b",3\n4,5\n")
    rows, accounting, _ = read_all(path, max_record_bytes=100_000, chunk_bytes=65_536)
    assert accounting.reasons == {"record_too_long": 1}
    assert [r["a"] for r in rows] == ["1", "4"]


def test_regions_found_by_the_cutter_and_the_parser_are_listed_in_file_order(tmp_path):
    """Cutting and parsing run on two threads. Only the parsing thread records, in
    the input's order, so counts are exact and the listed regions stay in order."""
    lines = [b"a,b"]
    for i in range(8):
        lines += [b"%d,%d" % (i, i)] * 40
        # Over-long records are refused by the cutter, long rows repaired by the parser.
        lines.append(b"x" * 3000 + b",1" if i % 2 else b"1,2,3")
    path = tmp_path / "t.csv"
    path.write_bytes(b"\n".join(lines) + b"\n")
    for _ in range(3):
        rows, accounting, _ = read_all(path, max_record_bytes=2000, chunk_bytes=1024)
        assert len(rows) == 8 * 40 + 4
        assert accounting.reasons == {"record_too_long": 4}
        assert accounting.repaired == {"too_many_fields": 4}
        assert accounting.read == 8 * 41
        listed = [(region["line"], region["reason"]) for region in accounting.regions]
        assert listed == sorted(listed)
        assert [reason for _, reason in listed] == ["too_many_fields", "record_too_long"] * 4


_cell = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",),
                                       exclude_characters="\r\x00"), max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.lists(st.lists(_cell, min_size=3, max_size=3), min_size=1, max_size=40),
       chunk=st.sampled_from([8, 64, 1024]))
def test_any_table_reads_back_identically_at_any_chunk_size(tmp_path, body, chunk):
    """Quoted delimiters, quotes and newlines survive every chunk boundary."""
    header = ["h1", "h2", "h3"]
    path = tmp_path / "prop.csv"
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows([header, *body])
    path.write_text(out.getvalue(), encoding="utf-8")
    rows, accounting, _ = read_all(path, chunk_bytes=chunk)
    assert accounting.rejected == 0
    assert [[r[h] for h in header] for r in rows] == body


def test_native_cp1252_transcoding_matches_the_codec_for_every_byte():
    from triage.native import native_kernel, transcode_single_byte

    if native_kernel() is None:
        pytest.skip("no C compiler here")
    data = bytes(range(256)) * 3 + "Zoë, Œuvre à 10 €".encode("cp1252")
    expected = data.decode("cp1252", "triage-latin1").encode("utf-8")
    assert transcode_single_byte(data, "cp1252", "triage-latin1") == expected
    # ASCII runs are copied eight bytes at a time: runs of every length around that,
    # between high bytes, at every alignment and up to the end.
    rng = random.Random(3)
    for _ in range(200):
        data = b"".join(bytes(rng.choice(b"abc;\n") for _ in range(rng.randrange(20)))
                        + bytes([rng.randrange(128, 256)]) * rng.randrange(2)
                        for _ in range(rng.randrange(1, 12)))
        assert transcode_single_byte(data, "cp1252", "triage-latin1") == data.decode(
            "cp1252", "triage-latin1").encode("utf-8")


def test_cp1252_file_reads_alike_with_and_without_the_native_kernel(tmp_path, monkeypatch):
    import triage.native

    # 0x81 is undefined in cp1252: it must come back as U+0081 both ways.
    lines = [b"nom;commentaire"] + [f"Zoë{i};Œdème {i} € ".encode("cp1252") + b"\x81"
                                    for i in range(3000)]
    path = tmp_path / "legacy.csv"
    path.write_bytes(b"\n".join(lines) + b"\n")
    native_rows, native_acc, _ = read_all(path)
    triage.native.native_kernel.cache_clear()
    monkeypatch.setenv("TRIAGE_NATIVE", "0")
    try:
        python_rows, python_acc, _ = read_all(path)
    finally:
        triage.native.native_kernel.cache_clear()
    assert native_rows == python_rows
    assert native_acc.to_dict() == python_acc.to_dict()
    assert native_rows[5] == {"nom": "Zoë5", "commentaire": "Œdème 5 € \x81"}


def test_without_read_ahead_frames_come_in_step_and_alike(tmp_path):
    """Planning a cluster scan takes one frame: read in step, no thread cuts or parses
    chunks that no one asks for, and the frames are those read ahead."""
    import threading

    from triage.sources import open_sources

    path = tmp_path / "t.csv"
    path.write_text("id;nom\n" + "".join(f"{i};n{i}\n" for i in range(20_000)))

    def frames(**options) -> tuple[list, list[int]]:
        source = next(iter(open_sources(path)))
        source.chunk_bytes = 16_384
        got, threads = [], []
        earlier = set(threading.enumerate())  # any other test's leftovers are not counted
        for frame in source.batches(**options):
            threads.append(sum(t.name == "triage-prefetch" and t not in earlier
                               for t in threading.enumerate()))
            got.append(frame)
        return got, threads

    ahead, ahead_threads = frames()
    in_step, in_step_threads = frames(read_ahead=False)
    assert len(ahead) > 3 and [f.to_dicts() for f in in_step] == [f.to_dicts() for f in ahead]
    assert max(ahead_threads) == 2 and max(in_step_threads) == 0

    source = next(iter(open_sources(path)))
    source.chunk_bytes = 16_384
    batches = source.batches(read_ahead=False)
    first = next(batches)
    batches.close()
    assert source.accounting.read == first.height  # nothing parsed past the frame taken
