"""JSON: JSON Lines, and JSON documents; nested objects flattened to dotted names.

A file whose first line is a whole JSON value is JSON Lines: one object per line,
a bad line one rejection. A file that starts with ``[`` (an array of objects), or
whose first value spans lines (pretty-printed, or ``jq .`` output), is a *document*:
its top-level values, and the elements of its top-level arrays, are the records,
read one at a time (never the whole file at once); each is at most
:data:`MAX_VALUE_BYTES`, and a syntax error there is a one-line error, since no
next record can be found after it.

Object keys become column names, which every output prints, so:

* a key that looks like data (:func:`looks_like_data`: an email, a phone or any
  number, a long text) is never a name: its level of the object is a map, its
  values flattened under :data:`DATA_KEY` (``by_email.*.phone``), the row counted
  as repaired (``data_keys``);
* a source makes at most :data:`MAX_COLUMNS` columns; the values of any further
  name go to :data:`~triage.sources.base.EXTRA_COLUMN` (a JSON array of them, no
  keys), the row counted (``too_many_columns``);
* two keys that give one name (``{"a": 1, "a": 2}``, or ``"a.b"`` beside
  ``{"a": {"b": …}}``) keep both values, the later as ``a_2``, the row counted
  (``duplicate_key``);
* objects nested deeper than :data:`MAX_DEPTH` reject their record (``too_deep``).

JSON Lines chunks take polars' NDJSON reader when its rows are the exact path's
(see :func:`_fast_parse`), else Python's json, line by line.
"""

from __future__ import annotations

import codecs
import io
import itertools
import json
import re
from collections.abc import Callable, Iterator
from contextlib import closing
from typing import Any, BinaryIO, NoReturn

import numpy as np
import polars as pl

from triage.errors import TriageError
from triage.sources.base import EXTRA_COLUMN, RowAccounting, Source, SourceInfo
from triage.sources.prefetch import prefetch
from triage.sources.stream import Member

CHUNK_BYTES = 16 * 1024 * 1024
#: Columns one source may create. Every column costs profile and detection state,
#: and a frame holds rows × columns cells: keys that are data (user names, ids the
#: predicate misses) must not make one column each.
MAX_COLUMNS = 1000
#: Nesting of objects beyond which a record is rejected (``too_deep``): as deep as a
#: MongoDB document may go, far below what would exhaust a stack.
MAX_DEPTH = 100
#: Largest record of a JSON document: it is held whole to be parsed.
MAX_VALUE_BYTES = 64 * 1024 * 1024
#: Cells (rows × columns, objects included) of one frame: a chunk of short rows
#: under many sparse columns is cut into several frames rather than one of rows ×
#: all columns (polars took 700 MB for 8 Mi cells of nested objects).
MAX_FRAME_CELLS = 2 * 1024 * 1024
#: What a value inside an object costs polars, in values of a flat column: 8 to 15
#: times as much memory (measured with 16 to 256 fields per object).
_NESTED_WEIGHT = 8
#: Rows of one frame of the exact path, held as Python dicts until it is built.
MAX_FRAME_ROWS = 65_536
#: The name part that stands for an object key that looks like data.
DATA_KEY = "*"
#: Rows of each chunk parsed in Python to tell polars which columns to read.
SAMPLE_ROWS = 256
#: polars' parser recurses per nesting level and overflows its thread's stack (a
#: segmentation fault, not an error) from about 510 levels of objects, or 300 objects
#: among 720 lists: a line with this many ``{`` and ``[`` never reaches it.
FAST_MAX_OPENINGS = 256

_DATA_KEY = re.compile(
    r"\S@\S"                                  # an email address, user@host
    r"|(?:\d\D*){6}"                          # six digits: a phone, a national or record
                                              # id, a date, an IP address, a UUID, a hash
    r"|\A[\s.,:/+()-]*\d[\d\s.,:/+()-]*\Z"    # nothing but a number: a record id as key
    r"|.{65}",                                # a key this long is text, not a field name
    re.DOTALL)
#: Keys known not to look like data, so that regular objects pay a set lookup per
#: key; bounded, since keys that are names would otherwise fill it.
_PLAIN_KEYS_KEPT = 65_536


def looks_like_data(key: str) -> bool:
    """Whether an object key is a value (an email, a phone, a number), not a field name."""
    return _DATA_KEY.search(key) is not None


class _Renamed(dict):  # type: ignore[type-arg]
    """An object whose repeated keys were renamed ``key_2``, ``key_3`` (json keeps the last)."""


def _free_name(name: str, taken: dict[str, Any], reserved: tuple[str, ...] = ()) -> str:
    """``name``, or ``name_2``, ``name_3``… the first neither taken nor reserved."""
    candidate, number = name, 1
    while candidate in taken or candidate in reserved:
        number += 1
        candidate = f"{name}_{number}"
    return candidate


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    renamed = _Renamed()
    for key, value in pairs:
        renamed[_free_name(key, renamed)] = value
    return renamed


_DECODER = json.JSONDecoder(object_pairs_hook=_object)

# Row flags, each a repair reason.
_DATA_KEYS, _DUPLICATE, _OVERFLOW = 1, 2, 4
_REPAIRS = ((_DATA_KEYS, "data_keys"), (_DUPLICATE, "duplicate_key"),
            (_OVERFLOW, "too_many_columns"))


class _TooDeep(Exception):
    pass


class _Flattener:
    """Records to flat rows of text, within the source's :data:`MAX_COLUMNS`."""

    def __init__(self) -> None:
        #: Every name a frame of the source has held (or the fast path will give).
        self.columns: dict[str, None] = {}
        #: Paths of new plain columns (no data key, no renaming, a string, integer,
        #: boolean or null first value), for the fast path to read them next time.
        self.new_paths: list[tuple[str, ...]] = []
        self._plain: set[str] = set()

    def is_data(self, key: str) -> bool:
        """:func:`looks_like_data`, remembered for keys that are field names."""
        if key in self._plain:
            return False
        if looks_like_data(key):
            return True
        if len(self._plain) < _PLAIN_KEYS_KEPT:
            self._plain.add(key)
        return False

    def flatten(self, record: dict[str, Any]) -> tuple[dict[str, str | None], int]:
        """``{"a": {"b": 1}}`` -> ``{"a.b": "1"}``; lists are kept as JSON text.

        Iterative, so that depth is bounded by :data:`MAX_DEPTH`, not by the stack.
        Returns the row and its repair flags.
        """
        flat: dict[str, str | None] = {}
        extra: list[str] = []
        flags = _DUPLICATE if type(record) is _Renamed else 0
        columns = self.columns
        # (items left, name prefix, key path, whether the path may be learned)
        stack = [(iter(record.items()), "", (), not flags)]
        while stack:
            items, prefix, path, learnable = stack[-1]
            for key, value in items:
                # is_data's set lookup inline: this runs for every key of every row
                if key not in self._plain and self.is_data(key):
                    key = DATA_KEY
                    flags |= _DATA_KEYS
                name = prefix + key
                if isinstance(value, dict):
                    if len(path) + 1 == MAX_DEPTH:
                        raise _TooDeep
                    renamed = type(value) is _Renamed
                    if renamed:
                        flags |= _DUPLICATE
                    stack.append((iter(value.items()), name + ".", path + (key,),
                                  learnable and not renamed and key != DATA_KEY))
                    break
                plain = learnable and key != DATA_KEY
                if name in flat or name == EXTRA_COLUMN:
                    name = _free_name(name, flat, (EXTRA_COLUMN,))
                    plain = False
                    if DATA_KEY not in path and key != DATA_KEY:
                        # Entries of a map meeting is what a map is (counted as
                        # data_keys); two real keys meeting is a duplicate.
                        flags |= _DUPLICATE
                if value is None or type(value) is str:
                    text = value
                elif value is True or value is False:
                    text = "true" if value else "false"
                elif type(value) is int:
                    text = repr(value)
                else:
                    # floats (json's own text: 1e+20, Infinity) and lists
                    text = json.dumps(value, ensure_ascii=False)
                    plain = False
                if name not in columns:
                    if len(columns) >= MAX_COLUMNS:
                        if text is not None:
                            extra.append(text)
                        flags |= _OVERFLOW
                        continue
                    columns[name] = None
                    if plain:
                        self.new_paths.append(path + (key,))
                flat[name] = text
            else:
                stack.pop()
        if extra:
            flat[EXTRA_COLUMN] = json.dumps(extra, ensure_ascii=False)
        return flat, flags


class _Schema:
    """The columns polars is told to read: a tree of plain paths learned so far.

    Telling polars the columns bounds what it builds (inferring them, it made one
    column per distinct key of a chunk: 20,000 rows keyed by email took 13 GB), and
    reading by a given schema is twice as fast as inferring one. Every leaf is read
    as text: polars writes integers and booleans as json does.
    """

    def __init__(self) -> None:
        self.tree: dict[str, Any] = {}  # key -> None (a leaf) or a subtree
        self.names: set[str] = set()  # the leaves' flattened names
        #: polars' cells per row, leaves and objects, those inside an object weighing
        #: :data:`_NESTED_WEIGHT`: what bounds a piece's rows
        self.weight = 0
        self._polars: dict[str, pl.DataType] | None = None

    def learn(self, paths: list[tuple[str, ...]]) -> bool:
        """Add leaves; False (nothing added) where one conflicts with what is known."""
        fresh = [p for p in dict.fromkeys(paths) if ".".join(p) not in self.names]
        if not fresh:
            return True
        tree = _copy(self.tree)
        names = set(self.names)
        weight = self.weight
        for path in fresh:
            node = tree
            for key in path[:-1]:
                child = node.get(key, {})
                if child is None:
                    return False  # a leaf here already
                if key not in node:
                    node[key] = child
                    weight += _NESTED_WEIGHT if node is not tree else 1
                node = child
            name = ".".join(path)
            if path[-1] in node or name in names:
                return False  # an object here, or "a.b" beside {"a": {"b": …}}
            node[path[-1]] = None
            names.add(name)
            weight += _NESTED_WEIGHT if node is not tree else 1
        self.tree, self.names, self.weight, self._polars = tree, names, weight, None
        return True

    def polars(self) -> dict[str, pl.DataType]:
        if self._polars is None:
            self._polars = _dtypes(self.tree)
        return self._polars


def _copy(tree: dict[str, Any]) -> dict[str, Any]:
    return {k: None if v is None else _copy(v) for k, v in tree.items()}


def _dtypes(tree: dict[str, Any]) -> dict[str, pl.DataType]:
    return {k: pl.String() if v is None else pl.Struct(_dtypes(v)) for k, v in tree.items()}


def _plain_paths(record: Any, is_data: Callable[[str], bool]) -> list[tuple[str, ...]] | None:
    """The leaf paths of a sampled record, in its order, or None if polars must not read
    its chunk: a data key, a repeated key, a float or a list (texts polars writes
    otherwise), too deep, or a name that is the overflow column's."""
    if type(record) is not dict:
        return None
    paths: list[tuple[str, ...]] = []
    stack = [(iter(record.items()), ())]
    while stack:
        items, path = stack[-1]
        for key, value in items:
            if is_data(key):
                return None
            if type(value) is dict:
                if len(path) + 1 == MAX_DEPTH:
                    return None
                stack.append((iter(value.items()), path + (key,)))
                break
            if value is not None and not isinstance(value, (str, int)):
                return None
            paths.append(path + (key,))
        else:
            stack.pop()
    if any(".".join(p) == EXTRA_COLUMN for p in paths):
        return None
    return paths


class JsonLinesSource(Source):
    def __init__(self, member: Member, info: SourceInfo) -> None:
        super().__init__(info)
        self.member = member
        self._flattener = _Flattener()
        self._schema = _Schema()

    def batches(self) -> Iterator[pl.DataFrame]:
        # Reading and parsing run one frame ahead of the consumer, on a thread of
        # their own (decompression and polars' parser release the GIL).
        with self.member.open(self._progress) as stream:
            blocks = self._blocks(stream)
            first = next(blocks, b"")
            blocks = itertools.chain([first], blocks)
            frames = self._document(blocks) if _is_document(first) else self._lines(blocks)
            with closing(prefetch(frames)) as ahead:
                for frame in ahead:
                    if frame.height:
                        yield frame

    def _blocks(self, stream: BinaryIO) -> Iterator[bytes]:
        read = 0
        while True:
            try:
                block = stream.read(CHUNK_BYTES)
            except (OSError, EOFError):
                raise TriageError(f"compressed stream ends early or is corrupt, after {read:,} "
                                  "bytes of data", path=self.info.name) from None
            if not block:
                return
            read += len(block)
            yield block

    # -- JSON Lines -----------------------------------------------------------------

    def _lines(self, blocks: Iterator[bytes]) -> Iterator[pl.DataFrame]:
        for chunk, line in self._chunks(blocks):
            yield from self._parse(chunk, line)

    def _chunks(self, blocks: Iterator[bytes]) -> Iterator[tuple[bytes, int]]:
        """(chunk of whole lines, its first line number); a line over
        :data:`MAX_VALUE_BYTES` is rejected (``record_too_long``) and skipped unread."""
        pending = b""
        line = 1
        skipping = False
        for block in blocks:
            if skipping:
                cut = block.find(b"\n") + 1
                if not cut:
                    continue
                block, line, skipping = block[cut:], line + 1, False
            data = pending + block
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                pending = data
                if len(pending) > MAX_VALUE_BYTES:
                    self.accounting.reject("record_too_long", line=line)
                    pending, skipping = b"", True
                continue
            chunk, pending = data[:cut], data[cut:]
            yield chunk, line
            line += chunk.count(b"\n")
        if pending.strip() and not skipping:
            yield pending, line

    def _parse(self, chunk: bytes, first_line: int) -> Iterator[pl.DataFrame]:
        pieces = self._fast_pieces(chunk)
        if pieces is None:
            yield from self._exact_parse(chunk, first_line)
        else:
            schema = self._schema.polars()
            line, start = first_line, 0
            for piece in pieces:
                parsed = _fast_parse(piece, schema)
                if parsed is None:
                    # The schema misses something (a key past the sample): the rest of
                    # the chunk too, most likely, until it is learned below.
                    yield from self._exact_parse(chunk[start:], line)
                    break
                frame, rows = parsed
                self.accounting.add_parsed(rows)
                yield frame
                line += piece.count(b"\n")
                start += len(piece)
        # Teach the fast path the plain columns the exact path met, so that a key
        # first seen after the sample does not send every later chunk to Python.
        paths, self._flattener.new_paths = self._flattener.new_paths, []
        if paths and not self._schema.learn(paths):
            for path in paths:  # one of them conflicts: learn the others
                self._schema.learn([path])

    def _fast_pieces(self, chunk: bytes) -> list[bytes] | None:
        """The chunk cut for polars (each piece within :data:`MAX_FRAME_CELLS`), with
        the schema taught the columns of a sample of its rows; None: the exact path
        reads the whole chunk."""
        brackets = chunk.translate(_BRACKETS_ONLY, _NOT_BRACKETS)
        if b"{" * FAST_MAX_OPENINGS in brackets:
            return None
        paths: list[tuple[str, ...]] = []
        start = 0
        for _ in range(SAMPLE_ROWS):
            end = chunk.find(b"\n", start)
            raw = chunk[start:] if end < 0 else chunk[start:end]
            if raw.strip():
                try:
                    record = _DECODER.decode(raw.decode("utf-8-sig"))
                except (ValueError, RecursionError):
                    return None  # the exact path counts the line
                sampled = _plain_paths(record, self._flattener.is_data)
                if sampled is None:
                    return None
                paths.extend(sampled)
            if end < 0:
                break
            start = end + 1
        columns = self._flattener.columns
        new = [n for n in dict.fromkeys(".".join(p) for p in paths) if n not in columns]
        if len(columns) + len(new) > MAX_COLUMNS or not self._schema.learn(paths):
            return None
        columns.update(dict.fromkeys(new))
        rows = brackets.count(b"\n") + 1
        return _cut(chunk, -(-rows * max(self._schema.weight, 1) // MAX_FRAME_CELLS))

    def _exact_parse(self, chunk: bytes, first_line: int) -> Iterator[pl.DataFrame]:
        # Python's json is exact about numbers, and a bad line costs one rejection,
        # not the chunk.
        rows = _Rows(self)
        for index, raw in enumerate(chunk.split(b"\n")):
            if not raw.strip():
                continue
            line = first_line + index
            try:
                record = _DECODER.decode(raw.decode("utf-8-sig"))
            except RecursionError:
                self.accounting.reject("too_deep", line=line)
                continue
            except (UnicodeDecodeError, json.JSONDecodeError):
                self.accounting.reject("invalid_json", line=line)
                continue
            except ValueError:
                # int() refuses numbers of more than 4,300 digits
                self.accounting.reject("number_too_long", line=line)
                continue
            frame = rows.add(record, line)
            if frame is not None:
                yield frame
        yield rows.flush()

    # -- JSON documents -------------------------------------------------------------

    def _document(self, blocks: Iterator[bytes]) -> Iterator[pl.DataFrame]:
        rows = _Rows(self)
        for record, line in _Document(blocks, self.info.name, self.accounting).records():
            frame = rows.add(record, line)
            if frame is not None:
                yield frame
        yield rows.flush()


class _Rows:
    """Records of the exact path and of documents, flattened into frames."""

    def __init__(self, source: JsonLinesSource) -> None:
        self._source = source
        self._rows: list[dict[str, str | None]] = []
        self._repairs: dict[int, list[int]] = {}  # flag -> [rows, first line]

    def add(self, record: Any, line: int) -> pl.DataFrame | None:
        """Flatten one record (or count its rejection); a frame when one is full."""
        accounting = self._source.accounting
        if not isinstance(record, dict):
            accounting.reject("not_an_object", line=line)
            return None
        flattener = self._source._flattener
        try:
            row, flags = flattener.flatten(record)
        except (_TooDeep, RecursionError):  # json.dumps of a deep list recurses
            accounting.reject("too_deep", line=line)
            return None
        self._rows.append(row)
        if flags:
            for flag, _ in _REPAIRS:
                if flags & flag:
                    self._repairs.setdefault(flag, [0, line])[0] += 1
        width = len(flattener.columns) + 1
        if len(self._rows) >= min(MAX_FRAME_ROWS, max(1, MAX_FRAME_CELLS // width)):
            return self.flush()
        return None

    def flush(self) -> pl.DataFrame:
        rows, self._rows = self._rows, []
        accounting = self._source.accounting
        accounting.add_parsed(len(rows))
        for flag, reason in _REPAIRS:
            if flag in self._repairs:
                count, line = self._repairs[flag]
                accounting.repair(reason, count, line=line)
        self._repairs = {}
        if not rows:
            return pl.DataFrame()
        names = list(dict.fromkeys(name for row in rows for name in row))
        return pl.DataFrame({n: [row.get(n) for row in rows] for n in names},
                            schema=dict.fromkeys(names, pl.String))


def _cut(chunk: bytes, count: int) -> list[bytes]:
    """``chunk`` in about ``count`` pieces of whole lines."""
    if count <= 1:
        return [chunk]
    pieces = []
    start = 0
    step = len(chunk) // count
    while start < len(chunk):
        end = chunk.find(b"\n", start + step) + 1 or len(chunk)
        pieces.append(chunk[start:end])
        start = end
    return pieces


def _is_document(head: bytes) -> bool:
    """Whether a stream is a JSON document (array, pretty-printed) rather than JSON Lines."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"["):
        return True
    if not text.startswith(b"{"):
        return False
    if b"\n" not in text and len(head) >= CHUNK_BYTES:
        return True  # a first value longer than a block: not a line to reject whole
    first = text.split(b"\n", 1)[0]
    try:
        _DECODER.decode(first.decode("utf-8"))
        return False
    except (ValueError, RecursionError):
        pass
    if first.strip() == b"{":
        return True  # how json.dumps(indent=…), jq and JSON.stringify(…, 2) begin
    try:
        _, end = _DECODER.raw_decode(text.decode("utf-8", "replace"))
    except (ValueError, RecursionError):
        return False  # a bad first line of JSON Lines: one rejection
    return end > len(first)


# -- the fast path -----------------------------------------------------------------------

_BRACKETS_ONLY = bytes.maketrans(b"[", b"{")
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"{[\n")
_JSON_SPACE = np.zeros(256, dtype=bool)
_JSON_SPACE[[ord(" "), ord("\t"), ord("\r")]] = True


def _fast_parse(piece: bytes, schema: dict[str, pl.DataType]) -> tuple[pl.DataFrame, int] | None:
    """polars' NDJSON reader on whole lines, told the columns: (frame, rows), or None
    (take the exact path) unless its rows are exactly the exact path's.

    Every leaf of ``schema`` is text, which polars writes as json does for strings,
    integers, booleans and nulls, but not for floats (``1.0`` as ``1``, ``1e20`` as
    ``100000000000000000000``) nor, to the byte, for lists; a value of either kind
    anywhere in the piece, sampled or not, sends it to the exact path
    (:func:`_members`). polars keeps the first of repeated keys and skips keys not in
    ``schema``, without a word; both show as more object members in the bytes than
    values in the frame. A parse error (a bad line, a line that is not an object, an
    object where text was expected) also sends the piece to the exact path.
    """
    members = _members(piece)
    if members is None:
        return None
    try:
        frame = pl.read_ndjson(io.BytesIO(piece), schema=schema)
    except Exception:  # noqa: BLE001 - any doubt goes to the exact, line by line reader
        return None
    flat = _flat_strings(frame)
    if flat is None:
        return None
    columns, values = flat
    if members != values:
        return None
    return pl.DataFrame(columns), frame.height


def _flat_strings(frame: pl.DataFrame, prefix: str = "") -> tuple[list[pl.Series], int] | None:
    """Leaf columns under dotted names, and how many values (leaves and objects) are not null."""
    columns: list[pl.Series] = []
    values = 0
    for series in frame.iter_columns():
        name = f"{prefix}{series.name}"
        nulls = series.null_count()
        if isinstance(series.dtype, pl.Struct):
            if nulls == len(series):
                continue  # an object absent from every line, or null in every line
            if nulls:
                # An explicit null object is a column of its own in the exact path, a
                # missing key is nothing: polars does not tell them apart.
                return None
            inner = _flat_strings(series.struct.unnest(), f"{name}.")
            if inner is None:
                return None
            columns.extend(inner[0])
            values += len(series) + inner[1]
        else:
            columns.append(series.alias(name))
            values += len(series) - nulls
    return columns, values


#: What may follow a number's integer digits in a float: ``1.0``, ``1e20``, ``2E-3``.
_FLOAT_MARKS = (b".", b"e", b"E")
_DIGITS = re.compile(rb"[0-9]*")


def _members(piece: bytes) -> int | None:
    """Object members whose value is not null, counted in the bytes; None: unsure, or
    a value polars writes otherwise than the exact path (a float, a list).

    A member's colon follows its key's closing quote, maybe after a space; a quote
    after an odd run of backslashes is inside a string. A colon in a string follows
    a quote only where the string starts with one (``":)"``), which counts one member
    too many and so sends the piece to the exact path, never the other way. A value
    starting with ``n`` after a key's colon can only be ``null``. A value starting
    with ``[`` is a list (numbers elsewhere than a member's value are inside one); one
    starting with ``-`` or a digit is a float where its integer digits are followed by
    ``.``, ``e`` or ``E``. The fake members of strings starting with a colon are
    checked alike, which again can only send a piece to the exact path.
    """
    data = np.frombuffer(piece, dtype=np.uint8)
    colons = np.flatnonzero(data == ord(":"))
    if not colons.size:
        return 0
    at = colons - 1
    spaced = _JSON_SPACE[data[at]]
    if spaced.any():
        at[spaced] -= 1
        if _JSON_SPACE[data[at[spaced]]].any():
            return None
    keys = data[at] == ord('"')
    escaped = keys & (data[at - 1] == ord("\\"))
    if escaped.any():
        quotes = at[escaped]
        run = np.ones(quotes.size, dtype=np.int64)
        going = np.ones(quotes.size, dtype=bool)
        for back in range(2, 9):
            going &= data[quotes - back] == ord("\\")
            run += going
        if going.any():
            return None
        keys[escaped] = run % 2 == 0
    last = data.size - 1
    starts = np.minimum(colons + 1, last)  # each value's first byte
    after = data[starts]
    spaced = _JSON_SPACE[after]
    if spaced.any():
        starts += spaced
        starts[-1] = min(starts[-1], last)  # only the last can pass it
        after = data[starts]
    # Values polars writes as json does start with '"', 'n', 't', 'f' or '{' (all
    # past '['); a number, a list or white space still is checked closer.
    suspect = keys & (after <= ord("[")) & (after != ord('"'))
    if suspect.any() and not _integers(piece, after[suspect], starts[suspect]):
        return None
    return int(np.count_nonzero(keys & (after != ord("n"))))


def _integers(piece: bytes, first: np.ndarray, starts: np.ndarray) -> bool:
    """Whether the values at ``starts`` (whose first bytes are ``first``) are integers:
    no list, no float, no white space left before a value."""
    minus = first == ord("-")
    if not (((first - ord("0")) < 10) | minus).all():
        return False  # a list, more white space than one byte, or not JSON
    # Eight bytes of every number at once, from its first digit on: a float where the
    # first byte that is no digit is a float's mark. Numbers of eight digits or more
    # go on to their next eight bytes.
    size = len(piece)
    words = np.ndarray((max(size - 7, 0),), dtype="<u8", buffer=piece, strides=(1,))
    at = starts + minus
    while at.size:
        near = at > size - 8
        if near.any():  # too near the end for eight bytes: one at a time (a few)
            for start in at[near].tolist():
                end = _DIGITS.match(piece, start).end()  # type: ignore[union-attr]
                if piece[end:end + 1] in _FLOAT_MARKS:
                    return False
            at = at[~near]
        octets = words[at].view(np.uint8)
        other = ((octets - ord("0")) >= 10).view("<u8")
        marks = ((octets == ord(".")) | ((octets | 0x20) == ord("e"))).view("<u8")
        if (marks & other & (~other + np.uint64(1))).any():  # the lowest byte of other
            return False
        at = at[other == 0] + 8
    return True


# -- JSON documents --------------------------------------------------------------------

#: Tokens that nest, and strings (whose brackets do not); a lone quote is a string
#: the text ends inside.
_NESTING = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]|"', re.DOTALL)
_SPACE = re.compile(r"[ \t\r\n]*")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def _value_end(text: str, start: int) -> int | None:
    """End of the value at ``start`` without building it; None: not in ``text``."""
    if text[start] not in "[{":
        number = _NUMBER.match(text, start)
        return number.end() if number and number.end() < len(text) else None
    depth = 0
    for match in _NESTING.finditer(text, start):
        token = match.group()
        if token[0] == '"':
            if len(token) == 1:
                return None
            continue
        depth += 1 if token in "[{" else -1
        if depth == 0:
            return match.end()
    return None


class _Document:
    """The records of a JSON document, one value at a time, in bounded memory."""

    def __init__(self, blocks: Iterator[bytes], name: str, accounting: RowAccounting) -> None:
        self._blocks = blocks
        self._name = name
        self._accounting = accounting
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self._text = ""
        self._pos = 0
        self._eof = False
        self._line = 1  # the line of _text[_line_pos]
        self._line_pos = 0

    def records(self) -> Iterator[tuple[Any, int]]:
        """(record, line): each top-level value, and each element of a top-level array."""
        while self._skip_space():
            if self._text[self._pos] != "[":
                yield from self._value()
                continue
            self._pos += 1
            if self._skip_space() and self._text[self._pos] == "]":
                self._pos += 1
                continue
            while True:
                if not self._skip_space():
                    self._fail("the array is not closed (truncated file?)")
                yield from self._value()
                if not self._skip_space():
                    self._fail("the array is not closed (truncated file?)")
                mark = self._text[self._pos]
                self._pos += 1
                if mark == "]":
                    break
                if mark != ",":
                    self._fail("invalid JSON: expected , or ] between records")

    def _value(self) -> Iterator[tuple[Any, int]]:
        """The value at the position: yields it, or counts it rejected."""
        line = self._line_at(self._pos)
        while True:
            text, start = self._text, self._pos
            try:
                value, end = _DECODER.raw_decode(text, start)
            except RecursionError:
                reason = "too_deep"
            except json.JSONDecodeError as error:
                if error.pos < len(text) - 8 and not error.msg.startswith("Unterminated"):
                    self._fail("invalid JSON", self._line_at(error.pos))
                reason = None
            except ValueError:
                reason = "number_too_long"  # int() refuses more than 4,300 digits
            else:
                if end < len(text) or self._eof:  # a number may go on in the next block
                    self._pos = end
                    yield value, line
                    return
                reason = None
            if reason is not None:
                skipped = _value_end(text, start)
                if skipped is not None:
                    self._pos = skipped
                    self._accounting.reject(reason, line=line)
                    return
            if len(text) - start > MAX_VALUE_BYTES:
                self._fail(f"a record over {MAX_VALUE_BYTES:,} bytes, or invalid JSON (records "
                           "nested under a key? extract them first: jq -c '.key[]')", line)
            if not self._more():
                self._fail("invalid or truncated JSON", line)

    def _skip_space(self) -> bool:
        """Move past white space; False at the end of the text."""
        while True:
            self._pos = _SPACE.match(self._text, self._pos).end()  # type: ignore[union-attr]
            if self._pos < len(self._text):
                return True
            if not self._more():
                return False

    def _more(self) -> bool:
        """Append the next block (dropping what was read); False at the end."""
        if self._eof:
            return False
        block = next(self._blocks, None)
        self._line_at(self._pos)
        try:
            decoded = self._decoder.decode(block or b"", final=block is None)
        except UnicodeDecodeError:
            self._fail("not UTF-8 text (JSON must be)", self._line_at(len(self._text)))
        self._text = self._text[self._pos:] + decoded
        self._line_pos -= self._pos
        self._pos = 0
        self._eof = block is None
        return True

    def _line_at(self, pos: int) -> int:
        self._line += self._text.count("\n", self._line_pos, pos)
        self._line_pos = pos
        return self._line

    def _fail(self, message: str, line: int | None = None) -> NoReturn:
        raise TriageError(f"{message} in a JSON document (an array of records or "
                          "pretty-printed JSON, not JSON Lines)", path=self._name,
                          line=line if line is not None else self._line_at(self._pos))


def open_jsonl(member: Member, info: SourceInfo, head: bytes) -> JsonLinesSource:
    info.format = "jsonl"
    info.encoding = "utf-8"
    return JsonLinesSource(member, info)
