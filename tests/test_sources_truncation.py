"""Truncated and corrupt compressed input: every row decoded before a break is kept and
counted, a break is never silent, corrupt data is not called a truncation.

Expected rows come from an independent decoder (CPython's zlib, bz2 and lzma, or
zstandard's decompressobj) run over the same cut bytes: the complete lines of what
it decodes must all be read, in order, and nothing after them but the partial line.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import struct
import subprocess
import sys
import tarfile
import zlib
from pathlib import Path

import pytest
import zstandard

from tests.conftest import read_all
from triage.errors import PartialInputError, TriageError
from triage.sources import reading_options

HEADER = b"email;tel;note"


def table(rows: int) -> bytes:
    """A CSV whose rows are all different and at least 20 bytes long."""
    return HEADER + b"\n" + b"".join(
        b"user%d@x.fr;06%08d;%s\n" % (i, i * 7919 % 10**8, b"n" * (i % 37))
        for i in range(rows))


def decodable(compression: str, data: bytes) -> bytes:
    """Everything an independent decoder gets out of ``data`` (maybe cut short)."""
    if compression == "gzip":
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data)
    if compression == "bzip2":
        return bz2.BZ2Decompressor().decompress(data)
    if compression == "xz":
        return lzma.LZMADecompressor().decompress(data)
    return zstandard.ZstdDecompressor().decompressobj().decompress(data)


COMPRESS = {
    "gzip": lambda data: gzip.compress(data, mtime=0),
    "bzip2": bz2.compress,
    "xz": lzma.compress,
    "zstd": lambda data: zstandard.ZstdCompressor().compress(data),
}
SUFFIX = {"gzip": "gz", "bzip2": "bz2", "xz": "xz", "zstd": "zst"}


def complete_rows(text: bytes) -> list[dict]:
    """The rows of the complete lines of ``text`` (a header line first), as read_all gives."""
    lines = text[:text.rfind(b"\n") + 1].decode().splitlines()[1:]
    names = HEADER.decode().split(";")
    return [dict(zip(names, line.split(";"), strict=True)) for line in lines]


def assert_keeps_every_decoded_row(path: Path, decoded: bytes,
                                   broken: bytes | None = None) -> None:
    """Without --allow-partial the read fails naming the rows read and where the layer
    that broke (``broken``, by default the table's own bytes ``decoded``) stopped: past
    the last complete line; with it, every complete row of ``decoded`` is read, then at
    most the partial line, and the source carries the break."""
    expected = complete_rows(decoded)
    broken = decoded if broken is None else broken
    with pytest.raises(PartialInputError) as failure:
        read_all(path)
    assert f"after {len(expected):,} rows" in str(failure.value) \
        or f"after {len(expected) + 1:,} rows" in str(failure.value)
    assert len(broken[:broken.rfind(b"\n") + 1]) <= failure.value.offset <= len(broken)
    with reading_options(allow_partial=True):
        rows, accounting, sources = read_all(path)
    assert rows[:len(expected)] == expected
    assert accounting.read - len(expected) in (0, 1)  # the partial last line, if any
    assert sources[-1].info.truncated_at_byte == failure.value.offset


@pytest.mark.parametrize("compression", sorted(COMPRESS))
@pytest.mark.parametrize("rows,keep", [(60_000, 0.7), (2_000, 0.5)])
def test_a_cut_stream_keeps_every_row_decoded_before_the_break(tmp_path, compression, rows,
                                                               keep):
    body = table(rows)
    whole = COMPRESS[compression](body)
    path = tmp_path / f"t.csv.{SUFFIX[compression]}"
    path.write_bytes(whole)
    all_rows, accounting, (source,) = read_all(path)
    assert all_rows == complete_rows(body) and accounting.read == rows
    assert getattr(source.info, "truncated_at_byte", None) is None

    cut = whole[:int(len(whole) * keep)]
    path.write_bytes(cut)
    assert_keeps_every_decoded_row(path, decodable(compression, cut))


def test_a_break_with_nothing_decoded_still_fails_or_warns(tmp_path):
    """A bzip2 block is decoded whole or not at all: a stream cut in its first block gives
    no row, and the break must still be told (it is found while the head is sniffed)."""
    whole = bz2.compress(table(2_000))
    path = tmp_path / "t.csv.bz2"
    path.write_bytes(whole[:len(whole) // 2])
    assert decodable("bzip2", path.read_bytes()) == b""
    with pytest.raises(PartialInputError, match="after 0 rows"):
        read_all(path)
    with reading_options(allow_partial=True):
        rows, _, sources = read_all(path)
    assert rows == [] and sources[-1].info.truncated_at_byte == 0


def test_cli_warns_of_a_break_even_with_no_row_kept(tmp_path):
    whole = zstandard.ZstdCompressor().compress(table(2_000))
    path = tmp_path / "cut.csv.zst"
    path.write_bytes(whole[:len(whole) // 2])
    def triage(*options: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "triage", "profile", "-q", str(path),
                               *options], capture_output=True, check=False, text=True,
                              timeout=120)

    failed = triage()
    assert failed.returncode == 2 and "Traceback" not in failed.stderr
    (line,) = failed.stderr.strip().splitlines()
    assert "cut.csv.zst" in line and "truncated" in line and "@x.fr" not in line
    kept = triage("--allow-partial")
    assert kept.returncode == 0, kept.stderr
    (warning,) = kept.stderr.strip().splitlines()
    assert "warning" in warning and "cut.csv.zst" in warning and "@x.fr" not in warning


# -- zstd frames ------------------------------------------------------------------------


def _skippable(payload: bytes) -> bytes:
    return struct.pack("<II", 0x184D2A5E, len(payload)) + payload


def test_zstd_cut_inside_a_frame_is_a_break_and_between_frames_is_not(tmp_path):
    """Frames with and without checksum or content size, and skippable frames: a cut is
    a truncation exactly where ``zstd -t`` would say so, inside any frame."""
    first, second = table(3_000), table(5_000)[len(HEADER) + 1:]
    frames = [
        _skippable(b"meta"),
        zstandard.ZstdCompressor(write_checksum=True).compress(first),
        zstandard.ZstdCompressor(write_content_size=False).compress(second),
        _skippable(b""),
    ]
    stream = b"".join(frames)
    boundaries = {sum(len(f) for f in frames[:k]) for k in range(2, len(frames) + 1)}
    inside = {4, 9, len(frames[0]) + 5, len(frames[0]) + len(frames[1]) - 2,
              len(frames[0]) + len(frames[1]) + 200, len(stream) - 3}
    path = tmp_path / "f.csv.zst"
    for cut in sorted(boundaries | inside):
        path.write_bytes(stream[:cut])
        with reading_options(allow_partial=True):
            rows, _, sources = read_all(path)
        decoded = decodable("zstd", stream[:cut])
        assert rows[:len(complete_rows(decoded))] == complete_rows(decoded)
        truncated = getattr(sources[-1].info, "truncated_at_byte", None) is not None
        assert truncated == (cut not in boundaries), cut


# -- tar ------------------------------------------------------------------------------


def _tar(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.mark.parametrize("suffix,compress", [("tar", bytes), ("tar.gz", COMPRESS["gzip"])])
def test_a_tar_cut_inside_a_member_keeps_its_decoded_rows(tmp_path, suffix, compress):
    body = table(20_000)
    archive = _tar({"a.csv": body})
    cut = 512 + len(body) // 3 + 11
    path = tmp_path / f"cut.{suffix}"
    path.write_bytes(compress(archive[:cut]))
    assert_keeps_every_decoded_row(path, archive[512:cut])


@pytest.mark.parametrize("into_header", [0, 100])
def test_a_tar_cut_between_members_is_not_silent(tmp_path, into_header):
    """tarfile takes an archive that stops where a header is due, or inside one, for a
    whole archive: the member cut off would be lost without a word. A whole archive
    (its end-of-archive blocks read) is not called truncated."""
    first = table(2_000)
    archive = _tar({"a.csv": first, "b.csv": table(3_000)})
    path = tmp_path / "cut.tar"
    path.write_bytes(archive)
    rows, _, sources = read_all(path)
    assert len(rows) == 5_000
    assert all(getattr(s.info, "truncated_at_byte", None) is None for s in sources)

    second_header = 512 + -(-len(first) // 512) * 512
    path.write_bytes(archive[:second_header + into_header])
    with pytest.raises(PartialInputError, match="after its last complete member") as failure:
        read_all(path)
    assert failure.value.path == str(path) and failure.value.offset == second_header
    with reading_options(allow_partial=True):
        rows, _, sources = read_all(path)
    assert rows == complete_rows(first)
    assert [s.info.member for s in sources] == ["a.csv"]
    assert sources[0].info.truncated_at_byte == second_header


# -- corrupt, not truncated -------------------------------------------------------------


def test_gzip_with_a_corrupt_member_is_corrupt_at_the_offset_reached(tmp_path):
    body = table(500)
    second = bytearray(gzip.compress(table(10), mtime=0))
    second[2] = 0x07  # compression method: only 8 (deflate) exists
    path = tmp_path / "bad.csv.gz"
    path.write_bytes(gzip.compress(body, mtime=0) + bytes(second))
    with pytest.raises(TriageError, match="corrupt compressed data") as failure:
        read_all(path)
    assert not isinstance(failure.value, PartialInputError)
    assert failure.value.offset == len(body)


def test_after_a_gzip_member_zeros_are_padding_and_anything_else_is_corrupt(tmp_path):
    """As gzip reads them: zero bytes between and after members are skipped, a member
    after them is read; other bytes are named corrupt, never shown."""
    first, second = table(300), table(200)[len(HEADER) + 1:]
    data = gzip.compress(first, mtime=0) + b"\x00" * 1024 + gzip.compress(second, mtime=0)
    path = tmp_path / "tail.csv.gz"
    path.write_bytes(data + b"\x00" * 100)
    rows, _, _ = read_all(path)
    assert rows == complete_rows(first + second)

    path.write_bytes(data + b"\x00" * 64 + b"leak canary@x.fr")
    with pytest.raises(TriageError, match="data after the end of the gzip stream") as failure:
        read_all(path)
    assert not isinstance(failure.value, PartialInputError)
    assert failure.value.offset == len(first + second) and "@" not in str(failure.value)


# -- compression inside compression ---------------------------------------------------


@pytest.mark.parametrize("layers", [["gzip", "gzip"], ["zstd", "xz"], ["gzip", "bzip2", "gzip"]])
def test_compression_inside_compression_is_undone(tmp_path, layers):
    body = table(1_000)
    data = body
    for compression in layers:
        data = COMPRESS[compression](data)
    path = tmp_path / f"nested.csv.{SUFFIX[layers[-1]]}"
    path.write_bytes(data)
    rows, accounting, (source,) = read_all(path)
    assert rows == complete_rows(body) and accounting.read == 1_000
    assert source.info.compression == layers[0]  # the innermost layer


def test_tar_inside_gzip_inside_gzip(tmp_path):
    path = tmp_path / "a.tar.gz.gz"
    path.write_bytes(COMPRESS["gzip"](COMPRESS["gzip"](_tar({"a.csv": table(100)}))))
    rows, _, sources = read_all(path)
    assert rows == complete_rows(table(100)) and sources[0].info.member == "a.csv"


def test_compression_layers_are_bounded(tmp_path):
    data = table(10)
    for _ in range(4):
        data = COMPRESS["gzip"](data)
    path = tmp_path / "deep.csv.gz"
    path.write_bytes(data)
    with pytest.raises(TriageError, match="compressed more than 3 times"):
        read_all(path)
    with reading_options(max_depth=4):
        rows, _, _ = read_all(path)
    assert rows == complete_rows(table(10))


def test_a_cut_outer_layer_of_nested_compression_keeps_what_was_decoded(tmp_path):
    inner = COMPRESS["gzip"](table(20_000))
    outer = COMPRESS["gzip"](inner)
    cut = outer[:len(outer) * 2 // 3]
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(cut)
    outer = decodable("gzip", cut)
    assert_keeps_every_decoded_row(path, decodable("gzip", outer), broken=outer)
