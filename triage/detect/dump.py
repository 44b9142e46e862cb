"""Detection over a whole dump: every table, one pass each."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from triage.detect.findings import ColumnFinding, findings_document
from triage.detect.table import TableDetector
from triage.errors import TriageError
from triage.sources import open_sources


@dataclass
class TableFindings:
    table: str
    rows: int
    findings: list[ColumnFinding]


def detect_dump(path: str | Path) -> list[TableFindings]:
    """Run detection over every table of ``path`` (one read of each)."""
    if not Path(path).exists():
        raise TriageError("no such file", path=str(path))
    results = []
    for source in open_sources(path):
        detector = TableDetector()
        for batch in source.batches():
            detector.update(batch)
        results.append(TableFindings(source.info.name, detector.rows, detector.finish()))
    return results


def dump_document(path: str | Path, tables: list[TableFindings]) -> dict[str, Any]:
    """One findings document for a dump; columns name their table when there are several."""
    columns: list[dict[str, Any]] = []
    for table in tables:
        part = findings_document(str(path), table.findings,
                                 table=table.table if len(tables) > 1 else None)
        columns.extend(part["columns"])
    return {"file": str(path), "tables": len(tables), "columns": columns}
