"""Delimited text (CSV, TSV, `;` and `|` exports) in bounded memory.

The decompressed bytes are transcoded to UTF-8 when needed and cut into chunks at
record boundaries (a newline outside quotes, found by quote parity). Each chunk is
split by the native kernel straight into Arrow string views
(``native.split_delimited``), which also counts every record's fields; it declines
any chunk it cannot read exactly (ragged records, blank lines, stray quotes or
carriage returns, invalid UTF-8, or no compiler). A declined chunk is parsed by
polars' CSV reader and checked: a clean chunk has exactly ``rows * (width - 1)``
structural delimiters; any other chunk is re-read by the csv module, record by
record, so that short rows get null cells, long rows keep their surplus in
``_extra``, and each is counted.

Three threads share the work: one reads, transcodes and cuts chunks, one parses
them, and the consumer uses the frames, so reading and cutting overlap the parse.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from collections.abc import Iterable, Iterator
from contextlib import closing
from typing import BinaryIO, NamedTuple

import numpy as np
import polars as pl

from triage.errors import TriageError
from triage.native import native_kernel, split_delimited, transcode_single_byte
from triage.sources.base import EXTRA_COLUMN, Source, SourceInfo
from triage.sources.prefetch import prefetch
from triage.sources.sniff import SAMPLE_BYTES, TextDialect, column_names, sniff_text_table
from triage.sources.stream import Member

# 16 MiB: large enough for polars to parse in parallel, small enough to stay under
# glibc's mmap threshold after the first chunk (32 MiB chunks cost 3x the page faults).
CHUNK_BYTES = 16 * 1024 * 1024
#: A record longer than this is refused (counted, skipped) instead of buffered.
MAX_RECORD_BYTES = 64 * 1024 * 1024
_OVERFLOW = "__overflow_"
_CR_TO_LF = bytes.maketrans(b"\r", b"\n")
_COUNT_SLICE = 1 << 20


def count_byte(data: bytes, byte: int) -> int:
    """Occurrences of one byte value; numpy over cache-sized slices is ~5x bytes.count."""
    array = np.frombuffer(data, dtype=np.uint8)
    return sum(int(np.count_nonzero(array[i:i + _COUNT_SLICE] == byte))
               for i in range(0, len(array), _COUNT_SLICE))


def lines_end(data: bytes | bytearray, count: int, start: int = 0) -> int:
    """Index just past the ``count``-th line break from ``start``, or -1."""
    position = start
    for _ in range(count):
        newline = data.find(b"\n", position)
        if newline < 0:
            return -1
        position = newline + 1
    return position


def read_blocks(stream: BinaryIO, size: int) -> Iterator[memoryview]:
    """Blocks of at most ``size`` bytes, each a view of one reused buffer, valid until
    the next: a fresh 16 MiB bytes object per block faults in all its pages every time,
    since glibc hands blocks that large back to the system when they are freed."""
    buffer = memoryview(bytearray(size))
    while read := stream.readinto(buffer):
        yield buffer[:read]


class _Chunk(NamedTuple):
    """Whole records cut from the input, where they start, and their line ends."""

    data: bytes
    line: int
    offset: int
    newlines: int


class _Rejected(NamedTuple):
    """A region the chunk cutter dropped, passed down the stream in order: only the
    parsing thread writes the accounting, so counts and listed regions never race."""

    reason: str
    line: int
    offset: int
    rows: int = 1


class DelimitedSource(Source):
    def __init__(self, member: Member, info: SourceInfo, dialect: TextDialect,
                 chunk_bytes: int = CHUNK_BYTES, max_record_bytes: int = MAX_RECORD_BYTES) -> None:
        super().__init__(info)
        self.member = member
        self.dialect = dialect
        self.columns = column_names(dialect.header, dialect.width)
        self.chunk_bytes = chunk_bytes
        self.max_record_bytes = max_record_bytes
        self._sep = dialect.delimiter.encode()
        self._quote = dialect.quotechar.encode() if dialect.quotechar else None
        self._overflow = 1

    @classmethod
    def open(cls, member: Member, info: SourceInfo, head: bytes) -> DelimitedSource:
        sample = head[:SAMPLE_BYTES]
        if len(head) >= SAMPLE_BYTES and b"\n" not in sample:
            raise TriageError(f"no line break in the first {SAMPLE_BYTES // 1024} KiB: not a "
                              "delimited table (or one huge line)", path=info.name, line=1)
        dialect = sniff_text_table(sample, at_eof=len(head) < SAMPLE_BYTES)
        info.format = "delimited"
        info.encoding = dialect.encoding
        info.delimiter = dialect.delimiter
        info.quoting = "double-quote" if dialect.quotechar else "none"
        info.header = dialect.header is not None
        return cls(member, info, dialect)

    def declared_columns(self) -> list[str]:
        return self.columns if self.dialect.header is not None else []

    # -- bytes to UTF-8 -------------------------------------------------------------

    def _utf8_blocks(self, stream: BinaryIO) -> Iterator[bytes | memoryview]:
        """The stream as UTF-8, in blocks the caller copies from before the next; the
        records of a classic Mac file end with LF, like every other's, from here on."""
        blocks = self._decoded_blocks(stream)
        if self.dialect.line_break == "\r":
            return (bytes(block).translate(_CR_TO_LF) for block in blocks)
        return blocks

    def _decoded_blocks(self, stream: BinaryIO) -> Iterator[bytes | memoryview]:
        encoding = self.dialect.encoding
        if encoding in ("utf-8", "utf-8-sig"):
            first = True
            for block in read_blocks(stream, self.chunk_bytes):
                if first and block[:len(codecs.BOM_UTF8)] == codecs.BOM_UTF8:
                    block = block[len(codecs.BOM_UTF8):]
                first = False
                yield block
            return
        errors = "triage-latin1" if encoding == "cp1252" else "replace"
        if encoding == "cp1252" and native_kernel() is not None:
            # One byte is one character: blocks transcode alone, in C, without the GIL,
            # into one buffer (the reader copies each block out before the next): a
            # fresh 48 MiB buffer and a copy to bytes per block cost page faults and
            # memmove on every 16 MiB.
            buffer = np.empty(3 * self.chunk_bytes, dtype=np.uint8)
            for block in read_blocks(stream, self.chunk_bytes):
                yield transcode_single_byte(block, encoding, errors, out=buffer)
            return
        decoder = codecs.getincrementaldecoder(encoding)(errors=errors)
        # Lazily: every block is a view of the same buffer, decoded before the next read.
        for block in itertools.chain(read_blocks(stream, self.chunk_bytes), [b""]):
            text = decoder.decode(block, final=not block)
            if text:
                yield text.lstrip("\ufeff").encode("utf-8", "surrogatepass")

    # -- record boundaries ------------------------------------------------------------

    def _record_end(self, data: bytes | bytearray, start: int = 0) -> int:
        """Index just past the last newline outside quotes, or -1."""
        end = data.rfind(b"\n", start)
        if self._quote is None or end < 0:
            return end + 1 if end >= 0 else -1
        parity = data.count(self._quote, start, end) & 1
        while end >= start:
            if parity == 0:
                return end + 1
            previous = data.rfind(b"\n", start, end)
            if previous < 0:
                return -1
            parity ^= data.count(self._quote, previous, end) & 1
            end = previous
        return -1

    def _unmatched_quote_line(self, data: bytes | bytearray) -> tuple[int, int]:
        """(byte index, line index) of the line whose quote never closes, in ``data``.

        Walks lines from the start keeping quote parity; the line where parity
        turned odd for good starts the bad record.
        """
        parity, position, line, bad_at, bad_line = 0, 0, 0, 0, 0
        assert self._quote is not None
        while position < len(data):
            newline = data.find(b"\n", position)
            stop = len(data) if newline < 0 else newline + 1
            if parity == 0:
                bad_at, bad_line = position, line
            parity ^= data.count(self._quote, position, stop) & 1
            position, line = stop, line + 1
        return bad_at, bad_line

    def _chunks(self, stream: BinaryIO) -> Iterator[_Chunk | _Rejected]:
        """Yield a :class:`_Chunk` of whole records at a time, and a :class:`_Rejected`
        for each region dropped, in the order of the input.

        Offsets and line numbers are those of the decoded UTF-8 text (for UTF-8
        input, of the file itself). A record that cannot be delimited (a quote
        that never closes, or longer than ``max_record_bytes``) is rejected by
        position; reading resumes at the next line.
        """
        pending = bytearray()
        line, offset = 1, 0
        # The title block above the table, then its header: not rows of the table.
        leading = self.dialect.preamble_lines + self.dialect.header_lines
        discarding = False  # inside an over-long record, dropping until a newline
        exhausted = False
        blocks = self._utf8_blocks(stream)
        while True:
            block = next(blocks, None)
            exhausted = block is None
            if block:
                if discarding:
                    block = bytes(block)  # a view of the transcoder's buffer has no find()
                    newline = block.find(b"\n")
                    if newline < 0:
                        offset += len(block)
                        continue
                    offset += newline + 1
                    line += 1
                    block = block[newline + 1:]
                    discarding = False
                pending += block
            if leading:
                cut = lines_end(pending, leading)
                if cut < 0 and not exhausted:
                    if len(pending) > self.max_record_bytes:
                        raise TriageError(f"header line longer than {self.max_record_bytes:,} "
                                          "bytes", path=self.info.name, line=1, offset=0)
                    continue
                if self.dialect.preamble_rows:
                    yield _Rejected("preamble", line, offset, self.dialect.preamble_rows)
                cut = len(pending) if cut < 0 else cut
                line += pending.count(b"\n", 0, cut)
                offset += cut
                del pending[:cut]
                leading = 0
            while pending:
                cut = self._record_end(pending) if not exhausted else (
                    len(pending) if self._balanced(pending) else -1)
                if cut > 0:
                    chunk = bytes(memoryview(pending)[:cut])
                    del pending[:cut]
                    newlines = count_byte(chunk, 10)
                    yield _Chunk(chunk, line, offset, newlines)
                    line += newlines
                    offset += len(chunk)
                    break
                if not exhausted and len(pending) <= self.max_record_bytes:
                    break  # a record still open: read more
                if self._quote is not None and not self._balanced(pending):
                    good, _ = self._unmatched_quote_line(pending)
                    if good > 0:
                        chunk = bytes(pending[:good])
                        del pending[:good]
                        newlines = chunk.count(b"\n")
                        yield _Chunk(chunk, line, offset, newlines)
                        line += newlines
                        offset += len(chunk)
                    reason = "unterminated_quote"
                else:
                    reason = "record_too_long"
                yield _Rejected(reason, line, offset)
                newline = pending.find(b"\n")
                if newline < 0:
                    offset += len(pending)
                    pending.clear()
                    discarding = not exhausted
                else:
                    offset += newline + 1
                    line += 1
                    del pending[:newline + 1]
            if exhausted and not pending:
                break

    def _balanced(self, data: bytearray) -> bool:
        return self._quote is None or data.count(self._quote) % 2 == 0

    # -- parsing ------------------------------------------------------------------

    def batches(self, *, read_ahead: bool = True) -> Iterator[pl.DataFrame]:
        """The frames of the records, in order. ``read_ahead=False``: cut and parse
        each chunk only when asked for it, for a reader that takes the first frame or
        two (planning a cluster scan): closing would otherwise wait for the threads
        to finish chunks no one reads (~0.12 s on the 2M-row lab export)."""
        cut_ahead, parse_ahead = (1, 2) if read_ahead else (0, 0)
        try:
            # Cutting runs one chunk ahead of parsing, parsing one ahead of the
            # consumer. Closing in reverse order stops each thread before what it
            # reads goes away: the parser, then the cutter, then the stream.
            with self.member.open(self._progress) as stream, \
                    closing(prefetch(self._chunks(stream), cut_ahead)) as pieces, \
                    closing(prefetch(self._frames(pieces), parse_ahead)) as frames:
                for frame in frames:
                    if frame.height:
                        yield frame
        except (OSError, EOFError, ValueError) as exc:
            if isinstance(exc, TriageError):
                raise
            raise TriageError(_stream_problem(exc), path=self.info.name,
                              line=None) from None

    def _frames(self, pieces: Iterable[_Chunk | _Rejected]) -> Iterator[pl.DataFrame]:
        for piece in pieces:
            if isinstance(piece, _Rejected):
                self.accounting.reject(piece.reason, piece.rows, line=piece.line,
                                       offset=piece.offset)
            else:
                yield self._parse(*piece)

    def _polars_read(self, chunk: bytes) -> pl.DataFrame:
        names = self.columns + [f"{_OVERFLOW}{k}" for k in range(self._overflow)]
        return pl.read_csv(
            chunk, has_header=False, separator=self.dialect.delimiter,
            quote_char=self.dialect.quotechar, infer_schema=False,
            schema=dict.fromkeys(names, pl.String), missing_columns="insert",
            empty_string_is_null=False, truncate_ragged_lines=False, raise_if_empty=False,
        )

    def _parse(self, chunk: bytes, line: int, offset: int, newlines: int) -> pl.DataFrame:
        # Most chunks are clean UTF-8 records of the right width: the kernel splits them
        # into views over the chunk in one pass, without the GIL (2.3x less CPU than
        # polars' reader on the lab export, and no rechunk or width check after).
        # cp1252 text reaches here through a transcoder (every byte has a character, and
        # the codec's undefined ones are read as latin-1): valid UTF-8 by construction.
        frame = split_delimited(chunk, self.dialect.delimiter, self.dialect.quotechar,
                                self.columns, newlines + 1,
                                utf8_checked=self.dialect.encoding == "cp1252")
        if frame is not None:
            self.accounting.add_parsed(frame.height)
        else:
            frame = self._general_parse(chunk, line, offset)
        if self.dialect.header is not None:
            frame = self._drop_repeated_headers(frame, chunk, line, offset)
        return frame

    def _general_parse(self, chunk: bytes, line: int, offset: int) -> pl.DataFrame:
        """Polars' reader, checked for width, or the exact reader for a ragged chunk."""
        undecodable_at = None  # index in the chunk of its first undecodable byte
        frame = None
        for _attempt in range(12):
            try:
                frame = self._polars_read(chunk)
                break
            except pl.exceptions.ComputeError as exc:
                message = str(exc)
                if "more fields" in message and self._overflow < 4096:
                    self._overflow *= 4
                    continue
                if "utf-8" in message.lower() or "utf8" in message.lower():
                    try:
                        chunk.decode("utf-8")
                    except UnicodeDecodeError as bad:
                        undecodable_at = bad.start
                    chunk = chunk.decode("utf-8", "replace").encode("utf-8")
                    continue
                break
            except Exception:  # noqa: BLE001 - any parser failure takes the exact path
                break
        if frame is None or not self._clean(chunk, frame):
            frame = self._exact_parse(chunk, line, offset)
        else:
            # One chunk per column (polars' parser returns one per thread), on the
            # reading thread, for every reader of this source: pipeline.run, whose own
            # rechunk then has nothing to do, and a cluster's byte-range tasks.
            frame = frame.select(self.columns).rechunk()
            self.accounting.add_parsed(frame.height)
        if undecodable_at is not None:
            bad = frame.select(pl.any_horizontal(
                pl.col(c).str.contains("\ufffd", literal=True) for c in frame.columns)).to_series()
            self.accounting.repair("undecodable_bytes", int(bad.sum()),
                                   line=line + chunk.count(b"\n", 0, undecodable_at),
                                   offset=offset + undecodable_at)
        return frame

    def _clean(self, chunk: bytes, frame: pl.DataFrame) -> bool:
        """True when every record has exactly ``width`` fields (no blank lines either)."""
        overflow = [c for c in frame.columns if c.startswith(_OVERFLOW)]
        if frame.select(pl.any_horizontal(pl.col(c) != "" for c in overflow).any()).item():
            return False
        delimiters = count_byte(chunk, self._sep[0])
        if self._quote is not None and self._quote in chunk:
            inside = frame.select(pl.sum_horizontal(
                pl.col(c).str.count_matches(self.dialect.delimiter, literal=True).sum()
                for c in self.columns)).item()
            delimiters -= int(inside or 0)
        return delimiters == frame.height * (len(self.columns) - 1)

    def _exact_parse(self, chunk: bytes, line: int, offset: int) -> pl.DataFrame:
        """Record-by-record read of a chunk that has ragged rows: exact counts."""
        width = len(self.columns)
        cells: list[list[str | None]] = [[] for _ in range(width + 1)]
        text = chunk.decode("utf-8", "replace")
        reader = csv.reader(
            io.StringIO(text, newline=""), delimiter=self.dialect.delimiter,
            quotechar=self.dialect.quotechar or '"',
            quoting=csv.QUOTE_MINIMAL if self._quote else csv.QUOTE_NONE, strict=False)
        short = long = 0
        first_short = first_long = None
        for record in reader:
            if not record:
                continue  # a blank line is not a record
            n = len(record)
            if n < width:
                short += 1
                if first_short is None:
                    first_short = line + reader.line_num - 1
                record = record + [None] * (width - n)  # type: ignore[list-item]
            extra = None
            if n > width:
                long += 1
                if first_long is None:
                    first_long = line + reader.line_num - 1
                extra = self.dialect.delimiter.join(record[width:])
            for j in range(width):
                cells[j].append(record[j])
            cells[width].append(extra)
        names = self.columns + [EXTRA_COLUMN]
        frame = pl.DataFrame(dict(zip(names, cells, strict=True)),
                             schema=dict.fromkeys(names, pl.String))
        self.accounting.add_parsed(frame.height)
        self.accounting.repair("too_few_fields", short, line=first_short)
        self.accounting.repair("too_many_fields", long, line=first_long)
        if not long:
            frame = frame.drop(EXTRA_COLUMN)
        return frame

    def _drop_repeated_headers(self, frame: pl.DataFrame, chunk: bytes, line: int,
                               offset: int) -> pl.DataFrame:
        header = self.dialect.header or []
        first = self.columns[0]
        if not frame.select((pl.col(first) == header[0]).any()).item():
            return frame
        repeated = pl.all_horizontal(
            pl.col(c) == h for c, h in zip(self.columns, header, strict=False))
        count = frame.select(repeated.sum()).item()
        if count:
            # Counted as read and rejected: they were parsed as rows a moment ago.
            self.accounting.parsed -= count
            self.accounting.read -= count
            self.accounting.reject("repeated_header", count,
                                   **self._first_repeated_header(chunk, line, offset))
            frame = frame.filter(~repeated.fill_null(False))
        return frame

    def _first_repeated_header(self, chunk: bytes, line: int, offset: int) -> dict[str, int]:
        """Line and offset of the first copy of the header in ``chunk`` (which starts at
        ``line``, ``offset``); the chunk's own when it is quoted unlike the first."""
        header = re.escape(self.dialect.delimiter.join(self.dialect.header or []).encode())
        found = re.search(rb"(?:\A|\n)(" + header + rb")\r?\n", chunk)
        if found is None:
            return {"line": line, "offset": offset}
        at = found.start(1)
        return {"line": line + chunk.count(b"\n", 0, at), "offset": offset + at}


def _stream_problem(exc: BaseException) -> str:
    """A one-line description of a broken stream that never quotes its content."""
    name = type(exc).__name__
    if isinstance(exc, EOFError):
        return "compressed stream ends early (truncated file)"
    if name in ("BadGzipFile", "BadZipFile"):
        return "corrupt compressed data"
    if isinstance(exc, OSError):
        return exc.strerror or "read error"
    return "corrupt or unreadable data"


def open_delimited(member: Member, info: SourceInfo, head: bytes) -> DelimitedSource:
    return DelimitedSource.open(member, info, head)
