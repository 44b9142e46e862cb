"""Sources: any input file -> one or more :class:`Source` tables.

Formats are registered in :data:`FORMATS`, tried in order: a format claims a
stream by its name or its first bytes. Adding a format is one module with an
``open_*`` function and one line here. An opener returns one Source, or an
iterator of Sources for a file that holds several tables (a SQL dump, a workbook).

Archives (zip, tar, 7z, nested) are walked by :mod:`triage.sources.archive`
before formats are tried, so every member becomes its own source
(``archive!member``). :func:`open_sources` hands sources out lazily, in input
order: a streamed member (tar, 7z) or a SQL table is read while its source is
being consumed, so the caller consumes each source's batches before it asks for
the next source, which is what ``for source in open_sources(p): for batch in
source.batches()`` does.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from triage.errors import TriageError
from triage.sources.archive import Walk, expand, is_spreadsheet_zip
from triage.sources.base import EXTRA_COLUMN, RowAccounting, Source, SourceInfo
from triage.sources.delimited import open_delimited
from triage.sources.jsonl import open_jsonl
from triage.sources.parquet import open_parquet
from triage.sources.sniff import utf16_without_bom
from triage.sources.spreadsheet import open_spreadsheet
from triage.sources.sql import open_sql
from triage.sources.stream import (
    ExpansionBudget,
    Member,
    PartialPolicy,
    ReadOptions,
    check_readable,
    compression_of,
    current_options,
    inner_name,
    reading_options,
)

__all__ = ["EXTRA_COLUMN", "FORMATS", "ReadOptions", "RowAccounting", "Source", "SourceInfo",
           "open_sources", "reading_options"]

Opener = Callable[[Member, SourceInfo, bytes], "Source | Iterator[Source]"]


@dataclass(frozen=True)
class Format:
    name: str
    claims: Callable[[str, bytes], bool]
    open: Opener
    #: The reader seeks: a member inside an archive or a compressed stream is first
    #: held in memory (within ReadOptions.max_in_memory_bytes).
    random_access: bool = False


def _is_parquet(name: str, head: bytes) -> bool:
    return head.startswith(b"PAR1")


_WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _is_spreadsheet(name: str, head: bytes) -> bool:
    if head.startswith(_OLE2_MAGIC):
        return True
    if head.startswith(b"PK\x03\x04"):
        return is_spreadsheet_zip(name, head)
    return name.lower().endswith(_WORKBOOK_SUFFIXES) and b"\x00" in head[:4096]


_SQL_START = re.compile(
    rb"\A(?:\xef\xbb\xbf)?\s*(?:--|/\*|#|SET\s|CREATE\s|INSERT\s|REPLACE\s|DROP\s|COPY\s|BEGIN"
    rb"|START\s+TRANSACTION|USE\s|LOCK\s|SELECT\s|\\connect|ALTER\s)", re.IGNORECASE)
_SQL_DATA = re.compile(rb"\b(?:INSERT\s+(?:IGNORE\s+)?INTO|REPLACE\s+INTO|COPY\s|CREATE\s+TABLE)\b",
                       re.IGNORECASE)


def _is_sql(name: str, head: bytes) -> bool:
    if name.lower().endswith(".sql"):
        return True
    return bool(_SQL_START.match(head)) and bool(_SQL_DATA.search(head))


#: An object, or an array of objects (a JSON document), whatever the file is called.
_JSON_START = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*(?:\{|\[\s*\{)")


def _is_jsonl(name: str, head: bytes) -> bool:
    lowered = name.lower()
    if lowered.endswith((".jsonl", ".ndjson", ".json")):
        return True
    return bool(_JSON_START.match(head))


_TEXT_BYTES = bytes(range(32, 127)) + b"\t\r\n\x0c" + bytes(range(128, 256))


def _is_text_table(name: str, head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff", codecs.BOM_UTF32_BE)):
        return True
    if utf16_without_bom(head) is not None:
        return True
    sample = head[:4096]
    if b"\x00" not in sample:
        return True
    # A few stray NUL bytes in text (a broken export) still read as text; binary does not.
    return sample.count(b"\x00") <= 8 and len(sample.translate(None, _TEXT_BYTES)) <= 8 + len(
        sample) // 100


FORMATS: list[Format] = [
    Format("parquet", _is_parquet, open_parquet, random_access=True),
    Format("spreadsheet", _is_spreadsheet, open_spreadsheet, random_access=True),
    Format("sql", _is_sql, open_sql),
    Format("jsonl", _is_jsonl, open_jsonl),
    Format("delimited", _is_text_table, open_delimited),
]


class LazySources:
    """The sources of one input, created as iteration reaches them; re-iterable.

    ``len()`` and indexing read ahead to the end, which is fine for plain files and
    zips, but makes streamed members (tar, 7z, SQL tables) unreadable: iterate.
    """

    def __init__(self, items: Iterator[Source]) -> None:
        self._items = items
        self._seen: list[Source] = []
        self._done = False

    def _advance(self) -> bool:
        if self._done:
            return False
        try:
            self._seen.append(next(self._items))
            return True
        except StopIteration:
            self._done = True
            return False

    def __iter__(self) -> Iterator[Source]:
        index = 0
        while index < len(self._seen) or self._advance():
            yield self._seen[index]
            index += 1

    def __len__(self) -> int:
        return len(list(iter(self)))

    def __getitem__(self, index: int) -> Source:
        return list(iter(self))[index]


def open_sources(path: str | Path, options: ReadOptions | None = None, *,
                 zip_members: Iterable[int] | None = None) -> LazySources:
    """Every table in ``path``; raises :class:`TriageError` for what cannot be read.

    ``zip_members``: when ``path`` is a zip, only the tables of these members (indexes
    in its directory), as a cluster task reads its share of an archive.
    The first source is opened at once, so that an unreadable file fails here.
    """
    path = Path(path)
    options = options or current_options()
    head = check_readable(path)
    only = frozenset(zip_members) if zip_members is not None else None
    sources = LazySources(_sources_of(path, head, options, only))
    for _first in sources:
        break
    return sources


def _sources_of(path: Path, head: bytes, options: ReadOptions,
                only_members: frozenset[int] | None) -> Iterator[Source]:
    size = path.stat().st_size
    current: list[Source] = []

    def report(consumed: int) -> None:
        if current:
            current[0]._progress(consumed)

    walk = Walk(options, ExpansionBudget(options, size, str(path)),
                PartialPolicy(options.allow_partial), report, only_members=only_members)
    root = Member(path, compression_of(head), budget=walk.budget, partial=walk.partial)
    for member, member_head in expand(root, walk):
        for source in _open_member(member, member_head, path, size, walk):
            walk.partial.on_truncated = lambda offset, s=source: _note_truncation(s, offset)
            source.batches = _failing_if_truncated(source, walk)  # type: ignore[method-assign]
            current[:] = [source]
            yield source


def _open_member(member: Member, head: bytes, path: Path, size: int,
                 walk: Walk) -> Iterable[Source]:
    name = inner_name(member)
    compression = member.compression or ("zip" if member.container == "zip" else None)
    info = SourceInfo(name=member.display_name, path=str(path), format="unknown", size=size,
                      compression=compression, member=member.member)
    if member.container:
        # Extra keys of SourceInfo appear in its to_dict(); the counter is shared and
        # live, so links skipped after this member still show.
        info.container = member.container  # type: ignore[attr-defined]
        info.archive_skipped = walk.skipped  # type: ignore[attr-defined]
    for fmt in FORMATS:
        if fmt.claims(name, head):
            if fmt.random_access:
                member = member.in_memory(f"a {fmt.name} file")
            opened = fmt.open(member, info, head)
            return [opened] if isinstance(opened, Source) else opened
    raise TriageError("unknown format (not delimited text, JSON Lines, Parquet, SQL or "
                      "a spreadsheet)", path=member.display_name)


def _failing_if_truncated(source: Source, walk: Walk) -> Callable[..., Iterator]:
    """``source.batches`` that, after the last row before a break, raises unless allowed."""
    batches = source.batches

    def checked(**options: Any) -> Iterator:
        yield from batches(**options)
        walk.partial.check(source.info.name, source.accounting.read)

    return checked


def _note_truncation(source: Source, offset: int) -> None:
    source.info.truncated_at_byte = offset  # type: ignore[attr-defined]
    source.accounting.note_region("truncated_input", line=None, offset=offset, kept=False)
