"""One read of the data feeds every stage.

:func:`run` opens every input, streams each source's batches once, and hands each
batch to every stage's accumulator. It returns one :class:`SourceResult` per
source (a file, or an archive member) with the accounting and the states.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from triage import __version__
from triage.errors import TriageError
from triage.profile import TableProfile
from triage.sources import RowAccounting, Source, SourceInfo, open_sources


@dataclass
class SourceResult:
    info: SourceInfo
    accounting: RowAccounting
    profile: TableProfile
    extras: dict[str, Any] = field(default_factory=dict)

    def profile_document(self) -> dict[str, Any]:
        return {
            "source": self.info.to_dict(),
            "rows": self.accounting.to_dict(),
            "columns": self.profile.to_dict()["columns"],
        }


#: ``hook(source, batch, profile, first)``: called after the profile consumed ``batch``.
BatchHook = Callable[[Source, pl.DataFrame, TableProfile, bool], None]


def _progress_bar(paths: list[Path], enabled: bool):  # type: ignore[no-untyped-def]
    if not enabled:
        return nullcontext(None)
    from tqdm import tqdm

    total = sum(p.stat().st_size for p in paths if p.exists())
    # Only sizes and the file name go to the bar: never any content.
    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024,
                file=sys.stderr, desc="triage", leave=False, dynamic_ncols=True)


def run(paths: Iterable[str | Path], *, progress: bool = False,
        on_batch: BatchHook | None = None,
        open_input: Callable[[Path], Iterable[Source]] = open_sources) -> list[SourceResult]:
    """Read every source once, profiling it; ``on_batch`` lets later stages ride along.

    ``on_batch(source, batch, profile, first)`` is called for each batch after the
    profile has consumed it; ``first`` is true for a source's first batch.
    ``open_input`` turns a path into its sources (a cluster task opens only its share).
    """
    paths = [Path(p) for p in paths]
    for path in paths:
        if not path.exists():
            raise TriageError("no such file", path=str(path))
    results: list[SourceResult] = []
    with _progress_bar(paths, progress and sys.stderr.isatty()) as bar:
        for path in paths:
            for source in open_input(path):
                if bar is not None:
                    bar.set_description(Path(source.info.name).name[:40])
                    source.on_progress = bar.update
                profile = TableProfile()
                first = True
                for batch in source.batches():
                    # One chunk per column: the native kernel reads columns in place,
                    # and every stage would otherwise rechunk the same column again.
                    batch = batch.rechunk()
                    profile.update(batch)
                    if on_batch is not None:
                        on_batch(source, batch, profile, first)
                    first = False
                if not profile.columns:  # a header over no row: its columns, count 0
                    profile.declare(source.declared_columns())
                results.append(SourceResult(source.info, source.accounting, profile))
    return results


def profile_document(results: list[SourceResult]) -> dict[str, Any]:
    """``triage profile --json``: one source's document, or ``{"sources": [...]}``."""
    docs = [r.profile_document() for r in results]
    if len(docs) == 1:
        return {"triage_version": __version__, **docs[0]}
    return {"triage_version": __version__, "sources": docs}
