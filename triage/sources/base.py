"""The one interface every input format implements.

A :class:`Source` turns one logical table (a file, an archive member, later a SQL
table or a spreadsheet sheet) into a stream of polars DataFrames whose columns
are all strings (lossless: nothing is typed or trimmed here), and keeps exact
accounting of every row it met: parsed, or rejected with a reason.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import polars as pl

#: Name of the column that holds the surplus cells of rows with too many fields,
#: joined by the delimiter, so later stages still scan them.
EXTRA_COLUMN = "_extra"

#: How many rejected or repaired places are listed by position in the output;
#: the counts are always complete.
MAX_LISTED_REGIONS = 20

ProgressCallback = Callable[[int], None]


@dataclass
class RowAccounting:
    """Every record met: parsed (kept, maybe repaired) or rejected, never lost.

    ``rejected`` rows are dropped with a reason; ``repaired`` counts kept rows that
    needed a fix (ragged, undecodable bytes), by reason. ``regions`` lists where
    (line and byte offset, never the content) the first few problems are.
    """

    read: int = 0
    parsed: int = 0
    rejected: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    repaired: Counter[str] = field(default_factory=Counter)
    regions: list[dict[str, Any]] = field(default_factory=list)

    def add_parsed(self, rows: int) -> None:
        self.read += rows
        self.parsed += rows

    def reject(self, reason: str, rows: int = 1, *, line: int | None = None,
               offset: int | None = None) -> None:
        self.read += rows
        self.rejected += rows
        self.reasons[reason] += rows
        self.note_region(reason, line=line, offset=offset, kept=False)

    def repair(self, reason: str, rows: int, *, line: int | None = None,
               offset: int | None = None) -> None:
        """Count ``rows`` already counted as parsed that needed ``reason`` fixed."""
        if rows:
            self.repaired[reason] += rows
            self.note_region(reason, line=line, offset=offset, kept=True)

    def note_region(self, reason: str, *, line: int | None, offset: int | None,
                    kept: bool) -> None:
        if len(self.regions) < MAX_LISTED_REGIONS:
            region: dict[str, Any] = {"reason": reason, "kept": kept}
            if line is not None:
                region["line"] = line
            if offset is not None:
                region["byte_offset"] = offset
            self.regions.append(region)

    def merge(self, other: RowAccounting) -> RowAccounting:
        merged = RowAccounting(
            read=self.read + other.read,
            parsed=self.parsed + other.parsed,
            rejected=self.rejected + other.rejected,
            reasons=self.reasons + other.reasons,
            repaired=self.repaired + other.repaired,
            regions=(self.regions + other.regions)[:MAX_LISTED_REGIONS],
        )
        return merged

    def to_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "parsed": self.parsed,
            "rejected": self.rejected,
            "reasons": dict(sorted(self.reasons.items())),
            "repaired": dict(sorted(self.repaired.items())),
            "regions": list(self.regions),
        }


@dataclass
class SourceInfo:
    """What was sniffed about a source; printed in every output document."""

    name: str
    path: str
    format: str
    size: int
    compression: str | None = None
    member: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    quoting: str | None = None
    header: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


class Source(ABC):
    """One logical table read in one pass."""

    def __init__(self, info: SourceInfo) -> None:
        self.info = info
        self.accounting = RowAccounting()
        #: Called with the number of bytes of the file on disk consumed since the
        #: last call, for a progress bar by bytes.
        self.on_progress: ProgressCallback | None = None

    @abstractmethod
    def batches(self) -> Iterator[pl.DataFrame]:
        """Yield DataFrames of string columns. Column sets may grow (JSON Lines)."""

    def declared_columns(self) -> list[str]:
        """The columns a header or schema names, once ``batches()`` has been read: a
        table that has them and no row still shows which columns it would expose."""
        return []

    def _progress(self, consumed: int) -> None:
        if self.on_progress is not None and consumed:
            self.on_progress(consumed)
