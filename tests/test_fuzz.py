"""Property tests of every reader.

1. A generated table written in each format (and inside each archive) reads back identically.
2. Random bytes, and valid files with bytes flipped or cut, raise nothing but TriageError.

The default run is bounded (a few seconds); ``-m slow`` runs many more examples.
"""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.archives import in_7z, in_tar_gz, in_zip
from tests.conftest import read_all
from triage.errors import TriageError

py7zr = pytest.importorskip("py7zr")
xlsxwriter = pytest.importorskip("xlsxwriter")

QUICK = settings(max_examples=15, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
LONG = settings(max_examples=400, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(autouse=True)
def _long_runs_only_when_asked(request):
    if request.node.get_closest_marker("slow") and \
            "slow" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("long fuzz: run with -m slow")

# Text that stresses quoting and escaping in every format, without control characters
# (spreadsheets cannot hold them) and not blank (a blank line is no record in CSV).
_ALPHABET = st.sampled_from(list("aZé0 9,;'\"\\|()%_-.@+ñ😀") + ["\\n", "),(", "NULL", "\\N"])
VALUE = st.lists(_ALPHABET, min_size=0, max_size=8).map("".join)
NAMES = st.lists(st.from_regex(r"[a-z][a-z_]{0,6}", fullmatch=True), min_size=1, max_size=5,
                 unique=True)


@st.composite
def tables(draw, nullable: bool = False) -> tuple[list[str], list[dict]]:
    """Columns and rows; the first column is a numeric id, so a header is unmistakable."""
    names = ["id"] + [n for n in draw(NAMES) if n != "id"]
    count = draw(st.integers(min_value=1, max_value=12))
    cell = st.one_of(st.none(), VALUE) if nullable else VALUE
    rows = [{"id": str(i), **{n: draw(cell) for n in names[1:]}} for i in range(count)]
    return names, rows


def _mysql(value: str | None) -> str:
    if value is None:
        return "NULL"
    escaped = (value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n")
               .replace("\t", "\\t"))
    return f"'{escaped}'"


def write_sql(names: list[str], rows: list[dict], spaced: bool) -> bytes:
    sep = ", " if spaced else ","
    tuples = sep.join("(" + sep.join(_mysql(r[n]) for n in names) + ")" for r in rows)
    columns = ", ".join(f"`{n}` text" for n in names)
    return f"CREATE TABLE `t` ({columns});\nINSERT INTO `t` VALUES {tuples};\n".encode()


def write_copy(names: list[str], rows: list[dict]) -> bytes:
    def cell(value: str | None) -> str:
        if value is None:
            return "\\N"
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")

    lines = "".join("\t".join(cell(r[n]) for n in names) + "\n" for r in rows)
    return (f"-- PostgreSQL database dump\nCOPY public.t ({', '.join(names)}) FROM stdin;\n"
            f"{lines}\\.\n").encode()


def write_csv(names: list[str], rows: list[dict]) -> bytes:
    return pl.DataFrame(rows, schema=dict.fromkeys(names, pl.String)).write_csv(
        separator=";", quote_style="always").encode()


def write_jsonl(names: list[str], rows: list[dict]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


def write_parquet(names: list[str], rows: list[dict]) -> bytes:
    buffer = io.BytesIO()
    pl.DataFrame(rows, schema=dict.fromkeys(names, pl.String)).write_parquet(buffer)
    return buffer.getvalue()


def write_xlsx(names: list[str], rows: list[dict]) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False})
    sheet = book.add_worksheet("t")
    sheet.write_row(0, 0, names)
    for i, row in enumerate(rows, start=1):
        for j, name in enumerate(names):
            sheet.write_string(i, j, row[name])
    book.close()
    return buffer.getvalue()


def _read_back(name: str, data: bytes) -> list[dict]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        rows, _, _ = read_all(path)
    return rows


# -- round trips -------------------------------------------------------------------------


def _round_trip(table, writer, name):
    names, rows = table
    assert _read_back(name, writer(names, rows)) == rows


@QUICK
@given(tables(nullable=True), st.booleans())
def test_mysql_round_trip(table, spaced):
    names, rows = table
    assert _read_back("d.sql", write_sql(names, rows, spaced)) == rows


@QUICK
@given(tables(nullable=True))
def test_postgres_copy_round_trip(table):
    names, rows = table
    assert _read_back("d.sql", write_copy(names, rows)) == rows


@QUICK
@given(tables())
def test_csv_round_trip(table):
    _round_trip(table, write_csv, "d.csv")


@QUICK
@given(tables(nullable=True))
def test_jsonl_round_trip(table):
    _round_trip(table, write_jsonl, "d.jsonl")


@QUICK
@given(tables(nullable=True))
def test_parquet_round_trip(table):
    _round_trip(table, write_parquet, "d.parquet")


@QUICK
@given(tables())
def test_xlsx_round_trip(table):
    _round_trip(table, write_xlsx, "d.xlsx")


@QUICK
@given(tables(), st.sampled_from([("a.zip", in_zip), ("a.tar.gz", in_tar_gz), ("a.7z", in_7z)]))
def test_archived_round_trip(table, container):
    names, rows = table
    archive_name, pack = container
    assert _read_back(archive_name, pack("inner/d.csv", write_csv(names, rows))) == rows


# -- hostile bytes -----------------------------------------------------------------------------

SUFFIXES = ["csv", "jsonl", "sql", "xlsx", "xls", "ods", "zip", "tar", "tar.gz", "7z",
            "parquet", "csv.gz", "csv.zst", "bin"]


def _only_triage_errors(name: str, data: bytes) -> None:
    try:
        _read_back(name, data)
    except TriageError as error:
        assert "\n" not in str(error)


def _valid_files() -> dict[str, bytes]:
    names = ["id", "email"]
    rows = [{"id": str(i), "email": f"u{i}@x.fr"} for i in range(30)]
    csv = write_csv(names, rows)
    return {"d.csv": csv, "d.sql": write_sql(names, rows, False),
            "c.sql": write_copy(names, rows), "d.jsonl": write_jsonl(names, rows),
            "d.parquet": write_parquet(names, rows), "d.xlsx": write_xlsx(names, rows),
            "a.zip": in_zip("d.csv", csv), "a.tar.gz": in_tar_gz("d.csv", csv),
            "a.7z": in_7z("d.csv", csv)}


VALID = _valid_files()


@QUICK
@given(st.sampled_from(SUFFIXES), st.binary(max_size=2048))
def test_random_bytes_raise_only_triage_errors(suffix, data):
    _only_triage_errors(f"f.{suffix}", data)


# Damaged Parquet is fuzzed on its own below: polars panics on some (reported to the lead).
DAMAGEABLE = sorted(n for n in VALID if not n.endswith(".parquet"))


@st.composite
def mutations(draw, names: list[str] = DAMAGEABLE) -> tuple[str, bytes]:
    name = draw(st.sampled_from(names))
    data = bytearray(VALID[name])
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        position = draw(st.integers(min_value=0, max_value=len(data) - 1))
        data[position] = draw(st.integers(min_value=0, max_value=255))
    if draw(st.booleans()):
        data = data[: draw(st.integers(min_value=0, max_value=len(data)))]
    return name, bytes(data)


@QUICK
@given(mutations())
def test_damaged_files_raise_only_triage_errors(mutation):
    _only_triage_errors(*mutation)


@QUICK
@given(mutations(["d.parquet"]))
def test_damaged_parquet_raises_only_triage_errors(mutation):
    _only_triage_errors(*mutation)


@pytest.mark.slow
@LONG
@given(mutations())
def test_damaged_files_long(mutation):
    _only_triage_errors(*mutation)


@pytest.mark.slow
@LONG
@given(st.sampled_from(SUFFIXES), st.binary(max_size=8192))
def test_random_bytes_long(suffix, data):
    _only_triage_errors(f"f.{suffix}", data)


@pytest.mark.slow
@LONG
@given(tables(nullable=True), st.booleans())
def test_mysql_round_trip_long(table, spaced):
    names, rows = table
    assert _read_back("d.sql", write_sql(names, rows, spaced)) == rows
