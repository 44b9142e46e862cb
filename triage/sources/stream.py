"""Opening the bytes of an input: compression, archive members, limits, progress by bytes.

A :class:`Member` is one readable stream: a file on disk, or a member of an
archive (possibly nested). Every decompressing layer is wrapped in a
:class:`GuardedStream` that enforces the expansion limits *while* streaming
(headers are never trusted) and turns a broken or truncated stream into a
one-line :class:`~triage.errors.TriageError`.
"""

from __future__ import annotations

import bz2
import contextlib
import contextvars
import io
import lzma
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO

from isal import isal_zlib

from triage.errors import PartialInputError, TriageError

_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)

MiB = 1 << 20


@dataclass(frozen=True)
class ReadOptions:
    """How far triage trusts an input. Defaults suit a responder's laptop."""

    #: Keep the rows read before a truncated compressed stream breaks, instead of failing.
    allow_partial: bool = False
    #: Password for encrypted zip (ZipCrypto) and 7z archives; None refuses them.
    password: bytes | None = None
    #: Archives inside archives, counting the outer one; also compression layers of one
    #: stream (a gzip inside a gzip).
    max_depth: int = 3
    #: Members of all archives of one input, together.
    max_members: int = 100_000
    #: Decompressed bytes per compressed byte, for one input as a whole.
    max_ratio: int = 250
    #: Any input may expand to this much whatever its ratio (tiny archives compress well).
    min_allowance: int = 256 * MiB
    #: Decompressed bytes of one input, all layers and members together.
    max_total_bytes: int = 1 << 40
    #: Members needing random access (7z, zip or Parquet inside an archive, spreadsheets
    #: inside an archive) are held in memory up to this size, else refused.
    max_in_memory_bytes: int = 512 * MiB


_OPTIONS: contextvars.ContextVar[ReadOptions] = contextvars.ContextVar(
    "triage_read_options", default=ReadOptions())  # noqa: B039 - frozen, never mutated


def current_options() -> ReadOptions:
    return _OPTIONS.get()


@contextlib.contextmanager
def reading_options(**changes: Any) -> Iterator[ReadOptions]:
    """``with reading_options(allow_partial=True): pipeline.run(...)``: options for every read."""
    options = replace(_OPTIONS.get(), **changes)
    token = _OPTIONS.set(options)
    try:
        yield options
    finally:
        _OPTIONS.reset(token)


def compression_of(head: bytes) -> str | None:
    """The stream compression named by the first bytes of a file (archives are separate)."""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    if head[1:4] == b"\x2a\x4d\x18" and head[0] & 0xF0 == 0x50:
        return "zstd"  # a skippable frame first, as pzstd writes (magic 0x184D2A5?)
    return None


class ExpansionBudget:
    """Decompressed bytes one input may produce: refuses zip bombs as they stream."""

    def __init__(self, options: ReadOptions, compressed_size: int, name: str) -> None:
        self.limit = min(options.max_total_bytes,
                         max(options.min_allowance, options.max_ratio * compressed_size))
        self.used = 0
        self.name = name
        self.members = 0
        self.options = options

    def spend(self, produced: int) -> None:
        self.used += produced
        if self.used > self.limit:
            raise TriageError(
                f"decompresses to more than {self.limit // MiB:,} MiB "
                f"({self.options.max_ratio}x its size on disk): refused as a possible "
                "decompression bomb", path=self.name)

    def count_member(self, where: str) -> None:
        self.members += 1
        if self.members > self.options.max_members:
            raise TriageError(f"more than {self.options.max_members:,} archive members: "
                              "refused as a possible archive bomb", path=where)


class PartialPolicy:
    """Where the streams of one input end early: the break is told to the source being
    read, which fails after its last row (so that the error can say how many rows came
    before the break) unless truncation is allowed.

    A break is never lost between sources: one found while a member's first bytes are
    sniffed, before its source exists, is told to that source when it starts listening;
    one found after the last source ended (an archive cut between two members) fails the
    walk in :meth:`finish`.
    """

    def __init__(self, allow: bool) -> None:
        self.allow = allow
        self.truncated_at: int | None = None
        self._listener: Callable[[int], None] | None = None
        #: The listener of the source that ended last: the one to warn, under
        #: ``allow``, of a break found after it.
        self._ended: Callable[[int], None] | None = None
        self._told = False

    @property
    def truncated(self) -> bool:
        return self.truncated_at is not None

    @property
    def on_truncated(self) -> Callable[[int], None] | None:
        return self._listener

    @on_truncated.setter
    def on_truncated(self, listener: Callable[[int], None]) -> None:
        """The source now being read listens (told at once of a break already found)."""
        self._listener = listener
        if self.truncated_at is not None and not self._told:
            self._tell(listener)

    def truncate(self, offset: int) -> None:
        if self.truncated_at is None:
            self.truncated_at = offset
            if self._listener is not None:
                self._tell(self._listener)

    def _tell(self, listener: Callable[[int], None]) -> None:
        self._told = True
        listener(self.truncated_at)  # type: ignore[arg-type]

    def check(self, name: str, rows: int) -> None:
        """The source being read has ended: raise :class:`PartialInputError` after a
        break, unless allowed. A later break belongs to the sources after it."""
        self._ended, self._listener = self._listener, None
        if self.truncated_at is not None and not self.allow:
            raise PartialInputError(
                f"input ends early (truncated file) after {rows:,} rows; rerun with "
                "--allow-partial to keep them", path=name, offset=self.truncated_at)

    def finish(self, name: str) -> None:
        """The walk of the input is over: a break no source was told of came after the
        last source (an archive cut between members), so the input fails here, or, when
        allowed, the last source carries the warning."""
        if self.truncated_at is None or self._told:
            return
        if self._ended is None:
            raise PartialInputError("input ends early (truncated file) before its first "
                                    "member", path=name, offset=self.truncated_at)
        if not self.allow:
            raise PartialInputError(
                "input ends early (truncated file) after its last complete member; rerun "
                "with --allow-partial to keep its rows", path=name, offset=self.truncated_at)
        self._tell(self._ended)


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


def _is_truncation(exc: BaseException) -> bool:
    return isinstance(exc, EOFError) or "end of data" in str(exc) or "truncated" in str(exc)


class _CorruptData(ValueError):
    """A decoder's own finding, worded by triage (never quoting data): shown to the user."""


class GuardedStream(io.RawIOBase):
    """The output of a decompressor (or an archive member), with limits and clean errors.

    Every byte produced is charged to the input's :class:`ExpansionBudget` (and to
    ``member_limit``, for one archive member); a stream that ends before its
    end-of-stream marker is a truncation (:class:`PartialInputError`, or a quiet
    end under ``allow_partial``); any other decoder failure is "corrupt data".
    The decoders below hand out every byte they decoded before they raise EOFError
    at a break, so a truncated stream loses nothing that could be decoded.
    """

    def __init__(self, inner: Any, *below: Any, name: str, budget: ExpansionBudget | None,
                 partial: PartialPolicy, member_limit: int | None = None) -> None:
        self._inner = inner
        self._below = below
        self._name = name
        self._budget = budget
        self._partial = partial
        self._member_limit = member_limit
        self.produced = 0
        self._ended = False
        self._read = getattr(inner, "read1", None) or inner.read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        if self._ended:
            return 0
        try:
            data = self._read(min(len(buffer), MiB))
        except TriageError:
            raise
        except Exception as exc:  # noqa: BLE001 - every decoder has its own error types
            if _is_truncation(exc):
                return self._truncated()
            # A library's message may quote input; only triage's own wording is shown.
            reason = f" ({exc})" if isinstance(exc, _CorruptData) else ""
            raise TriageError(f"corrupt compressed data{reason}", path=self._name,
                              offset=self.produced) from None
        n = len(data)
        buffer[:n] = data
        self.produced += n
        if self._member_limit is not None and self.produced > self._member_limit:
            raise TriageError(
                f"member expands beyond {self._member_limit // MiB:,} MiB "
                "(its compressed size times the ratio limit): refused as a possible "
                "decompression bomb", path=self._name)
        if self._budget is not None:
            self._budget.spend(n)
        return n

    def _truncated(self) -> int:
        self._ended = True
        self._partial.truncate(self.produced)
        return 0

    def close(self) -> None:
        if not self.closed:
            for layer in (self._inner, *self._below):
                with contextlib.suppress(Exception):
                    layer.close()
        super().close()


_GZIP_MAGIC = b"\x1f\x8b"


class _Gunzip:
    """gzip members one after the other, inflated by ISA-L (python-isal) step by step.

    ISA-L inflates a 1.2 GB export 2.5x faster than zlib (docs/formats.md). Its
    ``igzip.GzipFile`` is no faster than this loop over its inflater, but where the
    input stops short it raises EOFError and drops what it had inflated in that call,
    up to a whole read: here every inflated byte is handed out before the EOFError.
    Like gzip, zero bytes after a member are padding; anything else there is corrupt.
    The inflater checks each member's CRC-32 and length.
    """

    _READ = 512 * 1024

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._inflate: Any = None
        #: Input read but not yet given to an inflater (the bytes after a member).
        self._pending = b""

    def read(self, size: int) -> bytes:
        """At most ``size`` inflated bytes; none at the end of the last member."""
        while True:
            if self._inflate is None and not self._next_member():
                return b""
            data = self._step(size)
            if data:
                return data
            if self._inflate.eof:
                self._pending = self._inflate.unused_data
                self._inflate = None

    def close(self) -> None:
        self._raw.close()

    def _step(self, size: int) -> bytes:
        """At most ``size`` inflated bytes, maybe none (the inflater took input only)."""
        inflate = self._inflate
        if inflate.unconsumed_tail:
            return inflate.decompress(inflate.unconsumed_tail, size)
        data, self._pending = self._pending or self._raw.read(self._READ), b""
        if data:
            return inflate.decompress(data, size)
        # No input left: the inflater may still hold output (a long match, cut off by
        # ``size``); once it holds none, a member without its end is truncated.
        data = inflate.decompress(b"", size)
        if data or inflate.eof:
            return data
        raise EOFError("gzip stream ends before its end-of-stream marker")

    def _next_member(self) -> bool:
        """A fresh inflater for the member that follows; False at the end of the input."""
        data = self._pending.lstrip(b"\x00")
        while len(data) < len(_GZIP_MAGIC):
            more = self._raw.read(self._READ)
            if not more:
                break
            data += more.lstrip(b"\x00") if not data else more
        if not data:
            return False
        if not _GZIP_MAGIC.startswith(data[:len(_GZIP_MAGIC)]):
            raise _CorruptData("data after the end of the gzip stream")
        self._pending = data
        self._inflate = isal_zlib.decompressobj(16 + isal_zlib.MAX_WBITS)
        return True


class _ZstdInput:
    """The compressed input of a zstd decoder, read through: its frame and block headers
    are followed as they pass (RFC 8878), block contents skipped undecoded, to tell
    whether the input stopped between two frames. zstandard's stream_reader cannot
    tell: at the end of its input it ends quietly, even in the middle of a frame."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._header = bytearray()
        self._wanted = 4
        #: What the next header is, by its parser; None once the bytes are not zstd
        #: frames, which the decoder itself refuses.
        self._parse: Callable[[bytes], None] | None = self._magic
        #: Bytes to pass over: the rest of a frame header, a block, a checksum.
        self._skip = 0
        self._checksum = False

    @property
    def between_frames(self) -> bool:
        return self._parse in (self._magic, None) and not self._header and not self._skip

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        at = 0
        while at < len(data) and self._parse is not None:
            if self._skip:
                step = min(self._skip, len(data) - at)
                self._skip -= step
                at += step
                continue
            take = min(self._wanted - len(self._header), len(data) - at)
            self._header += data[at:at + take]
            at += take
            if len(self._header) == self._wanted:
                header = bytes(self._header)
                self._header.clear()
                self._parse(header)
        return data

    def _expect(self, size: int, parse: Callable[[bytes], None]) -> None:
        self._wanted, self._parse = size, parse

    def _magic(self, header: bytes) -> None:
        magic = int.from_bytes(header, "little")
        if magic == 0xFD2FB528:
            self._expect(1, self._descriptor)
        elif magic & 0xFFFFFFF0 == 0x184D2A50:  # a skippable frame: its size follows
            self._expect(4, self._skippable)
        else:
            self._parse = None

    def _skippable(self, header: bytes) -> None:
        self._skip = int.from_bytes(header, "little")
        self._expect(4, self._magic)

    def _descriptor(self, header: bytes) -> None:
        descriptor = header[0]
        single_segment = bool(descriptor & 0x20)
        content_size = (1 if single_segment else 0, 2, 4, 8)[descriptor >> 6]
        dictionary_id = (0, 1, 2, 4)[descriptor & 0x03]
        self._checksum = bool(descriptor & 0x04)
        self._skip = (0 if single_segment else 1) + dictionary_id + content_size
        self._expect(3, self._block)

    def _block(self, header: bytes) -> None:
        value = int.from_bytes(header, "little")
        kind, size = (value >> 1) & 0x03, value >> 3
        self._skip = 1 if kind == 1 else size  # an RLE block holds one byte
        if value & 0x01:  # the frame's last block
            self._skip += 4 if self._checksum else 0
            self._expect(4, self._magic)


class _Unzstd:
    """zstd frames decoded by zstandard's stream_reader (its output bounded by each
    read, unlike its decompressobj's), raising EOFError where the input stops inside
    a frame."""

    def __init__(self, raw: BinaryIO) -> None:
        import zstandard

        self._input = _ZstdInput(raw)
        self._reader = zstandard.ZstdDecompressor().stream_reader(
            self._input, read_across_frames=True, closefd=False)

    def read(self, size: int) -> bytes:
        data = self._reader.read(size)
        if not data and not self._input.between_frames:
            raise EOFError("zstd stream ends inside a frame")
        return data

    def close(self) -> None:
        self._reader.close()


def _decompressor(compression: str, raw: BinaryIO) -> Any:
    if compression == "gzip":
        return _Gunzip(raw)
    if compression == "bzip2":
        # BZ2File and LZMAFile raise EOFError at a break only with every decoded byte
        # handed out (a bzip2 block is decoded whole or not at all).
        return bz2.BZ2File(raw, mode="rb")
    if compression == "xz":
        return lzma.LZMAFile(raw, mode="rb")
    if compression == "zstd":
        return _Unzstd(raw)
    raise TriageError(f"unsupported compression {compression}")


Opener = Callable[[Callable[[int], None] | None], BinaryIO]


@dataclass
class Member:
    """One readable stream: the file itself, or a member of an archive (maybe nested).

    ``opener`` gives the member's raw bytes (before ``compression`` is undone);
    without one, the bytes are the file at ``path``. ``random_access`` says that
    ``open()`` gives a cheaply seekable stream (a plain file, or bytes in memory).
    """

    path: Path
    compression: str | None
    member: str | None = None
    container: str | None = None
    opener: Opener | None = None
    random_access: bool = True
    budget: ExpansionBudget | None = None
    member_limit: int | None = None
    depth: int = 0
    partial: PartialPolicy = field(default_factory=lambda: PartialPolicy(False))

    @property
    def display_name(self) -> str:
        return f"{self.path}!{self.member}" if self.member else str(self.path)

    def open(self, report: Callable[[int], None] | None = None) -> BinaryIO:
        """A fresh stream of the decompressed bytes."""
        raw = self._open_raw(report)
        if self.compression is None and self.member_limit is None:
            return raw
        inner = _decompressor(self.compression, raw) if self.compression else raw
        guarded = GuardedStream(inner, raw, name=self.display_name, budget=self.budget,
                                partial=self.partial, member_limit=self.member_limit)
        return io.BufferedReader(guarded, buffer_size=MiB)  # type: ignore[return-value]

    def _open_raw(self, report: Callable[[int], None] | None) -> BinaryIO:
        if self.opener is not None:
            return self.opener(report)
        try:
            raw: BinaryIO = open(self.path, "rb")  # noqa: SIM115 - returned to the caller
        except OSError as exc:
            raise TriageError((exc.strerror or "cannot open").lower(),
                              path=str(self.path)) from None
        if report is not None:
            counted = CountingReader(raw, report)
            raw = io.BufferedReader(counted, buffer_size=MiB)  # type: ignore[assignment]
        return raw

    def read_all(self, what: str) -> bytes:
        """The whole decompressed member, for readers that need random access."""
        options = self.budget.options if self.budget else ReadOptions()
        limit = options.max_in_memory_bytes
        with self.open() as stream:
            data = stream.read(limit + 1)
        if len(data) > limit:
            raise TriageError(f"{what} needs random access and is larger than "
                              f"{limit // MiB:,} MiB in this archive; extract it and pass it "
                              "directly", path=self.display_name)
        return data

    def in_memory(self, what: str) -> Member:
        """This member with its bytes held in memory, so that it can be read at random."""
        if self.random_access and self.compression is None:
            return self
        data = self.read_all(what)
        return replace(self, compression=None, opener=lambda report: io.BytesIO(data),
                       random_access=True, member_limit=None)


def check_readable(path: Path) -> bytes:
    """The first bytes of ``path``, or a one-line error saying why it cannot be read.

    A pipe, socket or device is refused: triage reads an input's first bytes to sniff
    it before it reads it from the start (and, beside the pass, hashes it), so their
    rows would be lost without a word, and a FIFO nobody writes to would hang here."""
    try:
        if not (stat.S_ISREG(mode := path.stat().st_mode) or stat.S_ISDIR(mode)):
            raise TriageError("not a regular file (a pipe, socket or device): triage reads "
                              "its inputs more than once; save the input to a file first",
                              path=str(path))
        with open(path, "rb") as handle:
            return handle.read(512)
    except IsADirectoryError:
        raise TriageError("is a directory, not a file", path=str(path)) from None
    except FileNotFoundError:
        raise TriageError("no such file", path=str(path)) from None
    except PermissionError:
        raise TriageError("permission denied", path=str(path)) from None
    except OSError as exc:
        raise TriageError(exc.strerror or "cannot read", path=str(path)) from None


def strip_compression_suffix(name: str) -> str:
    lowered = name.lower()
    for suffix in (".gz", ".gzip", ".bz2", ".xz", ".zst", ".zstd"):
        if lowered.endswith(suffix):
            return name[: -len(suffix)]
    if lowered.endswith(".tgz"):
        return name[:-4] + ".tar"
    return name


def inner_name(member: Member) -> str:
    """The name that tells the format: the member name, or the file name less compression."""
    name = member.member.rsplit("!", 1)[-1] if member.member else member.path.name
    return strip_compression_suffix(name) if member.compression else name

