"""Archives: zip, tar (any compression), 7z, nested to a bounded depth, never extracted.

Every member is streamed from the archive into the reader of its format; nothing
is written to disk. Members of a streaming container (tar, 7z) can be read only
once, in archive order, so :func:`expand` is a generator: the caller consumes a
member before asking for the next one (``open_sources`` hands sources out in
exactly that order).

Hostile archives are refused with one line: expansion beyond the ratio or total
limits (counted on the bytes actually produced, headers are never trusted), too
many members, nesting deeper than ``max_depth``, encrypted members without a
password, unsafe member names in 7z. Links and special files are skipped and
counted (``SourceInfo.archive_skipped``); member names are neutralised before
they are shown (no traversal, no control characters), and used for nothing else.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import queue
import re
import stat
import struct
import tarfile
import threading
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO

from isal import isal_zlib

from triage.errors import TriageError
from triage.sources.names import withhold_identifiers
from triage.sources.stream import (
    ExpansionBudget,
    GuardedStream,
    Member,
    PartialPolicy,
    ReadOptions,
    compression_of,
    inner_name,
)

HEAD_BYTES = 256 * 1024
#: Enough of a member's first bytes to tell compression and archives (tar's magic is at 257).
_LEAF_PROBE_BYTES = 512
#: A streamed member keeps its first bytes so that sniffing and reading can both start at 0.
_REPLAY_BYTES = 16 * 1024 * 1024
_SEVEN_ZIP_MAGIC = b"7z\xbc\xaf\x27\x1c"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".ods")
_ODS_MIMETYPE = b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet"
_UNSAFE_CHARS = re.compile(r"[\x00-\x1f\x7f]")


@dataclass
class Walk:
    """State shared by every archive layer of one input."""

    options: ReadOptions
    budget: ExpansionBudget
    partial: PartialPolicy
    #: Forwards bytes read from disk to the progress callback of the current source.
    report: Callable[[int], None]
    #: Links and special files skipped, by kind; shown in every member's SourceInfo.
    skipped: Counter[str] = field(default_factory=Counter)
    #: Indexes of the outer zip's members to read (a cluster task's share); None: all.
    only_members: frozenset[int] | None = None


def safe_member_name(name: str, position: int) -> str:
    """A member name fit to show: relative, no ``..``, no control characters, no email
    or long number (``names.withhold_identifiers``; ``position``: the member's, from 1,
    in its archive), bounded."""
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".", "..")]
    cleaned = withhold_identifiers(_UNSAFE_CHARS.sub("?", "/".join(parts)), position) \
        or "unnamed"
    return cleaned if len(cleaned) <= 200 else cleaned[:180] + "…" + cleaned[-19:]


def is_spreadsheet_zip(name: str, head: bytes) -> bool:
    """xlsx and ods files are zips; they are read as workbooks, not as archives."""
    if name.lower().endswith(_SPREADSHEET_SUFFIXES):
        return True
    if head[30:30 + len(_ODS_MIMETYPE)] == _ODS_MIMETYPE:
        return True
    return b"[Content_Types].xml" in head[:200] and b"xl/workbook" in head


def archive_kind(name: str, head: bytes) -> str | None:
    """"zip", "tar" or "7z" when ``head`` starts an archive to walk, else None."""
    if head.startswith(_ZIP_MAGIC):
        return None if is_spreadsheet_zip(name, head) else "zip"
    if head.startswith(_SEVEN_ZIP_MAGIC):
        return "7z"
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "tar"
    if name.lower().endswith(".tar") and len(head) >= 512 and _tar_checksum_ok(head[:512]):
        return "tar"  # a pre-POSIX tar, without the ustar magic
    return None


def _tar_checksum_ok(block: bytes) -> bool:
    try:
        stored = int(block[148:156].split(b"\x00", 1)[0].strip() or b"-1", 8)
    except ValueError:
        return False
    return stored == sum(block[:148]) + 8 * 32 + sum(block[156:])


def read_head(member: Member) -> bytes:
    try:
        with member.open() as stream:
            return stream.read(HEAD_BYTES)
    except TriageError:
        raise
    except (OSError, EOFError, ValueError):
        raise TriageError("corrupt or truncated compressed data at its start",
                          path=member.display_name) from None


def expand(member: Member, walk: Walk) -> Iterator[tuple[Member, bytes]]:
    """Every leaf stream in ``member`` with its first bytes, archives walked recursively.

    Once the walk is over, a break that no source was told of (an archive cut between
    two members) fails the input: see :meth:`PartialPolicy.finish`.
    """
    yield from _expand(member, walk)
    walk.partial.finish(member.display_name)


def _expand(member: Member, walk: Walk) -> Iterator[tuple[Member, bytes]]:
    member, head = _decompressed(member, read_head(member), walk)
    kind = archive_kind(inner_name(member), head)
    if kind is None:
        yield member, head
        return
    if member.depth >= walk.options.max_depth:
        raise TriageError(f"archives nested more than {walk.options.max_depth} deep: refused "
                          "as a possible archive bomb", path=member.display_name)
    walker = {"zip": _zip_members, "tar": _tar_members, "7z": _seven_zip_members}[kind]
    # Members are read on after a break: one in the head of a stream (found while it was
    # sniffed) leaves the members before it whole, and a zip's other members are intact;
    # a tar's walk ends by itself at the break.
    for child in walker(member, walk):
        yield from _expand(child, walk)


def _decompressed(member: Member, head: bytes, walk: Walk) -> tuple[Member, bytes]:
    """``member`` with every compression layer its bytes start with undone (a gzip inside
    a gzip too), at most ``max_depth`` layers, and its first bytes."""
    layers = 1 if member.compression else 0
    while found := compression_of(head):
        if layers >= walk.options.max_depth:
            raise TriageError(f"compressed more than {walk.options.max_depth} times over: "
                              "refused as a possible decompression bomb",
                              path=member.display_name)
        if member.compression is None:
            member = replace(member, compression=found)
        else:
            # The next layer reads the output of this one; each layer's output is charged
            # to the input's expansion budget, as every layer of an archive is.
            member = replace(member, compression=found, opener=member.open,
                             random_access=False, member_limit=None)
        layers += 1
        head = read_head(member)
    return member, head


def _child(parent: Member, name: str, container: str, opener: Callable[..., BinaryIO],
           walk: Walk, *, random_access: bool, member_limit: int | None = None) -> Member:
    walk.budget.count_member(parent.display_name)
    path = f"{parent.member}!{name}" if parent.member else name
    return Member(parent.path, None, member=path, container=container, opener=opener,
                  random_access=random_access, budget=walk.budget, member_limit=member_limit,
                  depth=parent.depth + 1, partial=walk.partial)


def _seekable(member: Member, what: str) -> BinaryIO:
    """The member's bytes with random access: the file itself, or a copy in memory."""
    if not (member.random_access and member.compression is None):
        member = member.in_memory(what)
    return member.open()


# -- zip ------------------------------------------------------------------------------


def _zip_members(member: Member, walk: Walk) -> Iterator[Member]:
    stream = _seekable(member, "a zip archive inside a compressed stream or an archive")
    try:
        archive = zipfile.ZipFile(stream)
        infos = archive.infolist()
    except TriageError:
        stream.close()
        raise
    except Exception:  # noqa: BLE001 - zipfile raises many types for a damaged directory
        stream.close()
        raise TriageError("corrupt zip archive", path=member.display_name) from None
    with archive, stream:
        if walk.options.password is not None:
            archive.setpassword(walk.options.password)
        for index, info in enumerate(infos):
            if member.depth == 0 and walk.only_members is not None \
                    and index not in walk.only_members:
                continue  # another task's share: its links were counted by the planner
            entry = zip_entry_kind(info)
            if entry == "directory":
                continue
            if entry == "symlink":
                walk.skipped["symlink"] += 1
                continue
            if entry == "encrypted" and walk.options.password is None:
                raise TriageError(f"zip member #{index + 1} is encrypted; decrypt the archive "
                                  "first or give its password", path=member.display_name)
            # ZipExtFile never yields more than the declared size; the ratio limit on the
            # compressed size bounds what a lying header can claim.
            limit = max(walk.options.min_allowance,
                        walk.options.max_ratio * max(info.compress_size, 1))
            yield _child(member, safe_member_name(info.filename, index + 1), "zip",
                         _zip_opener(archive, info, walk, member.display_name), walk,
                         random_access=False, member_limit=limit)


def zip_entry_kind(info: zipfile.ZipInfo) -> str:
    """"directory" and "symlink" (skipped), "encrypted", or "file"."""
    if info.is_dir():
        return "directory"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "symlink"
    return "encrypted" if info.flag_bits & 0x1 else "file"


def _zip_opener(archive: zipfile.ZipFile, info: zipfile.ZipInfo, walk: Walk,
                where: str) -> Callable[..., BinaryIO]:
    def open_member(report: Callable[[int], None] | None = None) -> BinaryIO:
        try:
            if info.compress_type == zipfile.ZIP_DEFLATED and not info.flag_bits & 0x1:
                return _Inflated(archive.fp, info, where)  # type: ignore[arg-type]
            return archive.open(info)
        except NotImplementedError:
            raise TriageError("zip member uses an unsupported compression method",
                              path=where) from None
        except RuntimeError:  # wrong password
            raise TriageError("zip member cannot be decrypted with the given password",
                              path=where) from None
        except Exception:  # noqa: BLE001 - zipfile raises many types for a damaged header
            raise TriageError("corrupt zip archive", path=where) from None

    return open_member


class _Inflated(io.RawIOBase):
    """A deflated zip member, inflated by ISA-L (python-isal): a 147 MB member of the
    lab export took 0.22 s against zipfile's 0.58 s here. zipfile's checks are kept:
    the member ends at its declared sizes and its CRC-32 must match; a member cut
    short is a truncation (EOFError), any other mismatch is corrupt data.

    It reads ``archive`` (the zip's own stream) at its own position, so a member's
    head can be read while another stream of the zip is open; not from two threads
    at once, which one walk never does (it reads one member after the other).
    """

    _BLOCK = 1 << 20

    def __init__(self, archive: BinaryIO, info: zipfile.ZipInfo, where: str) -> None:
        archive.seek(info.header_offset)
        header = archive.read(30)
        if len(header) < 30 or header[:4] != b"PK\x03\x04":
            raise TriageError("corrupt zip archive", path=where)
        name_length, extra_length = struct.unpack("<HH", header[26:30])
        self._archive = archive
        self._position = info.header_offset + 30 + name_length + extra_length
        self._left = info.compress_size
        self._info = info
        self._inflate = isal_zlib.decompressobj(-15)
        self._crc = 0
        self._produced = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        """One step of the inflater: at least one byte until the end, at most ``buffer``."""
        while True:
            if self._inflate.unconsumed_tail:
                data = self._inflate.decompress(self._inflate.unconsumed_tail, len(buffer))
            elif self._left and not self._inflate.eof:
                self._archive.seek(self._position)
                compressed = self._archive.read(min(self._BLOCK, self._left))
                if not compressed:
                    raise EOFError("zip member truncated")
                self._position += len(compressed)
                self._left -= len(compressed)
                data = self._inflate.decompress(compressed, len(buffer))
            else:
                self._check_end()
                return 0
            if data:
                self._crc = isal_zlib.crc32(data, self._crc)
                self._produced += len(data)
                if self._produced > self._info.file_size:
                    raise ValueError("zip member longer than declared")
                buffer[:len(data)] = data
                return len(data)

    def _check_end(self) -> None:
        if not self._inflate.eof:
            raise EOFError("zip member truncated")
        if self._produced != self._info.file_size or self._crc != self._info.CRC:
            raise ValueError("zip member does not match its size or CRC-32")


@dataclass
class LeafZip:
    """A zip on disk whose members are all plain tables (none compressed, none an archive),
    which a cluster can read in shares of members: every limit one walk of it enforces
    holds by its directory alone, so each share can be read on its own."""

    #: (index in the zip's directory, declared size) of each member to read, in order.
    members: list[tuple[int, int]]
    #: Links and special files one walk skips, as ``Walk.skipped`` counts them.
    skipped: Counter[str]


def leaf_zip(path: Path, options: ReadOptions) -> LeafZip | None:
    """``path`` as a :class:`LeafZip`, or None when one walk of it must stay whole.

    The walk's limits are met without reading the members: their count, each member's
    ratio limit and the whole input's expansion budget, all from the sizes the
    directory declares (a member never yields more than its declared size). Then a
    member's first bytes tell whether it is compressed or an archive: a nested layer
    expands by what no directory declares, so such a zip is not shared out. Encrypted
    members, duplicate names and unreadable ones leave it whole too: one walk then
    gives exactly the single-pass result (or error).
    """
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            head = handle.read(HEAD_BYTES)
        if compression_of(head) is not None or archive_kind(path.name, head) != "zip":
            return None
        with zipfile.ZipFile(path) as archive:
            members, skipped, names = [], Counter[str](), set()
            for index, info in enumerate(archive.infolist()):
                entry = zip_entry_kind(info)
                if entry == "symlink":
                    skipped["symlink"] += 1
                elif entry == "encrypted":
                    return None
                elif entry == "file":
                    name = safe_member_name(info.filename, index + 1)
                    allowance = max(options.min_allowance,
                                    options.max_ratio * max(info.compress_size, 1))
                    if name in names or info.file_size > allowance:
                        return None
                    names.add(name)
                    with archive.open(info) as member:
                        first = member.read(_LEAF_PROBE_BYTES)
                    leaf_name = name.rsplit("!", 1)[-1]
                    if compression_of(first) is not None or archive_kind(leaf_name, first):
                        return None
                    members.append((index, info.file_size))
    except Exception:  # noqa: BLE001 - whatever fails here, one whole walk reports it
        return None
    budget = ExpansionBudget(options, size, str(path))
    if not 2 <= len(members) <= options.max_members or \
            sum(declared for _, declared in members) > budget.limit:
        return None
    return LeafZip(members, skipped)


# -- streamed members (tar, 7z) ---------------------------------------------------------


class _Replay(io.RawIOBase):
    """A view of a once-only stream that starts at 0 while the recorded bytes allow."""

    def __init__(self, owner: _OneShot) -> None:
        self._owner = owner
        self._position = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        owner = self._owner
        if self._position < len(owner.recorded):
            data = owner.recorded[self._position:self._position + len(buffer)]
        elif self._position == owner.live_position:
            data = owner.live.read(len(buffer))
            owner.live_position += len(data)
            if owner.live_position <= _REPLAY_BYTES:
                owner.recorded += data
        else:
            raise TriageError("archive member can be read only once", path=owner.name)
        n = len(data)
        buffer[:n] = data
        self._position += n
        return n


class _OneShot:
    def __init__(self, live: Any, name: str) -> None:
        self.live = live
        self.name = name
        self.recorded = bytearray()
        self.live_position = 0

    def open(self, report: Callable[[int], None] | None = None) -> BinaryIO:
        return io.BufferedReader(_Replay(self), buffer_size=64 * 1024)  # type: ignore[return-value]

    def drain(self) -> None:
        while self.live.read(1 << 20):
            pass


def _tar_members(member: Member, walk: Walk) -> Iterator[Member]:
    stream = member.open(walk.report if member.depth == 0 else None)
    try:
        archive = tarfile.open(fileobj=stream, mode="r|")  # noqa: SIM115 - closed below
    except tarfile.TarError:
        stream.close()
        raise TriageError("corrupt tar archive", path=member.display_name) from None
    with archive, stream:
        for position in itertools.count(1):
            try:
                info = archive.next()
            except (tarfile.TarError, EOFError, OSError) as exc:
                if walk.partial.truncated:
                    return
                if "end of data" not in str(exc):
                    raise TriageError("corrupt tar archive", path=member.display_name) from None
                walk.partial.truncate(archive.offset)
                return
            if info is None:
                if _ended_early(archive):
                    walk.partial.truncate(archive.offset)
                return
            if info.isdir():
                continue
            if info.issym() or info.islnk():
                walk.skipped["link"] += 1
                continue
            if not info.isfile():
                walk.skipped["special_file"] += 1
                continue
            name = safe_member_name(info.name, position)
            where = f"{member.display_name}!{name}"
            # tarfile's own reader raises at a short read and drops the bytes of that
            # read (up to a whole buffer): a member cut by the break would lose its last
            # good rows. Sparse members need tarfile's map of their holes.
            data = archive.extractfile(info) if info.issparse() else _TarData(archive, info)
            content = GuardedStream(data, name=where, budget=None, partial=walk.partial)
            once = _OneShot(content, where)
            yield _child(member, name, "tar", once.open, walk, random_access=False)
            if not walk.partial.truncated:
                once.drain()


def _ended_early(archive: tarfile.TarFile) -> bool:
    """Whether a tar stream stopped where a header was due, or inside one: tarfile takes
    both for the end of the archive. A real end is a whole block of zeros, which tarfile
    has read when it returns no member (as it has a header it cannot parse, which is
    taken for the end too and is not told apart here)."""
    return archive.fileobj.tell() - archive.offset < tarfile.BLOCKSIZE  # type: ignore[union-attr]


class _TarData(io.RawIOBase):
    """The bytes of a regular tar member, read from the archive's stream: in a streamed
    tar they follow the member's header; a short read returns what there is, and the
    stream ending before the member's end is a truncation (EOFError)."""

    def __init__(self, archive: tarfile.TarFile, info: tarfile.TarInfo) -> None:
        self._stream = archive.fileobj
        self._left = info.size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        if not self._left:
            return 0
        data = self._stream.read(min(len(buffer), self._left))  # type: ignore[union-attr]
        if not data:
            raise EOFError("tar member truncated")
        self._left -= len(data)
        buffer[:len(data)] = data
        return len(data)


# -- 7z ---------------------------------------------------------------------------------


_END = object()


class _Pipe:
    """Bytes pushed by the 7z extraction thread, pulled by a reader: a bounded queue."""

    def __init__(self, abort: threading.Event, producing: Callable[[], bool], where: str) -> None:
        self.chunks: queue.Queue[object] = queue.Queue(maxsize=8)
        self.abort = abort
        self._producing = producing
        self._where = where
        self._pending = b""
        self._done = False

    def push(self, item: object) -> None:
        while not self.abort.is_set():
            try:
                self.chunks.put(item, timeout=0.1)
                return
            except queue.Full:
                continue
        raise _Aborted

    def read(self, size: int = -1) -> bytes:
        while not self._pending and not self._done:
            try:
                item = self.chunks.get(timeout=0.2)
            except queue.Empty:
                if self._producing() or not self.chunks.empty():
                    continue
                raise TriageError("corrupt 7z data", path=self._where) from None
            if item is _END:
                self._done = True
            elif isinstance(item, BaseException):
                self._done = True
                raise item
            else:
                self._pending = item  # type: ignore[assignment]
        size = len(self._pending) if size < 0 else size
        data, self._pending = self._pending[:size], self._pending[size:]
        return data

    def close(self) -> None:
        pass


class _Aborted(Exception):
    """The reader stopped: the extraction thread unwinds."""


def _seven_zip_members(member: Member, walk: Walk) -> Iterator[Member]:
    import py7zr
    from py7zr.io import Py7zIO, WriterFactory

    stream = _seekable(member, "a 7z archive inside a compressed stream or an archive")
    password = walk.options.password.decode() if walk.options.password else None
    where = member.display_name
    try:
        archive = py7zr.SevenZipFile(stream, mode="r", password=password)
    except py7zr.exceptions.PasswordRequired:
        stream.close()
        raise TriageError("7z archive is encrypted (even its file list); give its password",
                          path=where) from None
    except Exception:  # noqa: BLE001 - py7zr raises many types for a bad header
        stream.close()
        raise TriageError("corrupt 7z archive", path=where) from None
    if archive.needs_password() and password is None:
        archive.close()
        stream.close()
        raise TriageError("7z archive is encrypted; decrypt it first or give its password",
                          path=where)
    links = {f.filename for f in archive.files if f.is_symlink}
    abort = threading.Event()
    announced: queue.Queue[object] = queue.Queue(maxsize=1)
    budget = walk.budget

    class PipeWriter(Py7zIO):
        def __init__(self, pipe: _Pipe) -> None:
            self.pipe = pipe
            self.written = 0

        def write(self, data: bytes | bytearray) -> int:
            budget.spend(len(data))
            self.written += len(data)
            self.pipe.push(bytes(data))
            return len(data)

        def read(self, size: int | None = None) -> bytes:
            return b""

        def seek(self, offset: int, whence: int = 0) -> int:
            return self.written

        def flush(self) -> None:
            pass

        def size(self) -> int:
            return self.written

        def close(self) -> None:
            self.pipe.push(_END)

    class Factory(WriterFactory):
        def create(self, filename: str) -> Py7zIO:
            pipe = _Pipe(abort, lambda: worker.is_alive(), where)
            while not abort.is_set():
                try:
                    announced.put((filename, pipe), timeout=0.1)
                    return PipeWriter(pipe)
                except queue.Full:
                    continue
            raise _Aborted

    def extract() -> None:
        try:
            archive.extractall(factory=Factory())
            outcome: object = _END
        except _Aborted:
            return
        except TriageError as exc:
            outcome = exc
        except Exception:  # noqa: BLE001 - a CRC or codec failure; its message may quote names
            outcome = TriageError("corrupt 7z data", path=where)
        with contextlib.suppress(_Aborted):
            while not abort.is_set():
                try:
                    announced.put(outcome, timeout=0.1)
                    return
                except queue.Full:
                    continue

    worker = threading.Thread(target=extract, name="triage-7z", daemon=True)
    worker.start()
    positions = itertools.count(1)  # of the files announced, in the archive's order
    try:
        while True:
            try:
                item = announced.get(timeout=0.2)
            except queue.Empty:
                if worker.is_alive() or not announced.empty():
                    continue
                raise TriageError("corrupt 7z data", path=where) from None
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            filename, pipe = item  # type: ignore[misc]
            position = next(positions)
            if filename in links:
                walk.skipped["link"] += 1
                _drain(pipe)
                continue
            name = safe_member_name(filename, position)
            content = GuardedStream(pipe, name=f"{where}!{name}", budget=None,
                                    partial=walk.partial)
            once = _OneShot(content, f"{where}!{name}")
            yield _child(member, name, "7z", once.open, walk, random_access=False)
            _drain(pipe)
    finally:
        abort.set()
        worker.join(timeout=5)
        archive.close()
        stream.close()


def _drain(pipe: _Pipe) -> None:
    while pipe.read(1 << 20):
        pass
