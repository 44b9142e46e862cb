"""Hostile and odd input: refused in one line, nothing written, bounded memory, no crash."""

from __future__ import annotations

import gzip
import io
import json
import os
import struct
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.conftest import read_all
from tests.test_sources_archives import CSV, ROWS, seven_zip_bytes, tar_bytes, zip_bytes
from triage.errors import PartialInputError, TriageError
from triage.sources import open_sources, reading_options, sql

SMALL = {"min_allowance": 1 << 20}
REPO = Path(__file__).resolve().parent.parent


def _zeros_zip(path: Path, size: int, name: str = "zeros.csv") -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive, \
            archive.open(name, "w", force_zip64=True) as member:
        block = b"0;0\n" * (1 << 18)
        for _ in range(size >> 20):
            member.write(block)


def _triage(*args: str, cwd: Path, tmp: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TMPDIR": str(tmp), "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "triage", *args], capture_output=True, check=False,
                          text=True, cwd=cwd, env=env, timeout=120)


def _one_line(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, lines
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


# -- bombs ----------------------------------------------------------------------------


def test_zip_bomb_refused_by_ratio_while_streaming(tmp_path):
    path = tmp_path / "bomb.zip"
    _zeros_zip(path, 24 << 20)
    with reading_options(**SMALL), pytest.raises(TriageError, match="decompression bomb"):
        read_all(path)


def test_gzip_bomb_refused_by_total(tmp_path):
    path = tmp_path / "bomb.csv.gz"
    path.write_bytes(gzip.compress(b"a;b\n" + b"1;2\n" * (4 << 20)))
    with reading_options(**SMALL), pytest.raises(TriageError, match="decompression bomb"):
        read_all(path)


def test_lying_zip_header_is_not_trusted(tmp_path):
    """A member claiming 1 KiB that inflates to 4 MiB: zipfile stops at the claim, CRC fails."""
    path = tmp_path / "liar.zip"
    _zeros_zip(path, 4 << 20)
    data = bytearray(path.read_bytes())
    central = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 1024)
    struct.pack_into("<I", data, 22, 1024)
    path.write_bytes(bytes(data))
    with pytest.raises(TriageError):
        read_all(path)


def _deflated_zip(path: Path, rows: int = 20_000) -> bytes:
    table = b"id;note\n" + b"".join(b"%d;r\xe9sultat %d\n" % (i, i * 7919 % 10007)
                                     for i in range(rows))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("first.csv", table)
        archive.writestr("second.csv", table)
    return table


def _patch_central(path: Path, member: int, offset: int, value: int) -> None:
    """Rewrite a 32-bit field of a member's central directory entry (what zipfile and
    our inflater trust for sizes and CRC)."""
    data = bytearray(path.read_bytes())
    entry = -1
    for _ in range(member + 1):
        entry = data.index(b"PK\x01\x02", entry + 1)
    struct.pack_into("<I", data, entry + offset, value)
    path.write_bytes(bytes(data))


def test_deflated_zip_members_read_as_zipfile_reads_them(tmp_path):
    """Members are inflated by ISA-L, not zipfile: the same bytes, every row, both members."""
    path = tmp_path / "leak.zip"
    table = _deflated_zip(path)
    with zipfile.ZipFile(path) as archive:
        assert archive.infolist()[1].compress_type == zipfile.ZIP_DEFLATED
        assert archive.read("second.csv") == table
    rows, accounting, sources = read_all(path)
    assert [s.info.name.rsplit("!", 1)[1] for s in sources] == ["first.csv", "second.csv"]
    assert accounting.parsed == len(rows) == 40_000
    assert rows[19_999] == {"id": "19999", "note": f"résultat {19_999 * 7919 % 10007}"}


@pytest.mark.parametrize("field, value, error", [
    (16, 0x12345678, "corrupt compressed data"),  # CRC-32
    (20, 2000, "input ends early"),  # compressed size: the deflate stream is cut
    (24, 1000, "corrupt compressed data"),  # declared size below what inflates
])
def test_a_deflated_member_that_lies_about_its_crc_or_sizes_is_refused(tmp_path, field, value,
                                                                         error):
    path = tmp_path / "liar.zip"
    _deflated_zip(path)
    _patch_central(path, 1, field, value)
    with pytest.raises((TriageError, PartialInputError), match=error):
        read_all(path)


def test_nesting_deeper_than_three_refused(tmp_path):
    data = zip_bytes({"p.csv": CSV})
    for level in range(4):
        data = zip_bytes({f"level{level}.zip": data})
    path = tmp_path / "russian.zip"
    path.write_bytes(data)
    with pytest.raises(TriageError, match="nested more than 3 deep"):
        read_all(path)


def test_member_count_limit(tmp_path):
    path = tmp_path / "many.tar"
    path.write_bytes(tar_bytes({f"m{k}.csv": CSV for k in range(60)}))
    with reading_options(max_members=50), pytest.raises(TriageError, match="archive bomb"):
        read_all(path)


def test_big_member_needing_random_access_refused(tmp_path):
    inner = zip_bytes({"p.csv": CSV * 50_000})
    path = tmp_path / "outer.tar"
    path.write_bytes(tar_bytes({"inner.zip": inner}))
    with reading_options(max_in_memory_bytes=4096), pytest.raises(TriageError,
                                                                   match="random access"):
        read_all(path)


# -- encryption, names, links -------------------------------------------------------------


def test_encrypted_zip_member_said_so(tmp_path):
    path = tmp_path / "enc.zip"
    data = bytearray(zip_bytes({"a.csv": CSV}))
    data[6] |= 1  # local header: general purpose flag, bit 0 = encrypted
    central = data.rfind(b"PK\x01\x02")
    data[central + 8] |= 1
    path.write_bytes(bytes(data))
    with pytest.raises(TriageError, match="encrypted"):
        read_all(path)


def test_traversal_and_absolute_names_in_tar(tmp_path):
    path = tmp_path / "evil.tar"
    path.write_bytes(tar_bytes({"../../../tmp/x.csv": CSV, "/etc/cron.d/y.csv": CSV}))
    assert [s.info.member for s in open_sources(path)] == ["tmp/x.csv", "etc/cron.d/y.csv"]


# -- truncation -----------------------------------------------------------------------------


def _truncated_gzip(path: Path) -> None:
    body = b"email;tel\n" + b"".join(b"user%d@x.fr;06%08d\n" % (i, i) for i in range(50_000))
    path.write_bytes(gzip.compress(body)[:-5000])


def test_truncated_gzip_fails_naming_rows_read(tmp_path):
    path = tmp_path / "cut.csv.gz"
    _truncated_gzip(path)
    with pytest.raises(PartialInputError, match=r"after 4\d,\d{3} rows"):
        read_all(path)


def test_truncated_tar_gz_allow_partial_keeps_members_before(tmp_path):
    path = tmp_path / "cut.tar.gz"
    big = b"email;tel\n" + b"".join(b"u%d@x.fr;06%08d\n" % (i, i) for i in range(60_000))
    path.write_bytes(tar_bytes({"a.csv": CSV, "big.csv": big}, "w:gz")[:-20_000])
    with pytest.raises(PartialInputError):
        read_all(path)
    with reading_options(allow_partial=True):
        rows, _, sources = read_all(path)
    assert rows[:2] == ROWS and len(rows) > 2
    assert sources[-1].info.truncated_at_byte > 0


def test_cli_truncated_exit_codes_and_nothing_written(tmp_path):
    inputs = tmp_path / "in"
    work = tmp_path / "work"
    temp = tmp_path / "tmp"
    for folder in (inputs, work, temp):
        folder.mkdir()
    path = inputs / "cut.csv.gz"
    _truncated_gzip(path)
    line = _one_line(_triage("profile", "-q", str(path), cwd=work, tmp=temp),
                     "cut.csv.gz", "truncated", "--allow-partial")
    assert "@x.fr" not in line
    kept = _triage("profile", "-q", "--json", "--allow-partial", str(path), cwd=work, tmp=temp)
    assert kept.returncode == 0, kept.stderr
    assert json.loads(kept.stdout)["rows"]["read"] > 40_000
    assert "warning" in kept.stderr and "@x.fr" not in kept.stderr
    assert list(work.iterdir()) == [] and list(temp.iterdir()) == []
    assert [p.name for p in inputs.iterdir()] == ["cut.csv.gz"]


def test_cli_hostile_archives_refused_in_one_line_nothing_written(tmp_path):
    inputs, work, temp = tmp_path / "in", tmp_path / "work", tmp_path / "tmp"
    for folder in (inputs, work, temp):
        folder.mkdir()
    nested = zip_bytes({"p.csv": CSV})
    for level in range(4):
        nested = zip_bytes({f"l{level}.zip": nested})
    (inputs / "deep.zip").write_bytes(nested)
    (inputs / "locked.7z").write_bytes(seven_zip_bytes({"a.csv": CSV}, password="pw"))
    (inputs / "links.tar").write_bytes(tar_bytes({"../../a.csv": CSV}, links=2))
    before = sorted(p.name for p in inputs.iterdir())
    _one_line(_triage("profile", "-q", str(inputs / "deep.zip"), cwd=work, tmp=temp), "deep")
    _one_line(_triage("profile", "-q", str(inputs / "locked.7z"), cwd=work, tmp=temp),
              "encrypted")
    ok = _triage("profile", "-q", "--json", str(inputs / "links.tar"), cwd=work, tmp=temp)
    assert ok.returncode == 0, ok.stderr
    document = json.loads(ok.stdout)
    assert document["source"]["archive_skipped"] == {"link": 2}
    assert document["source"]["member"] == "a.csv"
    assert list(work.iterdir()) == [] and list(temp.iterdir()) == []
    assert sorted(p.name for p in inputs.iterdir()) == before


# -- huge and odd content -----------------------------------------------------------------


def test_overlong_record_rejected_by_position_then_reading_resumes(tmp_path):
    path = tmp_path / "long.csv"
    path.write_bytes(b"a;b\n1;2\n" + b"x" * (3 << 20) + b";y\n3;4\n")
    rows, accounting, _ = read_all(path, max_record_bytes=1 << 20, chunk_bytes=256 << 10)
    assert rows == [{"a": "1", "b": "2"}, {"a": "3", "b": "4"}]
    assert accounting.reasons == {"record_too_long": 1}
    assert accounting.regions[0]["line"] == 3


def test_overlong_sql_statement_skipped_and_counted(tmp_path, monkeypatch):
    monkeypatch.setattr(sql, "MAX_STATEMENT_BYTES", 1 << 20)
    monkeypatch.setattr(sql, "RUN_BYTES", 256 << 10)
    monkeypatch.setattr(sql, "BLOCK_BYTES", 64 << 10)
    path = tmp_path / "long.sql"
    path.write_bytes(b"INSERT INTO t VALUES (1,'" + b"x" * (3 << 20) + b"');\n"
                     b"INSERT INTO t VALUES (2,'ok');\n")
    rows, accounting, _ = read_all(path)
    assert rows == [{"col_1": "2", "col_2": "ok"}]
    assert accounting.reasons == {"record_too_long": 1}


def test_ten_megabyte_field_read_exactly(tmp_path):
    field = "é" * (5 << 20)
    path = tmp_path / "wide.csv"
    path.write_text(f'id;note\n0;"a; b"\n1;"{field}"\n2;x\n', encoding="utf-8")
    rows, _, _ = read_all(path)
    assert rows[1]["note"] == field and rows[2] == {"id": "2", "note": "x"}


def test_huge_first_line_is_not_a_crash(tmp_path):
    path = tmp_path / "first.csv"
    path.write_bytes(b"x" * (300 << 10) + b"\n1\n")
    with pytest.raises(TriageError):
        read_all(path, max_record_bytes=64 << 10)


def test_nul_bytes_do_not_crash(tmp_path):
    path = tmp_path / "nul.csv"
    path.write_bytes(b"email;tel\na@x.fr;06\x0012\nb@y.fr;0698765432\n")
    rows, accounting, _ = read_all(path)
    assert accounting.parsed == 2 and rows[1]["tel"] == "0698765432"


def test_binary_with_nul_is_unknown_not_text(tmp_path):
    path = tmp_path / "blob.bin"
    path.write_bytes(bytes(range(256)) * 64)
    with pytest.raises(TriageError, match="unknown format"):
        read_all(path)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le"])
def test_utf16(tmp_path, encoding):
    path = tmp_path / "u16.csv"
    text = "nom;tel\nZoë;0612345678\nJosé;0698765432\n"
    path.write_bytes(("\ufeff" if encoding == "utf-16-le" else "").encode(encoding) +
                     text.encode(encoding))
    rows, _, _ = read_all(path)
    assert rows == [{"nom": "Zoë", "tel": "0612345678"}, {"nom": "José", "tel": "0698765432"}]


def test_mixed_encodings_line_by_line_counted(tmp_path):
    path = tmp_path / "mixed.csv"
    lines = ["nom;ville"] + [f"Zoë{i};Orléans" for i in range(200)]
    body = "\n".join(lines).encode() + b"\nFran\xe7ois;S\xe8te\n"
    path.write_bytes(body)
    rows, accounting, _ = read_all(path)
    assert len(rows) == 201 and rows[0] == {"nom": "Zoë0", "ville": "Orléans"}
    assert accounting.repaired["undecodable_bytes"] == 1


@pytest.mark.slow
def test_one_gigabyte_line_in_bounded_memory(tmp_path, request):
    if "slow" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("writes 1 GiB: run with -m slow")
    path = tmp_path / "gig.csv"
    with open(path, "wb") as handle:
        handle.write(b"a;b\n1;2\n")
        block = b"x" * (1 << 24)
        handle.writelines(block for _ in range(64))
        handle.write(b"\n3;4\n")
    code = ("import resource, json, sys; from triage.pipeline import run; "
            "r = run([sys.argv[1]]); "
            "print(json.dumps([r[0].accounting.read, "
            "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss]))")
    result = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, check=False,
                            text=True, timeout=600)
    read, peak_kib = json.loads(result.stdout)
    assert read == 3
    assert peak_kib < 1 << 20  # under 1 GiB


def test_io_error_in_member_is_one_line(tmp_path):
    path = tmp_path / "bad.tar"
    data = bytearray(tar_bytes({"a.csv": CSV}))
    data[100:108] = b"garbage!"  # the mode field: a bad header checksum
    path.write_bytes(bytes(data))
    with pytest.raises(TriageError):
        read_all(path)


def test_tar_header_for_7z_magic_but_garbage(tmp_path):
    path = tmp_path / "fake.7z"
    path.write_bytes(b"7z\xbc\xaf\x27\x1c" + os.urandom(500))
    with pytest.raises(TriageError, match="7z"):
        read_all(path)


def test_gzip_of_tar_inside_zip_of_bytes(tmp_path):
    """An archive handed in memory (BytesIO path) reads like one on disk."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:gz") as archive:
        info = tarfile.TarInfo("a.csv")
        info.size = len(CSV)
        archive.addfile(info, io.BytesIO(CSV))
    path = tmp_path / "z.zip"
    path.write_bytes(zip_bytes({"t.tgz": data.getvalue()}))
    rows, _, (source,) = read_all(path)
    assert rows == ROWS and source.info.name.endswith("z.zip!t.tgz!a.csv")


def test_a_pipe_is_refused_in_one_line_not_read_short(tmp_path):
    # Sniffing reads an input's first bytes before the pass reads it from the start: a
    # pipe would give the pass only what follows them, and the rows read would fall short
    # without a word. A FIFO nobody writes to would hang.
    fifo = tmp_path / "rows.csv"
    os.mkfifo(fifo)
    with pytest.raises(TriageError, match="not a regular file"):
        open_sources(fifo)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(f"printf 'id;email\\n1;a@example.fr\\n' | {sys.executable} -m triage "
                          "profile /dev/stdin -q", shell=True, capture_output=True, text=True,
                          check=False, env=env, cwd=tmp_path, timeout=120)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and "not a regular file" in done.stderr
