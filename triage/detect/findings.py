"""One verdict per column, and the findings document (``schemas/findings.schema.json``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ColumnFinding:
    """The verdict on one column. ``evidence`` holds shapes, shares and counts only."""

    name: str
    category: str | None
    subtype: str | None
    confidence: float
    special_category: bool
    evidence: dict[str, Any] = field(default_factory=dict)
    #: The detector that decided (None when no category).
    detector: str | None = None
    #: Categories that some rows hold instead of ``category``, row by row (a contact
    #: column of e-mail addresses and phone numbers: ``triage.detect.mixed``).
    mixed_with: tuple[str, ...] = ()

    @property
    def categories(self) -> tuple[str, ...]:
        """Every category the column's rows hold: ``category`` and ``mixed_with``."""
        return () if self.category is None else (self.category, *self.mixed_with)

    def to_dict(self) -> dict[str, Any]:
        document = {
            "name": self.name,
            "category": self.category,
            "subtype": self.subtype,
            "confidence": round(self.confidence, 3),
            "special_category": self.special_category,
            "detector": self.detector,
            "evidence": self.evidence,
        }
        if self.mixed_with:
            document["mixed_with"] = list(self.mixed_with)
        return document


def findings_document(path: str, findings: Iterable[ColumnFinding], *,
                      table: str | None = None, rows: int | None = None) -> dict[str, Any]:
    """The findings.json shape: ``{"file", "columns": [...]}`` (and ``rows`` if given).

    ``table`` names the source (archive member) the columns belong to; each column
    then carries it, so the columns of several tables can share one document.
    """
    columns = []
    for finding in findings:
        column = finding.to_dict()
        if table is not None:
            column = {"table": table, **column}
        columns.append(column)
    document: dict[str, Any] = {"file": str(path)}
    if rows is not None:
        document["rows"] = rows
    document["columns"] = columns
    return document
