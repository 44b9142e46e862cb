"""Spreadsheets: every sheet a source, cells as the text a CSV export shows."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from xml.sax.saxutils import escape

import pytest

from tests.conftest import read_all
from triage.errors import TriageError
from triage.sources import open_sources, reading_options
from triage.sources.spreadsheet import cell_text

xlsxwriter = pytest.importorskip("xlsxwriter")
xlwt = pytest.importorskip("xlwt")

PATIENTS = [["email", "tel", "born", "score", "ok"],
            ["a@x.fr", "0612345678", dt.date(1980, 2, 29), 0.1, True],
            ["b@y.fr", 612345678, dt.datetime(2001, 5, 4, 13, 30), 12.0, False]]
EXPECTED = [{"email": "a@x.fr", "tel": "0612345678", "born": "1980-02-29", "score": "0.1",
             "ok": "TRUE"},
            {"email": "b@y.fr", "tel": "612345678", "born": "2001-05-04T13:30:00",
             "score": "12", "ok": "FALSE"}]


def write_xlsx(path, sheets: dict[str, list[list]]) -> None:
    book = xlsxwriter.Workbook(str(path))
    dates = book.add_format({"num_format": "yyyy-mm-dd"})
    stamps = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for i, row in enumerate(rows):
            for j, value in enumerate(row):
                if isinstance(value, dt.datetime):
                    sheet.write_datetime(i, j, value, stamps)
                elif isinstance(value, dt.date):
                    sheet.write_datetime(i, j, dt.datetime(value.year, value.month, value.day),
                                         dates)
                elif isinstance(value, str):
                    sheet.write_string(i, j, value)
                else:
                    sheet.write(i, j, value)
    book.close()


def write_xls(path, rows: list[list]) -> None:
    book = xlwt.Workbook()
    sheet = book.add_sheet("patients")
    dates = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            sheet.write(i, j, value, dates if isinstance(value, dt.date) else xlwt.Style.default_style)
    book.save(str(path))


def ods_bytes(rows: list[list[str]]) -> bytes:
    cells = "".join(
        "<table:table-row>" + "".join(
            f'<table:table-cell office:value-type="string"><text:p>{escape(v)}</text:p>'
            "</table:table-cell>" for v in row) + "</table:table-row>" for row in rows)
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="Feuille1">'
        f"{cells}</table:table></office:spreadsheet></office:body></office:document-content>")
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def test_xlsx_every_sheet_a_source_cells_as_text(tmp_path):
    path = tmp_path / "leak.xlsx"
    write_xlsx(path, {"patients": PATIENTS, "notes": [["free text"], ["x"], ["y"]],
                      "blank": []})
    rows, _, sources = read_all(path)
    assert [s.info.name for s in sources] == [f"{path}#patients", f"{path}#notes",
                                              f"{path}#blank"]
    assert rows[:2] == EXPECTED
    assert rows[2:] == [{"free text": "x"}, {"free text": "y"}]
    assert [s.accounting.parsed for s in sources] == [2, 2, 0]
    assert sources[0].info.format == "spreadsheet" and sources[0].info.header is True


def test_sheet_without_header_gets_numbered_columns(tmp_path):
    path = tmp_path / "raw.xlsx"
    write_xlsx(path, {"s": [["a@x.fr", "0612345678"], ["b@y.fr", "0698765432"]]})
    rows, _, _ = read_all(path)
    assert rows == [{"col_1": "a@x.fr", "col_2": "0612345678"},
                    {"col_1": "b@y.fr", "col_2": "0698765432"}]


def test_a_title_above_the_table_is_skipped_and_counted(tmp_path):
    path = tmp_path / "export.xlsx"
    title = [["Export du 12/03/2019", "", "", "", ""], [], ["Laboratoire Biomed"]]
    write_xlsx(path, {"patients": title + PATIENTS})
    rows, accounting, (source,) = read_all(path)
    assert rows == EXPECTED
    assert source.info.header is True
    assert accounting.reasons == {"preamble": 2} and accounting.parsed == 2


def test_a_table_below_many_blank_rows_is_read(tmp_path):
    # Blank rows beyond the header sample once ended the sheet without a word.
    path = tmp_path / "low.xlsx"
    write_xlsx(path, {"s": [[] for _ in range(300)] + PATIENTS})
    rows, accounting, _ = read_all(path)
    assert rows == EXPECTED
    assert accounting.read == accounting.parsed == 2


def test_a_header_without_rows_still_names_its_columns(tmp_path):
    path = tmp_path / "empty.xlsx"
    write_xlsx(path, {"s": [PATIENTS[0]]})
    _, accounting, (source,) = read_all(path)
    assert accounting.read == 0
    assert source.declared_columns() == PATIENTS[0]


def test_xls(tmp_path):
    path = tmp_path / "old.xls"
    write_xls(path, [row[:4] for row in PATIENTS])
    rows, _, (source,) = read_all(path)
    assert source.info.name.endswith("old.xls#patients")
    assert rows == [{k: v for k, v in r.items() if k != "ok"} for r in EXPECTED][:1] + [
        {"email": "b@y.fr", "tel": "612345678", "born": "2001-05-04T13:30:00", "score": "12"}]


def test_ods(tmp_path):
    path = tmp_path / "sheet.ods"
    path.write_bytes(ods_bytes([["nom", "tel"], ["Zoë", "06 12 34 56 78"]]))
    rows, _, (source,) = read_all(path)
    assert source.info.name.endswith("#Feuille1")
    assert rows == [{"nom": "Zoë", "tel": "06 12 34 56 78"}]


def test_workbook_inside_a_zip_is_read_in_memory(tmp_path):
    book = tmp_path / "b.xlsx"
    write_xlsx(book, {"patients": PATIENTS})
    path = tmp_path / "leak.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(book, "exports/b.xlsx")
    rows, _, (source,) = read_all(path)
    assert source.info.name == f"{path}!exports/b.xlsx#patients"
    assert rows == EXPECTED


def test_workbook_bomb_refused_before_calamine(tmp_path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<a>" + b" " * (8 << 20) + b"</a>")
    with reading_options(min_allowance=1 << 20), pytest.raises(TriageError, match="bomb"):
        list(open_sources(path))


def test_corrupt_workbook_is_one_line(tmp_path):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 300)
    with pytest.raises(TriageError, match="bad.xlsx"):
        list(open_sources(path))


@pytest.mark.parametrize("value,text", [
    (0.1 + 0.2, "0.30000000000000004"), (1e21, "1e+21"), (3.0, "3"), (-0.0, "0"),
    (dt.time(8, 5), "08:05:00"), (dt.timedelta(hours=25), "1 day, 1:00:00"), ("", ""),
])
def test_cell_text(value, text):
    assert cell_text(value) == text
