"""Cutting a large delimited file into byte ranges that begin and end on record boundaries.

A part of a split file is read by the ordinary :class:`DelimitedSource`, over a
stream made of the file's header record followed by the part's bytes, so every
part parses exactly as the same rows would in one pass. Cuts are placed so that
the single-pass reader's notion of a record boundary holds there:

* an unquoted dialect: any newline. Only a small window after each nominal cut is
  read.
* a quoted dialect: a newline with an even number of quote characters before it
  in the whole file. This needs one raw read of the file (numpy over the bytes, no
  parsing), which also checks that every quote opens or closes a field the RFC 4180
  way; in a file with a stray quote, parity no longer tells where records end, so
  such a file is not split (it is read by one task, exactly as in one pass).

Only plain files on disk in UTF-8 or cp1252 are split: their newline and quote are
single bytes, so a byte range decodes on its own. A zip on disk whose members are
plain tables is cut between members instead (``member_shares``, and
``triage.sources.archive.leaf_zip`` for when that is exact). Everything else is one
task.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path
from typing import Self, TypeGuard

import numpy as np

# (importing the reader registers the "triage-latin1" error handler used below)
from triage.sources.delimited import DelimitedSource, count_byte, lines_end

#: Target size of one part: large enough that a task's fixed cost (~0.1 s) is noise.
SPLIT_BYTES = 128 * 1024 * 1024
SPLIT_ENCODINGS = ("utf-8", "utf-8-sig", "cp1252")
_WINDOW = 1 << 20
_SCAN_BLOCK = 64 * 1024 * 1024
_NEWLINE = 0x0A


@dataclass(frozen=True)
class ByteRange:
    """One part of a split file: bytes ``[start, end)``. A part other than the first
    is read after the file's header record, bytes ``[header_start, header_end)`` (past
    the title block above the table, if any); the first reads both in place."""

    path: str
    index: int
    start: int
    end: int
    header_start: int
    header_end: int

    @property
    def header(self) -> tuple[int, int] | None:
        """The span of the header record read before this part, if one is."""
        if self.start > 0 and self.header_end > self.header_start:
            return self.header_start, self.header_end
        return None


def splittable(source: object) -> TypeGuard[DelimitedSource]:
    """Whether ``source`` is a plain delimited file whose bytes can be cut."""
    if not isinstance(source, DelimitedSource):
        return False
    member = source.member
    return (member.compression is None and member.container is None
            and member.opener is None and member.member is None
            and source.dialect.encoding in SPLIT_ENCODINGS
            # Cuts are made at LF; a classic Mac file has none.
            and source.dialect.line_break == "\n")


def header_span(source: DelimitedSource, head: bytes) -> tuple[int, int]:
    """Raw byte span of the header record, after the title block above the table
    (where the table's rows start, twice, without a header): the lines the sniffer
    found, as the reader skips them."""
    dialect = source.dialect
    start = lines_end(head, dialect.preamble_lines)
    end = lines_end(head, dialect.header_lines, start) if start >= 0 else -1
    if end < 0:
        raise ValueError("header record longer than the sniffed head")
    return start, end


def part_targets(start: int, size: int, split_bytes: int, workers: int) -> list[int]:
    """Nominal cut offsets: rounds of ``workers`` parts of at most ``split_bytes``, the
    last round in parts half as large, so that workers finish close together (the
    last task bounds the wall time)."""
    if size - start <= split_bytes:
        return []
    rounds = -(-(size - start) // (split_bytes * workers))
    part = (size - start) / (rounds * workers)
    sizes = [part] * ((rounds - 1) * workers) + [part / 2] * (2 * workers)
    offsets, position = [], float(start)
    for length in sizes[:-1]:
        position += length
        offsets.append(int(position))
    return offsets


def byte_ranges(source: DelimitedSource, split_bytes: int = SPLIT_BYTES,
                workers: int = 1) -> list[ByteRange]:
    """The parts of ``source`` (one part when it is small or cannot be cut safely)."""
    path = Path(source.member.path)
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(_WINDOW)
    header_start, first = header_span(source, head)
    targets = part_targets(first, size, split_bytes, workers)
    if not targets:
        cuts: list[int] = []
    elif source.dialect.quotechar is None:
        cuts = _newline_cuts(path, targets)
    else:
        cuts = _even_parity_cuts(path, targets, source.dialect.quotechar.encode()[0],
                                 source.dialect.delimiter.encode()[0])
    bounds = [0, *sorted({c for c in cuts if first < c < size}), size]
    return [ByteRange(str(path), i, bounds[i], bounds[i + 1], header_start, first)
            for i in range(len(bounds) - 1)]


def member_shares(members: list[tuple[int, int]], split_bytes: int = SPLIT_BYTES
                  ) -> list[tuple[int, ...]]:
    """Consecutive archive members in shares of about ``split_bytes`` (declared sizes),
    one task each: small members together, so that a task's fixed cost stays noise."""
    shares: list[tuple[int, ...]] = []
    share: list[int] = []
    filled = 0
    for index, declared in members:
        if share and filled + declared > split_bytes:
            shares.append(tuple(share))
            share, filled = [], 0
        share.append(index)
        filled += declared
    if share:
        shares.append(tuple(share))
    return shares


def _newline_cuts(path: Path, targets: list[int]) -> list[int]:
    """Just past the first newline at or after each target (a small read per cut)."""
    cuts = []
    with open(path, "rb") as handle:
        for target in targets:
            position = target
            while True:
                handle.seek(position)
                window = handle.read(_WINDOW)
                if not window:
                    break
                newline = window.find(b"\n")
                if newline >= 0:
                    cuts.append(position + newline + 1)
                    break
                position += len(window)
    return cuts


def _even_parity_cuts(path: Path, targets: list[int], quote: int, delimiter: int) -> list[int]:
    """Just past the first newline at or after each target with an even number of quotes
    before it; no cuts at all if any quote is not where RFC 4180 puts one."""
    data = np.memmap(path, dtype=np.uint8, mode="r")
    size = len(data)
    quotes_before = 0
    cuts: list[int] = []
    pending = list(targets)
    for start in range(0, size, _SCAN_BLOCK):
        block = data[start:start + _SCAN_BLOCK]
        at = np.flatnonzero(block == quote) + start
        ordinal = np.arange(quotes_before, quotes_before + len(at))
        if len(at) and not _well_formed(data, at, ordinal, quote, delimiter):
            return []
        while pending and pending[0] < start + len(block):
            newlines = np.flatnonzero(block[max(0, pending[0] - start):] == _NEWLINE)
            newlines += max(start, pending[0])
            parity = (quotes_before + np.searchsorted(at, newlines)) & 1
            even = newlines[parity == 0]
            if not len(even):
                break  # no safe newline left in this block: look in the next one
            cuts.append(int(even[0]) + 1)
            pending = [t for t in pending if t > even[0]]
        quotes_before += len(at)
    return cuts


def _well_formed(data: np.ndarray, at: np.ndarray, ordinal: np.ndarray, quote: int,
                 delimiter: int) -> bool:
    """Every opening quote starts a field (or doubles the quote just before it), every
    closing quote ends one (or is doubled by the next): then quote parity is exactly
    the parser's in-field state, and an even-parity newline ends a record."""
    size = len(data)
    previous = np.where(at > 0, data[np.maximum(at - 1, 0)], _NEWLINE)
    following = np.where(at + 1 < size, data[np.minimum(at + 1, size - 1)], _NEWLINE)
    opening = (ordinal & 1) == 0
    opens_field = np.isin(previous, (delimiter, _NEWLINE, quote)) | (at == 0)
    closes_field = np.isin(following, (delimiter, _NEWLINE, 0x0D, quote))
    # A quote right after a BOM opens the first field of the file.
    opens_field |= (at == 3) & (size > 3) & bool(data[:3].tobytes() == codecs.BOM_UTF8)
    return bool(np.all(np.where(opening, opens_field, closes_field)))


class RangeReader:
    """A read-only stream of the header record then one byte range, counting the range's
    newlines and its length once decoded to UTF-8 (the reader's line and offset units)."""

    def __init__(self, part: ByteRange, encoding: str) -> None:
        self._file = open(part.path, "rb")  # noqa: SIM115 - closed by close()/__exit__
        self._spans = [(part.start, part.end)]
        if part.header is not None:
            self._spans.insert(0, part.header)
        self._range_start = part.start
        self._utf8_length = _utf8_lengths(encoding)
        self.newlines = 0
        self.decoded_bytes = 0

    def readinto(self, buffer: bytearray | memoryview) -> int:
        view = memoryview(buffer).cast("B")
        while self._spans:
            start, end = self._spans[0]
            if start >= end:
                self._spans.pop(0)
                continue
            self._file.seek(start)
            read = self._file.readinto(view[:min(len(view), end - start)])
            if not read:
                self._spans.pop(0)
                continue
            self._spans[0] = (start + read, end)
            if len(self._spans) == 1:  # the part's own bytes, not the header read before it
                block = view[:read]
                self.newlines += count_byte(block, _NEWLINE)
                self.decoded_bytes += self._decoded_length(block, start)
            return read
        return 0

    def _decoded_length(self, block: memoryview, start: int) -> int:
        length = _utf8_length_of(block, self._utf8_length)
        if start == 0 and block[:len(codecs.BOM_UTF8)] == codecs.BOM_UTF8:
            length -= len(codecs.BOM_UTF8)  # the reader drops a leading BOM
        return length

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def decoded_length(raw: bytes, encoding: str) -> int:
    """Length in UTF-8 of ``raw`` as the delimited reader decodes it (BOM dropped)."""
    length = _utf8_length_of(raw, _utf8_lengths(encoding))
    return length - (len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0)


def _utf8_lengths(encoding: str) -> np.ndarray | None:
    """UTF-8 bytes per input byte for a single-byte encoding; None for UTF-8 itself."""
    if encoding != "cp1252":
        return None
    return np.array([len(bytes([b]).decode("cp1252", "triage-latin1").encode("utf-8"))
                     for b in range(256)], dtype=np.int64)


def _utf8_length_of(raw: bytes | memoryview, table: np.ndarray | None) -> int:
    if table is None:
        return len(raw)
    data = np.frombuffer(raw, dtype=np.uint8)
    # ASCII is one byte either way, so only the other bytes (a few percent of a legacy
    # export) are counted. np.bincount over a whole 16 MiB block cast it to int64
    # first: 60 ms and 128 MiB of fresh pages per block, seconds of page faults on
    # the workers of a local cluster over a 1.2 GB file.
    others = data[data >= 0x80]
    return len(data) + int(np.bincount(others, minlength=256) @ (table - 1))
