"""JSON reader: keys that are data, bounded columns, repeated keys, documents, depth.

Every test builds its input and states what the reader must give; the deep-nesting
ones run the reader in a child process, since a parser that recursed through the
input could take the process down with it.
"""

from __future__ import annotations

import itertools
import json
import os
import string
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import read_all
from triage.errors import TriageError
from triage.sources import jsonl, open_sources

REPO = Path(__file__).resolve().parent.parent
CANARY = "canary.zq81@example.org"


def _write_lines(path: Path, records: list) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")
    return path


def _names(count: int) -> list[str]:
    """``count`` distinct keys that are field-like (no digit, no @), as names can be."""
    words = ("".join(p).title() for p in itertools.product(string.ascii_lowercase, repeat=3))
    return [f"Jean {word}" for word in itertools.islice(words, count)]


def _present(rows: list[dict]) -> list[dict]:
    """Rows without their null cells: a column absent from a row or null in it is the same."""
    return [{k: v for k, v in row.items() if v is not None} for row in rows]


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "HOME": str(home), "TMPDIR": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"), "XDG_DATA_HOME": str(home / ".data"),
            "TRIAGE_DEBUG": "0"}


def _triage(home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "triage", *args], capture_output=True,
                          check=False, text=True, cwd=home, env=_env(home), input=stdin, timeout=180)


# -- keys that are data -------------------------------------------------------------------

@pytest.mark.parametrize("key", [
    "a@example.fr", CANARY, "0612345678", "+33 6 12 34 56 78", "06.12.34.56.78",
    "1 85 05 78 006 084 36", "RSSMRA85T10A562S", "AB123456C", "2023-01-15", "192.168.1.20",
    "10.0.0.1", "75001", "3f2504e0-4f89-11d3-9a0c-0305e82c3301", "42", "7", "x" * 65,
])
def test_keys_that_are_values_look_like_data(key):
    assert jsonl.looks_like_data(key)


@pytest.mark.parametrize("key", [
    "email", "@timestamp", "@type", "address_line_2", "sha256", "q1_2023", "First Name",
    "user.name", "phone_number", "ip_v4", "x509_v3", "x" * 64,
])
def test_field_names_do_not_look_like_data(key):
    assert not jsonl.looks_like_data(key)


def test_keys_that_look_like_data_are_flattened_as_a_map(tmp_path):
    path = _write_lines(tmp_path / "k.jsonl", [
        {CANARY: {"phone": "0612345678"}},
        {"a@example.fr": {"phone": "0611111111"}},
        {"by_email": {"b@example.fr": {"tel": "0622222222"},
                      "c@example.fr": {"tel": "0633333333"}}},
        {"by_phone": {"+33 6 44 44 44 44": "x"}, "id": "r5"},
    ])
    rows, accounting, _ = read_all(path)
    assert {name for row in rows for name in row} == {
        "*.phone", "by_email.*.tel", "by_email.*.tel_2", "by_phone.*", "id"}
    assert _present(rows) == [
        {"*.phone": "0612345678"},
        {"*.phone": "0611111111"},
        {"by_email.*.tel": "0622222222", "by_email.*.tel_2": "0633333333"},
        {"by_phone.*": "x", "id": "r5"},
    ]
    # Entries of a map share names by nature: not a duplicate, but counted as data keys.
    assert accounting.repaired == {"data_keys": 4}
    assert CANARY not in json.dumps(accounting.to_dict())


def test_a_map_keyed_by_data_makes_one_column_whatever_its_size(tmp_path):
    path = _write_lines(tmp_path / "map.jsonl",
                        [{f"user{i:05d}@example.org": {"phone": f"06{i:08d}"}}
                         for i in range(3000)])
    rows, accounting, _ = read_all(path)
    assert {name for row in rows for name in row} == {"*.phone"}
    assert [row["*.phone"] for row in rows] == [f"06{i:08d}" for i in range(3000)]
    assert accounting.parsed == 3000 and accounting.repaired == {"data_keys": 3000}


def test_no_key_canary_in_anything_scan_writes(tmp_path):
    """The red-team reproduction: a canary email as a key, in JSON Lines and in a JSON
    array, must reach neither stdout, stderr nor any file of the output directory."""
    home = tmp_path / "home"
    home.mkdir()
    lines = _write_lines(tmp_path / "k.jsonl", [
        {CANARY: {"phone": "0612345678"}}, {"a@example.fr": {"phone": "0611111111"}},
        {"by_email": {CANARY.upper(): {"tel": "0622222222"}}},
    ])
    array = tmp_path / "a.json"
    array.write_text(json.dumps([{CANARY: {"phone": "0633333333"}}, {"x": "1"}], indent=2))
    key = tmp_path / "hmac.key"
    assert _triage(home, "keygen", "hmac", "-o", str(key)).returncode == 0
    out = tmp_path / "out"
    result = _triage(home, "scan", "-q", str(lines), str(array), "-o", str(out), "--key",
                     str(key), "--plaintext")
    assert result.returncode == 0, result.stderr
    written = [p for p in out.rglob("*") if p.is_file()]
    assert written
    for blob in [result.stdout.encode(), result.stderr.encode(),
                 *(p.read_bytes() for p in written)]:
        assert CANARY.encode() not in blob.lower()
    # The values under those keys were still profiled, under the placeholder.
    assert "*.phone" in (out / "profile.json").read_text()


# -- the bound on columns -----------------------------------------------------------------

def test_columns_past_the_bound_go_to_extra_and_are_counted(tmp_path):
    keys = _names(jsonl.MAX_COLUMNS + 200)
    path = _write_lines(tmp_path / "wide.jsonl",
                        [{"who": {key: f"v{i}"}} for i, key in enumerate(keys)])
    rows, accounting, _ = read_all(path)
    names = {name for row in rows for name in row}
    assert len(names) == jsonl.MAX_COLUMNS + 1 and "_extra" in names
    extra = [row["_extra"] for row in rows if row.get("_extra") is not None]
    # The surplus values, never their keys (which may be names).
    assert [json.loads(cell) for cell in extra] == [[f"v{i}"] for i in
                                                    range(jsonl.MAX_COLUMNS, len(keys))]
    assert not any("Jean" in cell for cell in extra)
    assert accounting.parsed == len(keys)
    assert accounting.repaired == {"too_many_columns": 200}


def test_frames_of_many_sparse_columns_stay_small(tmp_path, monkeypatch):
    monkeypatch.setattr(jsonl, "MAX_FRAME_CELLS", 2000)
    keys = [f"field_{c}" for c in _names(50)]
    path = _write_lines(tmp_path / "sparse.jsonl",
                        [{keys[i % 50]: f"{i:06d}"} for i in range(3000)])
    heights = []
    for source in open_sources(path):
        for batch in source.batches():
            heights.append(batch.height)
            # one row of slack: pieces are cut at the line after a byte offset
            assert batch.height * batch.width <= 2000 + batch.width
    assert sum(heights) == 3000


# -- keys that give one name --------------------------------------------------------------

def test_a_dotted_key_beside_the_object_keeps_both_values(tmp_path):
    path = _write_lines(tmp_path / "c.jsonl", [
        {"contact.email": f"person{i}@example.org", "contact": {"email": "n/a"}}
        for i in range(20)])
    rows, accounting, _ = read_all(path)
    assert [row["contact.email"] for row in rows] == [f"person{i}@example.org" for i in range(20)]
    assert [row["contact.email_2"] for row in rows] == ["n/a"] * 20
    assert accounting.repaired == {"duplicate_key": 20}


def test_a_repeated_key_keeps_every_value_fast_or_exact(tmp_path):
    # The repeat comes after the rows the fast path samples, and in a short file.
    lines = [f'{{"a": "{i}", "b": "x"}}' for i in range(400)]
    lines[350] = '{"a": "first", "b": "x", "a": "second", "a": "third"}'
    path = tmp_path / "r.jsonl"
    path.write_text("\n".join(lines) + "\n")
    rows, accounting, _ = read_all(path)
    assert _present(rows)[350] == {"a": "first", "b": "x", "a_2": "second", "a_3": "third"}
    assert accounting.repaired == {"duplicate_key": 1}
    assert accounting.regions == [{"reason": "duplicate_key", "kept": True, "line": 351}]

    short = tmp_path / "s.jsonl"
    short.write_text('{"a": 1, "a": 2}\n')
    rows, accounting, _ = read_all(short)
    assert rows == [{"a": "1", "a_2": "2"}]
    assert accounting.repaired == {"duplicate_key": 1}


def test_index_and_lookup_find_an_email_beside_a_colliding_key(tmp_path):
    """The red-team reproduction: with ``contact.email`` beside ``contact: {email}``,
    index added no identifier and lookup said not found."""
    home = tmp_path / "home"
    home.mkdir()
    path = _write_lines(tmp_path / "c.jsonl", [
        {"contact.email": f"person{i}@example.org", "contact": {"email": "n/a"}}
        for i in range(20)])
    key = tmp_path / "hmac.key"
    assert _triage(home, "keygen", "hmac", "-o", str(key)).returncode == 0
    index = _triage(home, "index", "-q", str(path), "--key", str(key), "--leak-id", "c1",
                    "-o", str(tmp_path / "idx"))
    assert index.returncode == 0, index.stderr
    assert "20 identifiers" in index.stdout
    lookup = _triage(home, "lookup", str(tmp_path / "idx"), "--key", str(key), "--email", "-",
                     stdin="person7@example.org\n")
    assert lookup.returncode == 0, lookup.stderr
    assert "found in" in lookup.stdout.lower() and "(c1)" in lookup.stdout


# -- JSON documents -----------------------------------------------------------------------

RECORDS = [{"email": f"p{i}@example.org", "phone": f"06{i:08d}", "n": {"k": i}} for i in range(30)]
FLAT = [{"email": r["email"], "phone": r["phone"], "n.k": str(r["n"]["k"])} for r in RECORDS]


@pytest.mark.parametrize("text", [
    json.dumps(RECORDS, indent=2),                                  # json.dump(indent=2)
    json.dumps(RECORDS),                                            # one line
    "\ufeff" + json.dumps(RECORDS, indent="\t"),                    # BOM, tabs
    "\n".join(json.dumps(r, indent=2) for r in RECORDS),            # jq . output
    json.dumps(RECORDS[:10]) + "\n" + json.dumps(RECORDS[10:], indent=1),  # two arrays
])
@pytest.mark.parametrize("block", [7, 1 << 20])
def test_a_json_document_is_read_record_by_record(tmp_path, monkeypatch, text, block):
    monkeypatch.setattr(jsonl, "CHUNK_BYTES", block)  # values cut across blocks
    path = tmp_path / "d.json"
    path.write_text(text, encoding="utf-8")
    rows, accounting, _ = read_all(path)
    assert rows == FLAT
    assert accounting.to_dict()["read"] == accounting.parsed == 30
    assert accounting.rejected == 0


def test_a_document_counts_what_is_not_a_record_by_line(tmp_path):
    path = tmp_path / "d.json"
    path.write_text('[\n {"a": 1},\n 5,\n [1, 2],\n "x",\n {"a": ' + "9" * 5000
                    + '},\n {"a": 2.5}\n]\n')
    rows, accounting, _ = read_all(path)
    assert rows == [{"a": "1"}, {"a": "2.5"}]
    assert accounting.reasons == {"not_an_object": 3, "number_too_long": 1}
    assert [r["line"] for r in accounting.regions] == [3, 4, 5, 6]


@pytest.mark.parametrize("text,where", [
    ('[\n{"a": "0612345678"},\n{"a": 2', "line 3"),                      # truncated
    ('[\n{"a": "0612345678"},\n{"a": tru},\n{"a": 3}\n]', "line 3"),     # invalid value
    ('[\n{"a": "0612345678"}\n{"a": 3}\n]', "line 3"),                   # missing comma
    ('{\n  "a": "0612345678",\n  "b": [1, 2\n', "line 1"),              # pretty, cut
])
def test_a_broken_document_is_a_one_line_error(tmp_path, text, where):
    path = tmp_path / "broken.json"
    path.write_text(text)
    with pytest.raises(TriageError) as error:
        read_all(path)
    message = str(error.value)
    assert "\n" not in message and "broken.json" in message and where in message
    assert "0612345678" not in message
    home = tmp_path / "home"
    home.mkdir()
    result = _triage(home, "profile", "-q", str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "0612345678" not in result.stderr + result.stdout


def test_a_document_record_over_the_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(jsonl, "CHUNK_BYTES", 64)
    monkeypatch.setattr(jsonl, "MAX_VALUE_BYTES", 1000)
    path = tmp_path / "big.json"
    path.write_text(json.dumps([{"a": 1}, {"a": "x" * 5000}, {"a": 2}]))
    with pytest.raises(TriageError, match="record over 1,000 bytes"):
        read_all(path)


def test_a_json_lines_record_over_the_limit_is_skipped_and_counted(tmp_path, monkeypatch):
    monkeypatch.setattr(jsonl, "CHUNK_BYTES", 64)
    monkeypatch.setattr(jsonl, "MAX_VALUE_BYTES", 1000)
    path = tmp_path / "long.jsonl"
    path.write_text('{"a": 1}\n{"a": "' + "x" * 5000 + '"}\n{"a": 2}\n')
    rows, accounting, _ = read_all(path)
    assert rows == [{"a": "1"}, {"a": "2"}]
    assert accounting.reasons == {"record_too_long": 1}
    assert accounting.regions[0]["line"] == 2


# -- depth --------------------------------------------------------------------------------

_READ = """
import json, sys
from tests.conftest import read_all
rows, accounting, _ = read_all(sys.argv[1])
print(json.dumps({"rows": rows, "accounting": accounting.to_dict()}))
"""


def _read_in_child(path: Path) -> dict:
    result = subprocess.run([sys.executable, "-c", _READ, str(path)], capture_output=True,
                            check=False, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])
    return json.loads(result.stdout)


def _nested(depth: int) -> str:
    return '{"x":' * depth + "1" + "}" * depth


@pytest.mark.parametrize("deep", [
    lambda: _nested(3000),                           # past Python's recursion limit
    lambda: _nested(600),                            # polars' parser overflows its stack
    lambda: _nested(jsonl.MAX_DEPTH + 1),            # parsed, but too deep to flatten
    lambda: "[" * 3000 + "]" * 3000,                 # not an object, still too deep
], ids=["3000", "600", "max+1", "lists"])
def test_deep_nesting_is_a_counted_rejection(tmp_path, deep):
    path = tmp_path / "deep.jsonl"
    path.write_text('{"a": 1}\n' + deep() + '\n{"a": 2}\n')
    result = _read_in_child(path)
    assert _present(result["rows"]) == [{"a": "1"}, {"a": "2"}]
    accounting = result["accounting"]
    assert accounting["reasons"] == {"too_deep": 1}
    assert [r["line"] for r in accounting["regions"]] == [2]


def test_objects_as_deep_as_allowed_are_flattened(tmp_path):
    path = tmp_path / "ok.jsonl"
    path.write_text(_nested(jsonl.MAX_DEPTH - 1) + "\n")
    rows, accounting, _ = read_all(path)
    assert rows == [{".".join(["x"] * (jsonl.MAX_DEPTH - 1)): "1"}]
    assert accounting.rejected == 0


def test_deep_nesting_in_a_document_is_a_counted_rejection(tmp_path, monkeypatch):
    monkeypatch.setattr(jsonl, "CHUNK_BYTES", 1000)
    path = tmp_path / "deep.json"
    path.write_text('[{"a": 1}, ' + _nested(3000) + ', "' + "[{" * 10 + '", ' + "[" * 3000
                    + "]" * 3000 + ', {"a": 2}]')
    rows, accounting, _ = read_all(path)
    assert _present(rows) == [{"a": "1"}, {"a": "2"}]
    assert accounting.reasons == {"too_deep": 2, "not_an_object": 1}


# -- small things that were lost ----------------------------------------------------------

def test_lines_of_empty_objects_are_counted(tmp_path):
    path = tmp_path / "e.jsonl"
    path.write_text("{}\n{}\n")
    rows, accounting, _ = read_all(path)
    assert rows == []  # no column, no frame
    assert accounting.read == accounting.parsed == 2


def test_empty_objects_and_huge_numbers_are_counted(tmp_path):
    path = tmp_path / "e.jsonl"
    path.write_text('{}\n{}\n{"a": ' + "1" * 5000 + '}\n{"a": 1}\n')
    rows, accounting, _ = read_all(path)
    assert _present(rows) == [{}, {}, {"a": "1"}]
    assert accounting.read == 4 and accounting.parsed == 3
    assert accounting.reasons == {"number_too_long": 1}


# -- the fast path ------------------------------------------------------------------------

def _varied_records(count: int) -> list:
    records = []
    for i in range(count):
        record = {"id": i, "email": f"user{i}@example.org", "ok": i % 2 == 0,
                  "addr": {"city": "Paris" if i % 3 else "Saint-Étienne", "zip": "75001"},
                  "note": None if i % 4 else 'said "hi": then {left} [x]',
                  "seen": "2023-01-01T12:30:00", "big": 10**25 + i}
        if i % 500 == 499:
            record["rare"] = "r"  # a key the sample of the chunk misses
        if i % 700 == 350:
            record["addr"]["extra"] = {"floor": "2"}
        records.append(record)
    return records


def test_the_fast_path_gives_the_exact_paths_rows_across_chunks(tmp_path, monkeypatch):
    lines = [json.dumps(r) for r in _varied_records(3000)]
    lines[1234] = lines[1234][:-1] + ', "id": "again"}'               # a repeated key
    lines[2000] = '{"id": 2000, "email": "x@example.org": "bad"}'    # a bad line
    lines[2100] = '{"id": 2100, "email": null, "addr": null}'        # explicit nulls
    path = tmp_path / "v.jsonl"
    path.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(jsonl, "CHUNK_BYTES", 16 * 1024)
    monkeypatch.setattr(jsonl, "SAMPLE_ROWS", 8)
    parse = jsonl._fast_parse
    taken = []

    def counting(*args):
        parsed = parse(*args)
        taken.append(parsed is not None)
        return parsed

    monkeypatch.setattr(jsonl, "_fast_parse", counting)
    fast_rows, fast_accounting, _ = read_all(path)
    assert sum(taken) >= len(taken) // 2  # most chunks did take polars
    monkeypatch.setattr(jsonl, "_fast_parse", lambda *_: None)
    exact_rows, exact_accounting, _ = read_all(path)
    assert _present(fast_rows) == _present(exact_rows)
    assert fast_accounting.to_dict() == exact_accounting.to_dict()
    assert exact_accounting.reasons == {"invalid_json": 1}
    assert exact_accounting.repaired == {"duplicate_key": 1}
    assert _present(exact_rows)[1234]["id_2"] == "again"


@pytest.mark.parametrize("text,members", [
    (b'{"a":1,"b":"x"}\n', 2),
    (b'{"a": 1, "b": null, "c": {"d": "e"}}\n', 3),       # null not counted, objects are
    (b'{"a" : 1, "b" :null}\n', 1),                       # a space before the colon
    (b'{"t":"12:30","u":"http://x","v":"a : b"}\n', 3),   # colons inside strings
    (b'{"a":"x","a":"y"}\n', 2),                          # a repeat: polars keeps one
    (b'{"s":"say \\": no"}\n', 1),                        # an escaped quote is no key's end
    (b'{"a\\\\":1}\n', 1),                                  # a key ending in a backslash
    (b'{"s":":x"}\n', 2),                                  # a string starting with a colon
    (b'{"s":":)"}\n', None),                               # its "value" is no JSON's: unsure
    (b'{"a"  :1}\n', None),                               # unsure: the exact path
    (b'{"a":1,"b":-12,"c":{"d":123456789012345678901234}}\n', 4),  # integers: polars' text
    (b'{"s":"1.5","t":"a@b.e","u":"2E-3"}\n', 3),        # floats' bytes inside strings
    (b'{"a":1.0}\n', None),                              # floats: polars writes them
    (b'{"a": 1e20}\n', None),                            # otherwise than json
    (b'{"a":-0.5}\n', None),
    (b'{"b":{"c":2E-3}}\n', None),                        # in a nested object too
    (b'{"a":[1]}\n', None),                              # a list
    (b'{"a":  1}\n', None),                              # unsure: more than one space
])
def test_members_are_counted_from_the_bytes(text, members):
    assert jsonl._members(text) == members


@pytest.mark.parametrize("text", ['[{"email": "a@x.fr"},\n {"email": "b@y.fr"}]\n',
                                  '\ufeff{"email": "a@x.fr"}\n{"email": "b@y.fr"}\n'])
def test_json_is_known_by_its_content_whatever_the_file_is_called(tmp_path, text):
    path = tmp_path / "dump.txt"
    path.write_text(text, encoding="utf-8")
    rows, accounting, (source,) = read_all(path)
    assert source.info.format == "jsonl"
    assert rows == [{"email": "a@x.fr"}, {"email": "b@y.fr"}]
    assert accounting.parsed == 2


@pytest.mark.parametrize("value", ["1.0", "1e20", "-0.5", "2E-3", "[1.0, 2.5]", '["x"]', "[]",
                                   '{"deep": 1.0}', '{"deep": [3]}', "-7.25e-3"])
@pytest.mark.parametrize("sampled", ['"text"', "12"])
def test_a_float_or_a_list_after_the_sample_reads_as_the_exact_path_reads_it(
        tmp_path, monkeypatch, value, sampled):
    """A float or a list in a column the sample of its chunk saw as text or integers:
    polars, told that column is text, wrote ``1.0`` as ``1`` and ``1e20`` as
    ``100000000000000000000``, so a value's text depended on where it fell."""
    nested = value.startswith("{")
    head = [f'{{"id": "{i}", "v": {sampled}, "w": {{"deep": {sampled}}}}}'
            for i in range(jsonl.SAMPLE_ROWS + 50)]
    tail = [f'{{"id": "t", "v": {sampled}, "w": {value}}}' if nested
            else f'{{"id": "t", "v": {value}, "w": {{"deep": 5}}}}',
            f'{{"id": "u", "v": {sampled}, "w": {{"deep": 6}}}}']
    path = tmp_path / "f.jsonl"
    path.write_text("\n".join(head + tail) + "\n")
    fast_rows, fast_accounting, _ = read_all(path)
    monkeypatch.setattr(jsonl, "_fast_parse", lambda *_: None)
    exact_rows, exact_accounting, _ = read_all(path)
    assert fast_rows == exact_rows
    assert fast_accounting.to_dict() == exact_accounting.to_dict()
    column = "w.deep" if nested else "v"
    assert exact_rows[-2][column] == json.dumps(json.loads(value)["deep"] if nested
                                                else json.loads(value))


def test_floats_and_lists_past_the_sample_read_as_the_exact_path_reads_them(tmp_path,
                                                                            monkeypatch):
    """The review's reproduction: 1.0, 1e20, -0.5, 2E-3 and a list in a column that is
    text and integers for the first rows of the chunk."""
    lines = [json.dumps({"id": i, "code": f"c{i}" if i % 2 else i})
             for i in range(jsonl.SAMPLE_ROWS + 10)]
    lines += ['{"id": 1, "code": 1.0}', '{"id": 2, "code": 1e20}', '{"id": 3, "code": -0.5}',
              '{"id": 4, "code": 2E-3}', '{"id": 5, "code": [1, "a", 2.0]}',
              '{"id": 6, "code": "tail"}']
    path = tmp_path / "f.jsonl"
    path.write_text("\n".join(lines) + "\n")
    fast_rows, _, _ = read_all(path)
    monkeypatch.setattr(jsonl, "_fast_parse", lambda *_: None)
    exact_rows, _, _ = read_all(path)
    assert fast_rows == exact_rows
    assert [row["code"] for row in exact_rows[-6:]] == [
        "1.0", "1e+20", "-0.5", "0.002", '[1, "a", 2.0]', "tail"]
