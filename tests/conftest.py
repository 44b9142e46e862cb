from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from triage.sources import RowAccounting, open_sources

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def read_all(path: Path | str, **source_options) -> tuple[list[dict], RowAccounting, list]:
    """Every row of every source of ``path`` as dicts, the merged accounting, the sources."""
    rows: list[dict] = []
    accounting = RowAccounting()
    sources = open_sources(path)
    for source in sources:
        for name, value in source_options.items():
            setattr(source, name, value)
        for batch in source.batches():
            rows.extend(batch.to_dicts())
        accounting = accounting.merge(source.accounting)
    return rows, accounting, sources


def frame_of(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows)


@pytest.fixture
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside this checkout")
    return SHARED
