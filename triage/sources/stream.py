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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO

from isal import igzip

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
    #: Archives inside archives, counting the outer one.
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
    """A stream that ends early ends quietly here; the source reading it is failed after
    its last row, so that the error can say how many rows came before the break."""

    def __init__(self, allow: bool) -> None:
        self.allow = allow
        self.truncated_at: int | None = None
        self.on_truncated: Callable[[int], None] = lambda offset: None

    @property
    def truncated(self) -> bool:
        return self.truncated_at is not None

    def truncate(self, offset: int) -> None:
        if self.truncated_at is None:
            self.truncated_at = offset
            self.on_truncated(offset)

    def check(self, name: str, rows: int) -> None:
        """Raise :class:`PartialInputError` after a truncated source, unless allowed."""
        if self.truncated_at is not None and not self.allow:
            raise PartialInputError(
                f"input ends early (truncated file) after {rows:,} rows; rerun with "
                "--allow-partial to keep them", path=name, offset=self.truncated_at)


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


class GuardedStream(io.RawIOBase):
    """The output of a decompressor (or an archive member), with limits and clean errors.

    Every byte produced is charged to the input's :class:`ExpansionBudget` (and to
    ``member_limit``, for one archive member); a stream that ends before its
    end-of-stream marker is a truncation (:class:`PartialInputError`, or a quiet
    end under ``allow_partial``); any other decoder failure is "corrupt data".
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
            # read1: one decoder step, so the bytes decoded before a break are kept.
            data = self._read(min(len(buffer), MiB))
        except TriageError:
            raise
        except Exception as exc:  # noqa: BLE001 - every decoder has its own error types
            if _is_truncation(exc):
                return self._truncated()
            raise TriageError("corrupt compressed data", path=self._name,
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


def _decompressor(compression: str, raw: BinaryIO) -> Any:
    if compression == "gzip":
        # ISA-L's inflate (python-isal), a drop-in for the gzip module: a 1.2 GB
        # export inflated 2.5x faster than with zlib here (docs/formats.md).
        return igzip.GzipFile(fileobj=raw, mode="rb")
    if compression == "bzip2":
        return bz2.BZ2File(raw, mode="rb")
    if compression == "xz":
        return lzma.LZMAFile(raw, mode="rb")
    if compression == "zstd":
        import zstandard

        return zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
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
    """The first bytes of ``path``, or a one-line error saying why it cannot be read."""
    try:
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

