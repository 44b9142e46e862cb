"""Sources: any input file -> one or more :class:`Source` tables.

Formats are registered in :data:`FORMATS`, tried in order: a format claims a
stream by its name or its first bytes. Adding a format (SQL dumps,
spreadsheets) is one module with an ``open_*`` function and one line here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from triage.errors import TriageError
from triage.sources.base import EXTRA_COLUMN, RowAccounting, Source, SourceInfo
from triage.sources.delimited import open_delimited
from triage.sources.jsonl import open_jsonl
from triage.sources.parquet import open_parquet
from triage.sources.stream import Member, inner_name, members_of

__all__ = ["EXTRA_COLUMN", "FORMATS", "RowAccounting", "Source", "SourceInfo", "open_sources"]

HEAD_BYTES = 256 * 1024

Opener = Callable[[Member, SourceInfo, bytes], Source]


@dataclass(frozen=True)
class Format:
    name: str
    claims: Callable[[str, bytes], bool]
    open: Opener


def _is_parquet(name: str, head: bytes) -> bool:
    return head.startswith(b"PAR1")


def _is_jsonl(name: str, head: bytes) -> bool:
    lowered = name.lower()
    if lowered.endswith((".jsonl", ".ndjson", ".json")):
        return True
    return head.lstrip().startswith(b"{")


def _is_text_table(name: str, head: bytes) -> bool:
    return b"\x00" not in head[:4096] or head.startswith((b"\xff\xfe", b"\xfe\xff"))


FORMATS: list[Format] = [
    Format("parquet", _is_parquet, open_parquet),
    Format("jsonl", _is_jsonl, open_jsonl),
    Format("delimited", _is_text_table, open_delimited),
]


def _read_head(member: Member) -> bytes:
    try:
        with member.open() as stream:
            return stream.read(HEAD_BYTES)
    except TriageError:
        raise
    except (OSError, EOFError, ValueError):
        raise TriageError("corrupt or truncated compressed data at its start",
                          path=member.display_name) from None


def open_sources(path: str | Path) -> list[Source]:
    """Every table in ``path``; raises :class:`TriageError` for what cannot be read."""
    path = Path(path)
    sources: list[Source] = []
    size = path.stat().st_size if path.exists() else 0
    for member in members_of(path):
        head = _read_head(member)
        name = inner_name(member)
        info = SourceInfo(name=member.display_name, path=str(path), format="unknown",
                          size=size, compression=member.compression, member=member.member)
        for fmt in FORMATS:
            if fmt.claims(name, head):
                sources.append(fmt.open(member, info, head))
                break
        else:
            raise TriageError("unknown format (not delimited text, JSON Lines or Parquet)",
                              path=member.display_name)
    return sources
