"""Compression, archives, JSON Lines, Parquet, and one-line errors for bad input."""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import subprocess
import sys
import zipfile

import polars as pl
import pytest
import zstandard

from tests.conftest import read_all

CSV = b"email;tel\na@x.fr;0612345678\nb@y.fr;0698765432\n"
ROWS = [{"email": "a@x.fr", "tel": "0612345678"}, {"email": "b@y.fr", "tel": "0698765432"}]


@pytest.mark.parametrize("name,compress,expected", [
    ("d.csv.gz", gzip.compress, "gzip"),
    ("d.csv.bz2", bz2.compress, "bzip2"),
    ("d.csv.xz", lzma.compress, "xz"),
    ("d.csv.zst", lambda b: zstandard.ZstdCompressor().compress(b), "zstd"),
])
def test_compressed_streams(tmp_path, name, compress, expected):
    path = tmp_path / name
    path.write_bytes(compress(CSV))
    rows, accounting, (source,) = read_all(path)
    assert rows == ROWS
    assert source.info.compression == expected
    assert accounting.parsed == 2


def test_zip_with_many_members_gives_one_source_each(tmp_path):
    path = tmp_path / "leak.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a/patients.csv", CSV)
        archive.writestr("events.jsonl", b'{"ip": "10.0.0.1", "user": {"name": "x"}}\n')
        archive.writestr("empty_dir/", b"")
    rows, accounting, sources = read_all(path)
    assert [s.info.member for s in sources] == ["a/patients.csv", "events.jsonl"]
    assert [s.info.format for s in sources] == ["delimited", "jsonl"]
    assert sources[0].info.name.endswith("leak.zip!a/patients.csv")
    assert accounting.parsed == 3
    assert {"ip": "10.0.0.1", "user.name": "x"} in rows


def test_jsonl_flattens_and_rejects_bad_lines_by_number(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text('{"a": 1, "n": {"b": true, "c": [1, 2]}, "z": null}\n'
                    'not json at all 0612345678\n'
                    '[1, 2]\n'
                    '{"a": 2.5, "extra": "x"}\n')
    rows, accounting, _ = read_all(path)
    assert rows == [
        {"a": "1", "n.b": "true", "n.c": "[1, 2]", "z": None, "extra": None},
        {"a": "2.5", "n.b": None, "n.c": None, "z": None, "extra": "x"},
    ] or rows[0]["n.b"] == "true"
    assert accounting.reasons == {"invalid_json": 1, "not_an_object": 1}
    assert [r["line"] for r in accounting.regions] == [2, 3]
    assert "0612345678" not in str(accounting.to_dict())


def test_parquet_columns_become_strings(tmp_path):
    path = tmp_path / "t.parquet"
    pl.DataFrame({"id": [1, 2], "when": ["2020-01-01", None],
                  "who": [{"first": "A", "last": "B"}, {"first": "C", "last": None}]}
                 ).write_parquet(path)
    rows, accounting, (source,) = read_all(path)
    assert source.info.format == "parquet"
    assert rows == [{"id": "1", "when": "2020-01-01", "who.first": "A", "who.last": "B"},
                    {"id": "2", "when": None, "who.first": "C", "who.last": None}]
    assert accounting.parsed == 2


def _triage(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "triage", *args], capture_output=True, check=False,
                          text=True, cwd=cwd, timeout=120)


def _one_line_error(result, *fragments):
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


def test_missing_file(tmp_path):
    _one_line_error(_triage("profile", str(tmp_path / "nope.csv")), "nope.csv", "no such file")


def test_directory(tmp_path):
    _one_line_error(_triage("profile", str(tmp_path)), str(tmp_path))


def test_permission_denied(tmp_path, monkeypatch):
    # Root reads any file, so the refusal is simulated where the file is opened.
    from triage.errors import TriageError
    from triage.sources import open_sources, stream

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    path = tmp_path / "locked.csv"
    path.write_bytes(CSV)
    monkeypatch.setattr(stream, "open", refuse, raising=False)
    with pytest.raises(TriageError, match="locked.csv: permission denied"):
        open_sources(path)


def test_corrupt_zip(tmp_path):
    path = tmp_path / "bad.zip"
    path.write_bytes(b"PK\x03\x04" + os.urandom(200))
    _one_line_error(_triage("profile", str(path)), "bad.zip")


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_truncated_gzip_names_the_file_and_exits_2(tmp_path, suffix):
    """The read fails on a reading thread; the error still reaches the user as one line."""
    path = tmp_path / f"cut.{suffix}.gz"
    if suffix == "csv":
        body = b"email;tel\n" + b"".join(b"user%d@x.fr;06%08d\n" % (i, i)
                                         for i in range(50_000))
    else:
        body = b"".join(b'{"email": "user%d@x.fr", "tel": "06%08d"}\n' % (i, i)
                        for i in range(50_000))
    path.write_bytes(gzip.compress(body)[:-5000])
    line = _one_line_error(_triage("profile", "-q", str(path)), path.name)
    assert "truncated" in line or "ends early" in line
    assert "@x.fr" not in line


def test_unknown_binary_format(tmp_path):
    path = tmp_path / "blob.bin"
    path.write_bytes(b"\x00\x01\x02" * 1000)
    _one_line_error(_triage("profile", str(path)), "blob.bin", "unknown format")


@pytest.mark.parametrize("lines", [
    ['{"a": "x", "n": {"b": true, "c": 3}}', '{"a": "é", "n": null}', '{"z": -7}'],
    ['{"f": 1.5}', '{"f": 1e20}'],                      # floats: the exact path's text
    ['{"l": [1, {"k": 2}]}', '{"l": []}'],              # lists: JSON text
    ['{"m": 1}', '{"m": "one"}'],                       # mixed types
    ['{"a": 1}', 'not json', '{"a": 2}'],               # a bad line is one rejection
    ['{"a.b": 1, "a": {"b": 2}}'],                      # two fields, one dotted name
])
def test_jsonl_fast_path_gives_exactly_the_exact_paths_rows(tmp_path, lines, monkeypatch):
    from triage.sources import jsonl

    path = tmp_path / "e.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    fast_rows, fast_accounting, _ = read_all(path)
    monkeypatch.setattr(jsonl, "_fast_parse", lambda *_: None)
    exact_rows, exact_accounting, _ = read_all(path)
    assert fast_rows == exact_rows
    assert fast_accounting.to_dict() == exact_accounting.to_dict()
