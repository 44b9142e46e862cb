"""Opening the bytes of an input: compression, archive members, progress by bytes."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from triage.errors import TriageError

_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),  # an empty zip
)


def compression_of(head: bytes) -> str | None:
    """The compression or container named by the first bytes of a file."""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    return None


class CountingReader(io.RawIOBase):
    """A file wrapper that reports how many bytes were read from disk."""

    def __init__(self, raw: BinaryIO, report: Callable[[int], None]) -> None:
        self._raw = raw
        self._report = report

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._raw.seekable()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        n = self._raw.readinto(buffer)
        if n:
            self._report(n)
        return n or 0

    def close(self) -> None:
        self._raw.close()
        super().close()


class _Layers:
    """A decompressing stream that also closes the file (and archive) beneath it."""

    def __init__(self, top: BinaryIO, *below: object) -> None:
        self._top = top
        self._below = below

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self._top, name)

    def __enter__(self) -> _Layers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._top.close()
        for layer in self._below:
            layer.close()  # type: ignore[attr-defined]


@dataclass
class Member:
    """One readable stream inside a file: the file itself, or an archive member."""

    path: Path
    compression: str | None
    member: str | None = None

    @property
    def display_name(self) -> str:
        return f"{self.path}!{self.member}" if self.member else str(self.path)

    def open(self, report: Callable[[int], None] | None = None) -> BinaryIO:
        """A fresh stream of the decompressed bytes."""
        try:
            raw: BinaryIO = open(self.path, "rb")  # noqa: SIM115 - returned to the caller
        except OSError as exc:
            raise TriageError(exc.strerror or "cannot open", path=str(self.path)) from None
        if report is not None:
            raw = io.BufferedReader(CountingReader(raw, report), buffer_size=1 << 20)  # type: ignore[assignment]
        if self.compression == "gzip":
            return _Layers(gzip.GzipFile(fileobj=raw, mode="rb"), raw)  # type: ignore[return-value]
        if self.compression == "bzip2":
            return _Layers(bz2.BZ2File(raw, mode="rb"), raw)  # type: ignore[return-value]
        if self.compression == "xz":
            return _Layers(lzma.LZMAFile(raw, mode="rb"), raw)  # type: ignore[return-value]
        if self.compression == "zstd":
            import zstandard

            reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
            return _Layers(reader, raw)  # type: ignore[return-value]
        if self.compression == "zip":
            archive = zipfile.ZipFile(raw)
            return _Layers(archive.open(self.member or ""), archive, raw)  # type: ignore[return-value]
        return raw


def members_of(path: Path) -> list[Member]:
    """Every readable stream in ``path``: one, or one per member of a zip."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except IsADirectoryError:
        raise TriageError("is a directory, not a file", path=str(path)) from None
    except FileNotFoundError:
        raise TriageError("no such file", path=str(path)) from None
    except PermissionError:
        raise TriageError("permission denied", path=str(path)) from None
    except OSError as exc:
        raise TriageError(exc.strerror or "cannot read", path=str(path)) from None
    compression = compression_of(head)
    if compression != "zip":
        return [Member(path, compression)]
    try:
        with zipfile.ZipFile(path) as archive:
            infos = [i for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError, EOFError):
        raise TriageError("corrupt zip archive", path=str(path)) from None
    for info in infos:
        if info.flag_bits & 0x1:
            raise TriageError(f"zip member #{infos.index(info) + 1} is encrypted; "
                              "decrypt the archive first", path=str(path))
    return [Member(path, "zip", info.filename) for info in infos]


def inner_name(member: Member) -> str:
    """The name that tells the format: the member name, or the file name less compression."""
    name = member.member or member.path.name
    lowered = name.lower()
    for suffix in (".gz", ".gzip", ".bz2", ".xz", ".zst", ".zstd"):
        if lowered.endswith(suffix):
            return name[: -len(suffix)]
    return name
