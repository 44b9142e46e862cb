"""SQL dumps: MySQL/MariaDB ``INSERT … VALUES`` and PostgreSQL ``COPY … FROM stdin``.

One streaming pass over the dump feeds one :class:`Source` per table
(``dump.sql#patients``): the dump is cut into statements by a scanner that keeps
quote state across blocks, and each table's source yields its rows while the
scanner is inside that table's statements. Tables come out in dump order; a
table whose rows resume after another table's (never the case in mysqldump or
pg_dump output) becomes a further source of the same name.

Speed comes from polars' CSV reader. With the native kernel (``triage/_native.c``,
``triage_mysql_values``), an ``INSERT``'s value lists are tokenized in C, without the
GIL, and written as CSV with every escape decoded (``NULL`` as an empty field, strings
quoted), finding the statement's end in the same pass; the INSERTs that follow with
the same prefix (one row per statement) are read in the same call.
Polars parses about 16 MiB of it at a time on the consumer's thread, and the frame is
checked against the kernel's counts (rows, and per column nulls and value bytes).
Without the kernel, a run of value lists in the canonical form that dump tools write
(``(1,'a\\'b',NULL),(2,…)``) is turned into CSV with a few byte replacements (escaped
backslashes to a placeholder, ``\\'`` to ``''``, ``),(`` to a newline), parsed in one
call and checked: the row count must equal the tuple count, the structural commas must
equal ``rows × (width − 1)``, and no quote may be stray nor space, parenthesis or
backslash be outside quotes. Whatever either path declines (double-quoted strings,
expressions, ragged tuples, a failed check; for the kernel, bytes that are not UTF-8)
is re-read by an exact tokenizer, tuple by tuple, which both paths equal value for
value (``tests/test_sql_native.py``). ``COPY`` blocks are tab-separated text and take
polars' road with tabs.
"""

from __future__ import annotations

import codecs
import copy
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from triage import native
from triage.errors import TriageError
from triage.sources.base import EXTRA_COLUMN, RowAccounting, Source, SourceInfo
from triage.sources.delimited import count_byte
from triage.sources.names import withhold_identifiers
from triage.sources.prefetch import prefetch
from triage.sources.sniff import column_names
from triage.sources.stream import Member

BLOCK_BYTES = 16 * 1024 * 1024
#: Value lists of one table are parsed together up to about this many bytes.
RUN_BYTES = 16 * 1024 * 1024
#: A statement other than INSERT (CREATE TABLE, SET…) longer than this is skipped.
MAX_STATEMENT_BYTES = 64 * 1024 * 1024
#: Stands for an escaped backslash while other escapes are decoded; inputs holding it
#: take the exact path.
_PLACEHOLDER = "\x1a\x1b"
_PLACEHOLDER_BYTES = _PLACEHOLDER.encode()

_NAME = rb'(?:`(?:[^`]|``)+`|"(?:[^"]|"")+"|\[[^\]]+\]|[\w$]+)'
_QUALIFIED = rb"(" + _NAME + rb"(?:\s*\.\s*" + _NAME + rb")*)"
_INSERT = re.compile(
    rb"(?:INSERT|REPLACE)\s+(?:(?:LOW_PRIORITY|DELAYED|HIGH_PRIORITY|IGNORE)\s+)*(?:INTO\s+)?"
    + _QUALIFIED + rb"\s*(?:\(([^)]*)\))?\s*VALUES\s*", re.IGNORECASE)
_COPY = re.compile(rb"COPY\s+" + _QUALIFIED + rb"\s*(?:\(([^)]*)\))?\s*FROM\s+stdin\b",
                   re.IGNORECASE)
_CREATE = re.compile(rb"CREATE\s+(?:(?:GLOBAL|LOCAL|TEMPORARY|TEMP|UNLOGGED)\s+)*TABLE\s+"
                     rb"(?:IF\s+NOT\s+EXISTS\s+)?" + _QUALIFIED + rb"\s*\(", re.IGNORECASE)
_NOT_COLUMNS = {"PRIMARY", "KEY", "UNIQUE", "CONSTRAINT", "INDEX", "FOREIGN", "CHECK",
                "FULLTEXT", "SPATIAL", "EXCLUDE", "LIKE", "PERIOD"}
_SKIP_SPACE = re.compile(rb"(?:\s+|--[^\n]*(?:\n|\Z)|#[^\n]*(?:\n|\Z)|/\*(?!!)(?:.|\n)*?\*/)*")

# One value of a tuple: quoted (maybe with a charset introducer or an x/b/n/E prefix),
# double-quoted, or a bare token (number, NULL, 0x…, TRUE).
_QUOTED_BS = rb"'(?:[^'\\]|\\.|'')*'"
_QUOTED_STD = rb"'(?:[^']|'')*'"
_DOUBLE = rb'"(?:[^"\\]|\\.|"")*"'
_BARE = rb"""[^,()'"\s]+"""
_PREFIX = rb"(?:_[A-Za-z0-9]+\s*|[xXbBnNeE])?"


def _value_pattern(backslash: bool) -> re.Pattern[bytes]:
    quoted = _QUOTED_BS if backslash else _QUOTED_STD
    return re.compile(rb"\s*(" + _PREFIX + quoted + rb"|" + _DOUBLE + rb"|" + _BARE
                      + rb")\s*([,)])", re.DOTALL)


def _canonical_tuple(backslash: bool) -> re.Pattern[bytes]:
    quoted = _QUOTED_BS if backslash else _QUOTED_STD
    value = rb"(?:" + quoted + rb"|[^,()'\"\s]+)"
    return re.compile(rb"\((?:" + value + rb",)*" + value + rb"\)(?:,\(|\Z)", re.DOTALL)


# Every quote of a canonical value list opens a value (after a comma or a newline), closes
# one (before a comma or a newline), or is doubled inside one.
# A quote beside another is half of a doubled quote; searched from index 1, so that the
# opening quote of the first value is not taken for a stray one. (Written to start with
# the quote: Python's re then skips ahead by literal search.) _not_canonical does the same
# with numpy; the tests compare the two.
_STRAY_QUOTE = re.compile(rb"'(?<![,\n']')(?=[^,\n'])")
# Another statement on the same line as an INSERT: rare, so looked for only then.
_NEXT_STATEMENT = re.compile(rb"\)\s*;\s*(?:INSERT|REPLACE|CREATE|DROP|COPY|SET|LOCK|UNLOCK|"
                             rb"ALTER|DELETE|UPDATE|COMMIT|BEGIN|--|/\*|#)", re.IGNORECASE)

#: NULL as the exact tokenizer takes it (any case) but for "NULL", which the fast path maps.
_OTHER_NULLS = [n for n in map("".join, itertools.product("Nn", "Uu", "Ll", "Ll")) if n != "NULL"]
_MYSQL_ESCAPES = {"0": "\x00", "b": "\b", "n": "\n", "r": "\r", "t": "\t", "Z": "\x1a"}
_COPY_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


def _unescape(text: str, table: dict[str, str], keep: str = "") -> str:
    if "\\" not in text:
        return text
    return _ESCAPE.sub(lambda m: ("\\" + m.group(1)) if m.group(1) in keep
                       else table.get(m.group(1), m.group(1)), text)


def _suspects(chars: bytes) -> np.ndarray:
    table = np.zeros(256, dtype=bool)
    table[list(chars)] = True
    return table


#: Bytes that the fast path must not meet outside quotes, where the exact tokenizer reads
#: them otherwise (spaces around a value, an expression, a double-quoted string) or keeps
#: them (a backslash in a bare token, which the fast path would decode, or the placeholder
#: that stands for two); by ``backslash``. All but the backslash are below "*" (42).
_SUSPECTS = {False: _suspects(b' \t\r\x0b\x0c()"'),
             True: _suspects(b' \t\r\x0b\x0c()"' + _PLACEHOLDER_BYTES[:1])}
_BESIDE_QUOTE = _suspects(b",\n'")


def _not_canonical(text: bytes, backslash: bool) -> bool:
    """Whether a prepared value list holds what the fast path would read otherwise than
    the exact tokenizer: a stray quote (``_STRAY_QUOTE``: one that neither opens, closes
    nor doubles, as in ``_binary '…'`` or ``x'…'``), or one of ``_SUSPECTS`` (or, with
    ``backslash``, a backslash) outside quotes.

    Once no quote is stray, every quote opens, closes or doubles (doubled ones count
    twice), so a byte is outside quotes when an even number of quotes precede it.
    """
    array = np.frombuffer(text, dtype=np.uint8)
    low = np.flatnonzero(array < 42)  # quotes, spaces, controls, parentheses, '"'
    kinds = array[low]
    quotes = low[kinds == ord("'")]
    inner = quotes[(quotes >= 1) & (quotes < len(array) - 1)]
    if (~_BESIDE_QUOTE[array[inner - 1]] & ~_BESIDE_QUOTE[array[inner + 1]]).any():
        return True
    found = low[_SUSPECTS[backslash][kinds]]
    if backslash:
        found = np.concatenate([found, np.flatnonzero(array == ord("\\"))])
    return bool(len(found) and (np.searchsorted(quotes, found) % 2 == 0).any())


def _unquote_name(raw: bytes) -> str:
    parts = re.findall(_NAME, raw)
    names = []
    for part in parts:
        text = part.decode("utf-8", "replace")
        if text[:1] in "`\"[":
            text = text[1:-1].replace("``", "`").replace('""', '"')
        names.append(text)
    return ".".join(names)


def _column_list(raw: bytes | None) -> list[str] | None:
    if raw is None or not raw.strip():
        return None
    return [_unquote_name(item.strip()) for item in raw.split(b",")]


def _split_top_level(body: str) -> list[str]:
    """Comma-separated items of a CREATE TABLE body, outside parentheses and quotes."""
    items, depth, start, quote = [], 0, 0, ""
    for index, char in enumerate(body):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"`":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            items.append(body[start:index])
            start = index + 1
    items.append(body[start:])
    return items


def create_table_columns(statement: bytes, body_start: int) -> list[str]:
    body = statement[body_start:].decode("utf-8", "replace")
    body = body[: body.rfind(")")] if ")" in body else body
    columns = []
    for item in _split_top_level(body):
        item = item.strip()
        if not item:
            continue
        match = re.match(rb"\s*" + _NAME, item.encode())
        if match is None:
            continue
        name = match.group(0).strip()
        if name.decode().upper() in _NOT_COLUMNS:
            continue
        columns.append(_unquote_name(name))
    return columns


@dataclass
class _Event:
    """Something the scanner found for one table: rows, or a counted problem."""

    table: str
    frame: pl.DataFrame | None = None
    note: Callable[[RowAccounting], None] | None = None
    #: Work left for the consumer's thread: the events it turns into.
    deferred: Callable[[], list[_Event]] | None = None


@dataclass
class _NativeRun:
    """Value lists of one table, already turned into CSV by the native kernel.

    ``raw`` keeps where the statements' value lists are in the scanner's buffers (rows of
    start and stop indexes, no copy) so that, should what polars parses not match what the
    kernel counted, the exact tokenizer re-reads them.
    """

    table: str
    columns: list[str] | None
    header: list[str]
    line: int
    offset: int
    #: The CSV: runs are flushed past RUN_BYTES of it; the rest is room for the statement
    #: being read (a longer one is cut between tuples when this is full).
    out: np.ndarray
    used: int = 0
    tuples: int = 0
    bad: int = 0
    raw: list[tuple[bytes, np.ndarray]] = field(default_factory=list)
    col_bytes: np.ndarray = field(init=False)
    col_nulls: np.ndarray = field(init=False)
    #: The kernel's last per-column counts (value bytes, then nulls), added by ``add``.
    stats: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.col_bytes = np.zeros(len(self.header), dtype=np.int64)
        self.col_nulls = np.zeros(len(self.header), dtype=np.int64)

    def add(self, buffer: bytes, spans: np.ndarray, used: int, tuples: int, bad: int) -> None:
        width = len(self.header)
        self.raw.append((buffer, spans))
        self.used = used
        self.tuples += tuples
        self.bad += bad
        self.col_bytes += self.stats[:width]
        self.col_nulls += self.stats[width:2 * width]


@dataclass
class _Run:
    """Value lists of one table waiting to be parsed together."""

    table: str
    columns: list[str] | None
    bodies: list[bytes] = field(default_factory=list)
    size: int = 0
    line: int = 0
    offset: int = 0
    #: In the form dump tools write: worth a try on the fast path.
    canonical: bool = True


class SqlDump:
    """One pass over a dump: statements in, per-table events out, in dump order."""

    def __init__(self, member: Member, info: SourceInfo, head: bytes) -> None:
        self.member = member
        self.info = info
        # PostgreSQL strings are standard: a backslash is a plain character in '…'.
        self.backslash = not (b"standard_conforming_strings = on" in head
                              or b"PostgreSQL database dump" in head)
        self._value = _value_pattern(self.backslash)
        self.canonical = _canonical_tuple(self.backslash)
        self.created: dict[str, list[str]] = {}
        #: Each table's position, from 1, in the order the dump first names it.
        self._positions: dict[str, int] = {}
        self.current: Source | None = None
        self.last_table = "(unknown table)"
        self._native: bool | None = None  # the kernel's tokenizer, known at the first INSERT
        self._stats = np.zeros(0, dtype=np.int64)
        self._ends = np.zeros(4096, dtype=np.int64)  # statements read in one kernel call
        #: CSV buffers of parsed native runs, reused: a fresh one costs its page faults.
        self._spare: list[np.ndarray] = []

    def native_run(self, table: str, columns: list[str] | None, header: list[str], line: int,
                   offset: int) -> _NativeRun:
        size = 2 * RUN_BYTES + 65536
        while self._spare:
            out = self._spare.pop()  # atomic: the consumer's thread returns them
            if len(out) == size:
                break
        else:
            out = np.empty(size, dtype=np.uint8)
        return _NativeRun(table, columns, header, line, offset, out)

    def native_header(self, table: str, columns: list[str] | None) -> list[str] | None:
        """The columns of an INSERT the native kernel can read, or None for the other paths."""
        if self._native is None:
            self._native = native.mysql_values_available()
        header = columns or self.created.get(table)
        if not self._native or not header:
            return None
        names = column_names(header, len(header))
        return names if len(set(names)) == len(names) else None

    def native_values(self, buffer: bytes, start: int, prefix: bytes, run: _NativeRun,
                      ) -> tuple[int, int, int, int, int, int, np.ndarray]:
        """The kernel over ``buffer[start:]``: (status, stop, next, used, tuples, bad, and
        the value lists of the statements it ended as rows of (start, stop) indexes)."""
        width = len(run.header)
        if len(self._stats) < 6 * width:
            self._stats = np.zeros(6 * width, dtype=np.int64)
        status, stop, following, used, tuples, bad, statements = native.mysql_values(
            buffer, start, width, self.backslash, prefix, run.out, run.used, RUN_BYTES,
            self._stats, self._ends)
        spans = np.empty((statements, 2), dtype=np.int64)
        if statements:
            ends = self._ends[:statements]
            # The next statement's tuples start after ";\n" (or ";\r\n") and the prefix.
            crlf = np.frombuffer(buffer, dtype=np.uint8)[ends[:-1] + 1] == ord("\r")
            spans[0, 0] = start
            spans[1:, 0] = ends[:-1] + 2 + crlf + len(prefix)
            spans[:, 1] = ends
        run.stats = self._stats[:2 * width]
        return status, stop, following, used, tuples, bad, spans

    # -- reading ------------------------------------------------------------------

    def _report(self, consumed: int) -> None:
        if self.current is not None:
            self.current._progress(consumed)

    def events(self) -> Iterator[_Event]:
        with self.member.open(self._report) as stream:
            # Scanning and parsing run one step ahead of the consumer, on a second core.
            yield from prefetch(_Scanner(self, stream).events())

    # -- per-table sources ----------------------------------------------------------

    def sources(self) -> Iterator[Source]:
        events = self.events()
        pending = next(events, None)
        seen: set[str] = set()
        while pending is not None:
            source = SqlTableSource(self, pending, events)
            seen.add(pending.table)
            self.current = source
            yield source
            pending = source.finish()
        for table in self.created:
            if table not in seen:
                yield SqlTableSource(self, _Event(table), iter(()))

    def table_info(self, table: str) -> SourceInfo:
        info = copy.copy(self.info)
        position = self._positions.setdefault(table, len(self._positions) + 1)
        info.table = withhold_identifiers(table, position)  # type: ignore[attr-defined]
        info.name = f"{self.info.name}#{info.table}"  # type: ignore[attr-defined]
        return info

    # -- parsing value lists ----------------------------------------------------------

    def parse_run(self, run: _Run) -> Iterator[_Event]:
        """Events for one run. The byte work is done here, on the scanning thread; the
        polars parse is deferred to the consumer's thread, so that the two overlap."""
        columns = run.columns or self.created.get(run.table)
        prepared = self._prepare_fast(run, columns) if columns and run.canonical else None
        if prepared is None:
            yield from self._exact_values(run, columns)
            return
        yield _Event(run.table, deferred=lambda: self._finish_fast(run, columns, *prepared))

    def _prepare_fast(self, run: _Run, columns: list[str]) -> tuple[bytes, int] | None:
        """The value lists as CSV text and their tuple count, or None for the exact path."""
        text = b"\n".join(body[1:-1] for body in run.bodies)
        if _PLACEHOLDER_BYTES in text or b"'NULL'" in text or text.startswith(codecs.BOM_UTF8):
            return None  # (polars would drop a leading byte-order mark)
        tuples = text.count(b"),(") + len(run.bodies)
        if self.backslash:
            if b"\\\\" in text:
                text = text.replace(b"\\\\", _PLACEHOLDER_BYTES)
            text = text.replace(b"\\'", b"''")
        text = text.replace(b"),(", b"\n")
        if _not_canonical(text, self.backslash):
            return None  # _binary '…', x'…', spaces or expressions: the exact path
        return text, tuples

    def _finish_fast(self, run: _Run, columns: list[str], text: bytes,
                     tuples: int) -> list[_Event]:
        event = self._fast_values(run, columns, text, tuples)
        return [event] if event is not None else list(self._exact_values(run, columns))

    def _fast_values(self, run: _Run, columns: list[str], text: bytes,
                     tuples: int) -> _Event | None:
        width = len(columns)
        names = column_names(columns, width)
        undecodable = False
        try:
            frame = self._read_csv(text, names, ",", "'")
        except pl.exceptions.ComputeError:
            try:
                frame = self._read_csv(text, names, ",", "'", lossy=True)
                undecodable = True
            except Exception:  # noqa: BLE001 - the exact path decides
                return None
        except Exception:  # noqa: BLE001 - more fields than columns, or worse: exact path
            return None
        if frame.height != tuples:
            return None
        inside = frame.select(pl.sum_horizontal(
            pl.col(c).str.count_matches(",", literal=True).sum() for c in names)).item()
        if count_byte(text, ord(",")) - int(inside or 0) != frame.height * (width - 1):
            return None
        if frame.select(pl.any_horizontal(pl.col(c).is_in(_OTHER_NULLS).any()
                                          for c in names)).item():
            return None  # a null in lower case, or the same text quoted: the exact path tells
        frame = frame.select(self._decode_mysql(pl.col(c)).alias(c) for c in names)
        # The exact path counts rows holding U+FFFD, decoded from bad bytes or written so.
        undecodable = undecodable or b"\xef\xbf\xbd" in text
        return _Event(run.table, frame, self._note_parsed(frame, undecodable, run))

    def finish_native(self, run: _NativeRun) -> list[_Event]:
        """Parse a native run's CSV (on the consumer's thread) and check it against what
        the kernel counted: rows, and per column nulls and value bytes."""
        text = run.out[:run.used].tobytes()
        if len(self._spare) < 2:
            self._spare.append(run.out)
        try:
            frame = pl.read_csv(text, has_header=False, separator=",", quote_char='"',
                                schema=dict.fromkeys(run.header, pl.String), raise_if_empty=False)
        except Exception:  # noqa: BLE001 - the exact path decides
            frame = None
        if frame is not None and frame.height == run.tuples and frame.width == len(run.header):
            nulls = frame.null_count().row(0)
            sizes = frame.select(pl.col(c).str.len_bytes().sum() for c in run.header).row(0)
            if (list(nulls) == run.col_nulls.tolist()
                    and [int(v or 0) for v in sizes] == run.col_bytes.tolist()):
                return [_Event(run.table, frame, self._note_native(frame, run))]
        bodies = [buffer[start:stop] for buffer, spans in run.raw for start, stop in spans.tolist()]
        exact = _Run(run.table, run.columns, bodies, run.used, run.line, run.offset)
        return list(self._exact_values(exact, run.columns or self.created.get(run.table)))

    @staticmethod
    def _note_native(frame: pl.DataFrame, run: _NativeRun) -> Callable[[RowAccounting], None]:
        def note(accounting: RowAccounting) -> None:
            accounting.add_parsed(frame.height)
            accounting.repair("undecodable_bytes", run.bad, line=run.line, offset=run.offset)

        return note

    @staticmethod
    def _read_csv(text: bytes, names: list[str], separator: str, quote: str | None,
                  lossy: bool = False) -> pl.DataFrame:
        return pl.read_csv(text, has_header=False, separator=separator, quote_char=quote,
                           schema=dict.fromkeys(names, pl.String), empty_string_is_null=False,
                           raise_if_empty=False, encoding="utf8-lossy" if lossy else "utf8")

    def _decode_mysql(self, column: pl.Expr) -> pl.Expr:
        column = pl.when(column == "NULL").then(None).otherwise(column)
        if not self.backslash:
            return column
        decoded = column
        for escape, char in _MYSQL_ESCAPES.items():
            decoded = decoded.str.replace_all("\\" + escape, char, literal=True)
        decoded = decoded.str.replace_all(r"\\([^%_])", "${1}")
        decoded = decoded.str.replace_all(_PLACEHOLDER, "\\", literal=True)
        return pl.when(column.str.contains(r"[\\\x1a]")).then(decoded).otherwise(column)

    @staticmethod
    def _note_parsed(frame: pl.DataFrame, undecodable: bool,
                     run: _Run) -> Callable[[RowAccounting], None]:
        bad = 0
        if undecodable:
            bad = int(frame.select(pl.any_horizontal(
                pl.col(c).str.contains("\ufffd", literal=True) for c in frame.columns
            ).sum()).item() or 0)

        def note(accounting: RowAccounting) -> None:
            accounting.add_parsed(frame.height)
            accounting.repair("undecodable_bytes", bad, line=run.line, offset=run.offset)

        return note

    def _exact_values(self, run: _Run, columns: list[str] | None) -> Iterator[_Event]:
        """Tuple by tuple, with a tokenizer that knows every quoting rule."""
        rows: list[list[str | None]] = []
        rejected = 0
        for body in run.bodies:
            rejected += self._tokenize(body, rows)
        width = len(columns) if columns else max((len(r) for r in rows), default=0)
        names = column_names(columns, width) if columns else [f"col_{j + 1}"
                                                             for j in range(width)]
        short = sum(1 for r in rows if len(r) < width)
        long = sum(1 for r in rows if len(r) > width)
        data: dict[str, list[str | None]] = {n: [] for n in names}
        extra: list[str | None] = []
        for row in rows:
            for j, name in enumerate(names):
                data[name].append(row[j] if j < len(row) else None)
            extra.append(",".join(v or "" for v in row[width:]) if len(row) > width else None)
        if long:
            data[EXTRA_COLUMN] = extra
        frame = pl.DataFrame(data, schema=dict.fromkeys(data, pl.String))
        bad = int(frame.select(pl.any_horizontal(
            pl.col(c).str.contains("\ufffd", literal=True) for c in frame.columns
        ).sum()).item() or 0) if frame.width and frame.height else 0

        def note(accounting: RowAccounting) -> None:
            accounting.add_parsed(frame.height)
            accounting.repair("too_few_fields", short, line=run.line, offset=run.offset)
            accounting.repair("too_many_fields", long, line=run.line, offset=run.offset)
            accounting.repair("undecodable_bytes", bad, line=run.line, offset=run.offset)
            if rejected:
                accounting.reject("invalid_tuple", rejected, line=run.line, offset=run.offset)

        yield _Event(run.table, frame if frame.height else None, note)

    def _tokenize(self, body: bytes, rows: list[list[str | None]]) -> int:
        """Append the tuples of one value list to ``rows``; return how many were rejected."""
        position, end, rejected = 0, len(body), 0
        value = self._value
        while position < end:
            while position < end and body[position] in b" \t\r\n,":
                position += 1
            if position >= end:
                break
            if body[position] != 0x28:  # "("
                rejected += 1
                break
            position += 1
            row: list[str | None] = []
            while True:
                match = value.match(body, position)
                if match is None:
                    rejected += 1
                    resume = body.find(b"),", position)
                    position = end if resume < 0 else resume + 2
                    row = []
                    break
                row.append(self._decode_token(match.group(1)))
                position = match.end()
                if match.group(2) == b")":
                    break
            if row:
                rows.append(row)
        return rejected

    def _decode_token(self, token: bytes) -> str | None:
        text = token.decode("utf-8", "replace")
        quote = text.find("'")
        if text[:1] == '"':
            return _unescape(text[1:-1].replace('""', '"'), _MYSQL_ESCAPES, "%_")
        if quote < 0:
            return None if text.upper() == "NULL" else text
        inner = text[quote + 1:-1].replace("''", "'")
        prefix = text[:quote].strip().lower()
        if self.backslash or prefix == "e":
            inner = _unescape(inner, _MYSQL_ESCAPES, "%_" if self.backslash else "")
        return inner

    # -- COPY blocks --------------------------------------------------------------------

    def parse_copy(self, table: str, columns: list[str] | None, block: bytes, line: int,
                   offset: int) -> _Event:
        columns = columns or self.created.get(table)
        width = len(columns) if columns else block[: block.find(b"\n")].count(b"\t") + 1
        names = column_names(columns, width) if columns else [f"col_{j + 1}"
                                                             for j in range(width)]
        frame = None
        undecodable = False
        if _PLACEHOLDER_BYTES not in block:
            for lossy in (False, True):
                try:
                    frame = self._read_csv(block, names, "\t", None, lossy=lossy)
                    undecodable = lossy
                    break
                except pl.exceptions.ComputeError:
                    continue
                except Exception:  # noqa: BLE001 - ragged: the exact path below
                    break
        if frame is not None and (frame.height != count_byte(block, 10) or
                                  count_byte(block, 9) != frame.height * (width - 1)):
            frame = None
        run = _Run(table, columns, line=line, offset=offset)
        if frame is not None:
            frame = frame.select(self._decode_copy(pl.col(c)).alias(c) for c in names)
            return _Event(table, frame, self._note_parsed(frame, undecodable, run))
        rows = [[None if cell == "\\N" else _unescape(cell, _COPY_ESCAPES)
                 for cell in raw.split("\t")]
                for raw in block.decode("utf-8", "replace").split("\n") if raw]
        short = sum(1 for r in rows if len(r) < width)
        long = sum(1 for r in rows if len(r) > width)
        data: dict[str, list[str | None]] = {
            n: [r[j] if j < len(r) else None for r in rows] for j, n in enumerate(names)}
        if long:
            data[EXTRA_COLUMN] = ["\t".join(v or "" for v in r[width:]) if len(r) > width
                                  else None for r in rows]
        frame = pl.DataFrame(data, schema=dict.fromkeys(data, pl.String))

        def note(accounting: RowAccounting) -> None:
            accounting.add_parsed(frame.height)
            accounting.repair("too_few_fields", short, line=line, offset=offset)
            accounting.repair("too_many_fields", long, line=line, offset=offset)

        return _Event(table, frame, note)

    @staticmethod
    def _decode_copy(column: pl.Expr) -> pl.Expr:
        decoded = column.str.replace_all("\\\\", _PLACEHOLDER, literal=True)
        for escape, char in _COPY_ESCAPES.items():
            decoded = decoded.str.replace_all("\\" + escape, char, literal=True)
        decoded = decoded.str.replace_all(r"\\(.)", "${1}")
        decoded = decoded.str.replace_all(_PLACEHOLDER, "\\", literal=True)
        return (pl.when(column == "\\N").then(None)
                .when(column.str.contains("\\", literal=True)).then(decoded)
                .otherwise(column))


class _Scanner:
    """Cuts the byte stream into statements, keeping quote state across blocks."""

    def __init__(self, dump: SqlDump, stream: Any) -> None:
        self.dump = dump
        self.stream = stream
        self.buffer = b""
        self.position = 0  # index in buffer of the next unread byte
        self.base = 0  # stream offset of buffer[0]
        self._line_index = 0  # line numbers are counted incrementally from here
        self._line_number = 1
        self.eof = False
        self._final_semicolon = -1  # a last statement ending the file without a newline
        self._crlf = False  # the buffer has held Windows line ends
        self.run: _Run | _NativeRun | None = None

    # -- buffer ------------------------------------------------------------------------

    def _fill(self) -> bool:
        """Read one more block, dropping what was consumed; False at end of stream.

        Indices into the buffer shift by the old ``position``: callers keep offsets
        relative to ``position`` across a fill.
        """
        if self.eof:
            return False
        block = self.stream.read(BLOCK_BYTES)
        if not block:
            self.eof = True
            tail = len(self.buffer.rstrip())
            self._final_semicolon = tail - 1 if self.buffer[tail - 1:tail] == b";" else -1
            return False
        self._line_at(self.position)
        self._line_index -= self.position
        self.base += self.position
        # Once true, _crlf stays so: it only widens the search for a statement's end.
        self._crlf = self._crlf or (b"\r" in block and (
            b"\r\n" in block or self.buffer[-1:] == b"\r" and block[:1] == b"\n"))
        self.buffer = self.buffer[self.position:] + block
        self.position = 0
        return True

    def _line_at(self, index: int) -> int:
        if index < self._line_index:
            return self._line_number - self._newlines(index, self._line_index)
        self._line_number += self._newlines(self._line_index, index)
        self._line_index = index
        return self._line_number

    def _newlines(self, start: int, stop: int) -> int:
        if stop - start < 65536:
            return self.buffer.count(b"\n", start, stop)
        return count_byte(memoryview(self.buffer)[start:stop], ord("\n"))  # numpy: ~5x faster

    def _where(self, index: int) -> tuple[int, int]:
        return self._line_at(index), self.base + index

    # -- statements ------------------------------------------------------------------------

    def events(self) -> Iterator[_Event]:
        self._fill()
        while True:
            match = _SKIP_SPACE.match(self.buffer, self.position)
            self.position = match.end() if match else self.position
            if self.position >= len(self.buffer) - 4096 and not self.eof:
                self._fill()
                continue
            if self.position >= len(self.buffer):
                break
            window = self.buffer[self.position:self.position + 4096]
            if window[:1] in (b"I", b"i", b"R", b"r") and (found := _INSERT.match(window)):
                yield from self._insert(found)
            elif window[:1] in (b"C", b"c") and (found := _COPY.match(window)):
                yield from self._flush()
                yield from self._copy(found)
            else:
                yield from self._flush()
                yield from self._other_statement()
        yield from self._flush()

    def _flush(self) -> Iterator[_Event]:
        run, self.run = self.run, None
        if isinstance(run, _NativeRun):
            if run.tuples:
                yield _Event(run.table, deferred=lambda: self.dump.finish_native(run))
        elif run is not None and run.bodies:
            yield from self.dump.parse_run(run)

    def _statement_end(self, start: int, at_line_end: bool = False) -> int:
        """Index of the ``;`` ending the statement that starts at ``start``, or -1.

        ``at_line_end`` considers only a ``;`` that ends a line: dump tools end every
        INSERT so, and a value list may hold thousands of ``;`` inside strings.
        """
        inside = False
        checked = start
        while True:
            semicolon = (self._line_end_semicolon(checked) if at_line_end
                         else self.buffer.find(b";", checked))
            if semicolon < 0:
                return -1
            inside ^= self._odd_quotes(checked, semicolon)
            if not inside:
                return semicolon
            checked = semicolon + 1

    def _line_end_semicolon(self, start: int) -> int:
        newline = self.buffer.find(b";\n", start)
        found = [newline] if newline >= 0 else []
        if self._crlf:
            # Bounded by the first ";\n": unbounded, it would rescan the buffer per statement.
            crlf = self.buffer.find(b";\r\n", start, newline if newline >= 0 else len(self.buffer))
            found += [crlf] if crlf >= 0 else []
        if self.eof and self._final_semicolon >= start:
            found.append(self._final_semicolon)
        return min(found) if found else -1

    def _odd_quotes(self, start: int, stop: int) -> bool:
        quotes = self.buffer.count(b"'", start, stop)
        if not self.dump.backslash:
            return bool(quotes & 1)
        if self.buffer.find(b"\\\\", start, stop) < 0:
            # Without escaped backslashes, every backslash-quote is an escaped quote.
            return bool((quotes - self.buffer.count(b"\\'", start, stop)) & 1)
        segment = self.buffer[start:stop].replace(b"\\\\", b"").replace(b"\\'", b"")
        return bool(segment.count(b"'") & 1)

    def _skipped(self, reason: str, start: int) -> _Event:
        line, offset = self._where(start)
        return _Event(self.dump.last_table, None, lambda accounting: accounting.reject(
            reason, line=line, offset=offset))

    def _discard_statement(self, start: int) -> None:
        """Skip a statement too long to hold, keeping quote state block by block."""
        inside = False
        while True:
            semicolon = self.buffer.find(b";", start)
            while semicolon >= 0:
                inside ^= self._odd_quotes(start, semicolon)
                start = semicolon + 1
                if not inside:
                    self.position = start
                    return
                semicolon = self.buffer.find(b";", start)
            inside ^= self._odd_quotes(start, len(self.buffer))
            self.position = len(self.buffer)
            if not self._fill():
                return
            start = 0

    def _other_statement(self) -> Iterator[_Event]:
        while (end := self._statement_end(self.position)) < 0:
            if len(self.buffer) - self.position > MAX_STATEMENT_BYTES or not self._fill():
                yield self._skipped("statement_too_long" if not self.eof
                                    else "unterminated_statement", self.position)
                self._discard_statement(self.position)
                return
        statement = self.buffer[self.position:end]
        created = _CREATE.match(statement)
        if created:
            table = _unquote_name(created.group(1))
            self.dump.created[table] = create_table_columns(statement, created.end())
        self.position = end + 1

    def _insert(self, found: re.Match[bytes]) -> Iterator[_Event]:
        table = _unquote_name(found.group(1))
        columns = _column_list(found.group(2))
        self.dump.last_table = table
        if self.run is not None and (self.run.table != table or self.run.columns != columns):
            yield from self._flush()
        line, offset = self._where(self.position)
        self.position += found.end()
        header = self.dump.native_header(table, columns)
        if header is not None:
            rest = yield from self._native_insert(table, columns, header, found.group(0), line,
                                                  offset)
            if rest is None:
                return
            line, offset = rest
        while True:
            end = self._statement_end(self.position, at_line_end=True)
            if end >= 0:
                close = self.buffer.find(b");", self.position, end)
                if close >= 0 and _NEXT_STATEMENT.search(self.buffer, close, end):
                    end = self._statement_end(self.position)
                body = self.buffer[self.position:end].rstrip()
                self.position = end + 1
                yield from self._add_body(table, columns, body, line, offset)
                return
            if len(self.buffer) - self.position > RUN_BYTES:
                # A huge statement: parse the tuples read so far, keep the rest.
                cut = self._tuple_cut(self.position)
                if cut > self.position:
                    body = self.buffer[self.position:cut]
                    self.position = cut + 1  # past the comma between tuples
                    yield from self._add_body(table, columns, body, line, offset)
                    yield from self._flush()
                    line, offset = self._where(self.position)
                elif len(self.buffer) - self.position > MAX_STATEMENT_BYTES:
                    yield self._skipped("record_too_long", self.position)
                    self._discard_statement(self.position)
                    return
            if not self._fill():
                body = self.buffer[self.position:].rstrip()
                self.position = len(self.buffer)
                yield from self._add_body(table, columns, body, line, offset)
                yield from self._flush()
                yield _Event(table, None, lambda a, ln=line, off=offset: a.note_region(
                    "unterminated_statement", line=ln, offset=off, kept=True))
                return

    def _native_insert(self, table: str, columns: list[str] | None, header: list[str],
                       prefix: bytes, line: int, offset: int) -> Iterator[_Event]:
        """Read one INSERT's value lists with the native kernel, straight into a native run,
        and those of the INSERTs right after it that start with the same ``prefix``.

        Returns (as the generator's value) None when the statement is read, else the line
        and offset with which the exact path reads on from ``self.position``: the statement
        start, or the tuple after the last one read when a huge statement was cut.
        """
        cut = False
        while True:
            run = self.run
            if not isinstance(run, _NativeRun):
                yield from self._flush()
                run_line, run_offset = self._where(self.position) if cut else (line, offset)
                run = self.run = self.dump.native_run(table, columns, header, run_line,
                                                      run_offset)
            start = self.position
            status, stop, following, used, tuples, bad, spans = self.dump.native_values(
                self.buffer, start, prefix, run)
            if status == native.SQL_END:
                run.add(self.buffer, spans, used, tuples, bad)
                self.position = stop + 1
                if run.used >= RUN_BYTES:
                    yield from self._flush()
                return None
            huge = (status == native.SQL_MORE and not self.eof
                    and len(self.buffer) - start > RUN_BYTES)
            if status == native.SQL_FULL or huge:
                if tuples:
                    # Keep the tuples read, in a run of their own; go on after them.
                    run.add(self.buffer, np.array([[start, following]]), used, tuples, bad)
                    self.position = following
                    cut = True
                    yield from self._flush()
                    if huge and not self._fill():
                        break
                    continue
                if status == native.SQL_FULL and run.tuples:
                    yield from self._flush()
                    continue
            elif status == native.SQL_MORE and self._fill():
                continue  # the statement goes on in the next block: read it again, whole
            break  # not for the kernel, or the file ends inside the statement: exact path
        return self._where(self.position) if cut else (line, offset)

    def _tuple_cut(self, start: int) -> int:
        """Index just past the last complete tuple (outside quotes) after ``start``, or -1."""
        candidate = self.buffer.rfind(b"),", start)
        while candidate > start:
            if not self._odd_quotes(start, candidate):
                return candidate + 1
            candidate = self.buffer.rfind(b"),", start, candidate)
        return -1

    def _add_body(self, table: str, columns: list[str] | None, body: bytes, line: int,
                  offset: int) -> Iterator[_Event]:
        if not body:
            return
        if isinstance(self.run, _NativeRun):
            yield from self._flush()
        canonical = (body[:1] == b"(" and body[-1:] == b")"
                     and self.dump.canonical.match(body[:65536]) is not None)
        if not canonical:
            yield from self._flush()
            yield from self.dump.parse_run(_Run(table, columns, [body], len(body), line, offset,
                                                canonical=False))
            return
        if self.run is None:
            self.run = _Run(table, columns, line=line, offset=offset)
        self.run.bodies.append(body)
        self.run.size += len(body)
        if self.run.size >= RUN_BYTES:
            yield from self._flush()

    def _copy(self, found: re.Match[bytes]) -> Iterator[_Event]:
        table = _unquote_name(found.group(1))
        columns = _column_list(found.group(2))
        self.dump.last_table = table
        while (header_end := self.buffer.find(b"\n", self.position)) < 0:
            if not self._fill():
                self.position = len(self.buffer)
                return
        self.position = header_end + 1
        while True:
            start = self.position
            line, offset = self._where(start)
            if self.buffer.startswith(b"\\.\n", start) or (
                    self.eof and self.buffer[start:].rstrip() == b"\\."):
                self.position = start + 3
                return
            terminator = self.buffer.find(b"\n\\.\n", start)
            if terminator < 0 and self.eof and self.buffer.rstrip().endswith(b"\n\\."):
                terminator = self.buffer.rstrip().rfind(b"\n\\.")
            if terminator >= start:
                block = self.buffer[start:terminator + 1]
                self.position = terminator + 4
                yield self.dump.parse_copy(table, columns, block, line, offset)
                return
            last_line = self.buffer.rfind(b"\n", start)
            if len(self.buffer) - start > BLOCK_BYTES and last_line > start:
                block = self.buffer[start:last_line + 1]
                self.position = last_line + 1
                yield self.dump.parse_copy(table, columns, block, line, offset)
                continue
            if len(self.buffer) - start > MAX_STATEMENT_BYTES:
                yield self._skipped("record_too_long", start)
                self._skip_line(start)
                continue
            if not self._fill():
                block = self.buffer[self.position:]
                self.position = len(self.buffer)
                if block.strip():
                    yield self.dump.parse_copy(table, columns, block.rstrip(b"\n") + b"\n",
                                               line, offset)
                yield _Event(table, None, lambda a, ln=line, off=offset: a.note_region(
                    "unterminated_copy", line=ln, offset=off, kept=True))
                return

    def _skip_line(self, start: int) -> None:
        while (newline := self.buffer.find(b"\n", start)) < 0:
            self.position = len(self.buffer)
            if not self._fill():
                return
            start = 0
        self.position = newline + 1


class SqlTableSource(Source):
    """The rows of one table of a dump, fed by the dump's single pass."""

    def __init__(self, dump: SqlDump, first: _Event, events: Iterator[_Event]) -> None:
        super().__init__(dump.table_info(first.table))
        self._dump = dump
        self.table = first.table
        self._first: _Event | None = first
        self._events = events
        self._next: _Event | None = None
        self._finished = False

    def batches(self) -> Iterator[pl.DataFrame]:
        if self._finished:
            raise TriageError("a SQL table can be read only once, in dump order",
                              path=self.info.name)
        event = self._first
        self._first = None
        while event is not None and event.table == self.table:
            for done in event.deferred() if event.deferred else [event]:
                if done.note is not None:
                    done.note(self.accounting)
                if done.frame is not None and done.frame.height:
                    yield done.frame
            event = next(self._events, None)
        self._next = event
        self._finished = True

    def declared_columns(self) -> list[str]:
        created = self._dump.created.get(self.table)
        return column_names(created, len(created)) if created else []

    def finish(self) -> _Event | None:
        """Skip what the consumer did not read of this table; the next table's first event."""
        if not self._finished:
            for _ in self.batches():
                pass
        return self._next


def open_sql(member: Member, info: SourceInfo, head: bytes) -> Iterator[Source]:
    info.format = "sql"
    info.encoding = "utf-8"
    return SqlDump(member, info, head).sources()
