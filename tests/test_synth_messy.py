"""--messy: every defect the truth file declares is in the dump, as many times as declared."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

import synthetic

ROWS = 4000


@pytest.fixture(scope="module")
def megabus(tmp_path_factory):
    path = tmp_path_factory.mktemp("messy") / "megabus.csv"
    truth = synthetic.generate("megabus", ROWS, path, seed=21, messy=True, chunk_rows=1500)
    raw = path.read_bytes()
    records = list(csv.reader(io.StringIO(raw.decode("cp1252"), newline=""), delimiter=";"))
    return truth, raw, records


def test_declares_every_defect(megabus):
    truth, _, _ = megabus
    assert set(truth["defects"]) == {
        "legacy_encoding",
        "ragged_rows_too_few_fields",
        "ragged_rows_too_many_fields",
        "quoted_newlines",
        "repeated_header_line",
        "date_formats",
        "email_spaces_and_capitals",
        "phone_formats",
        "truncated_last_line",
    }
    assert all(count > 0 for count in truth["defects"].values()), truth["defects"]


def test_structure_defects(megabus):
    truth, raw, records = megabus
    header, body = records[0], records[1:]
    width = len(header)
    assert not raw.endswith(b"\r\n"), "the last line is truncated"
    assert len(body[-1]) < width
    body = body[:-1]
    assert sum(r == header for r in body) == truth["defects"]["repeated_header_line"] == 1
    assert body.index(header) == ROWS // 2
    data = [r for r in body if r != header]
    assert len(data) == truth["rows"] == ROWS
    assert sum(len(r) < width for r in data) == truth["defects"]["ragged_rows_too_few_fields"]
    assert sum(len(r) > width for r in data) == truth["defects"]["ragged_rows_too_many_fields"]
    comment = header.index("COMMENTAIRE")
    assert sum("\n" in r[comment] for r in data) == truth["defects"]["quoted_newlines"]
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert truth["defects"]["legacy_encoding"] == ROWS and truth["encoding"] == "cp1252"


def _data(records):
    header = records[0]
    return header, [dict(zip(header, r, strict=False)) for r in records[1:-1] if r != header]


def test_cell_defects(megabus):
    truth, _, records = megabus
    _, rows = _data(records)
    assert (
        sum(r["MAIL"] not in ("", r["MAIL"].strip().lower()) for r in rows if "MAIL" in r)
        == truth["defects"]["email_spaces_and_capitals"]
    )
    mobile, fixed = re.compile(r"^0\d( \d\d){4}$"), re.compile(r"^0\d{9}$")
    odd_phone = sum(
        (r["TEL_PORT"] != "" and not mobile.match(r["TEL_PORT"]))
        or (r["TEL_FIXE"] != "" and not fixed.match(r["TEL_FIXE"]))
        for r in rows
    )
    assert odd_phone == truth["defects"]["phone_formats"]
    styles = {re.sub(r"\d", "9", r["TEL_PORT"]) for r in rows} | {
        re.sub(r"\d", "9", r["TEL_FIXE"]) for r in rows
    }
    assert {"+99 9 99 99 99 99", "9999 9 99 99 99 99", "99.99.99.99.99", "9999999999"} <= styles
    native = re.compile(r"^\d\d/\d\d/\d{4}$")
    odd_date = sum(
        any(r.get(h, "") != "" and not native.match(r[h]) for h in ("DT_NAISS", "DATE_PRELEVEMENT"))
        for r in rows
    )
    assert odd_date == truth["defects"]["date_formats"]
    formats = {re.sub(r"\d", "9", r["DATE_PRELEVEMENT"]) for r in rows}
    assert len(formats) >= 5


def test_counts_stay_exact_and_canaries_untouched(megabus):
    truth, raw, records = megabus
    _, rows = _data(records)
    assert len({r["IPP"] for r in rows}) == truth["people"]
    for category, expected in truth["people_by_category"].items():
        headers = [h for h, c in truth["columns"].items() if c == category]
        people = {r["IPP"] for r in rows if any(r.get(h, "") != "" for h in headers)}
        assert len(people) == expected, category
    text = raw.decode("cp1252")
    for canary in truth["canaries"]:
        for category in ("email", "phone", "national_id"):
            assert text.count(canary[category]) == canary["rows"], (category, canary)


def test_jsonl_defects(tmp_path):
    path = tmp_path / "events.jsonl"
    truth = synthetic.generate("pixel_events", 3000, path, seed=5, messy=True)
    lines = path.read_bytes().decode("utf-8").split("\n")
    with pytest.raises(json.JSONDecodeError):
        json.loads(lines[-1])
    events = [json.loads(line) for line in lines[:-1]]
    keys = list(truth["columns"])
    assert len(events) == truth["rows"]
    assert (
        sum(len(e) < len(keys) for e in events)
        == truth["defects"]["ragged_rows_too_few_fields"]
        > 0
    )
    assert (
        sum(len(e) > len(keys) for e in events)
        == truth["defects"]["ragged_rows_too_many_fields"]
        > 0
    )
    iso = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
    assert (
        sum(not iso.match(e["timestamp"]) for e in events) == truth["defects"]["date_formats"] > 0
    )
    assert truth["encoding"] == "utf-8" and "legacy_encoding" not in truth["defects"]


def test_utf8_scenario_becomes_cp1252(tmp_path):
    path = tmp_path / "rdv.csv"
    truth = synthetic.generate("appointments", 500, path, seed=5, messy=True)
    assert truth["encoding"] == "cp1252" and truth["defects"]["legacy_encoding"] == 500
    raw = path.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert "é" in raw.decode("cp1252")
