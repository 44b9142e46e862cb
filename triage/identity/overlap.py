"""How many people of one leak are in another: keyed digests only, no key needed.

Both leaks live in one index, hence under one key, so equal digests mean equal
canonical identifiers. A person of leak A is "in both" when any of their
identifiers is in leak B; the count per kind says through which identifiers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from triage.identity.index import leak_entry, leak_partitions, local_index, read_manifest


def _identifiers(index_dir: Path, entry: dict[str, Any]) -> pl.DataFrame:
    _digits, partitions = leak_partitions(entry)
    return pl.concat(
        pl.read_parquet(index_dir / p["file"], columns=["digest", "kind", "person"])
        .with_columns(pl.col("kind").cast(pl.String)) for p in partitions)


def overlap(index_dir: str | Path, leak_a: str, leak_b: str) -> dict[str, Any]:
    """People of ``leak_a`` also found in ``leak_b``, overall and per identifier kind."""
    index_dir = local_index(index_dir)
    manifest = read_manifest(index_dir)
    entry_a = leak_entry(manifest, leak_a, index_dir)
    entry_b = leak_entry(manifest, leak_b, index_dir)
    a = _identifiers(index_dir, entry_a)
    b = _identifiers(index_dir, entry_b)
    shared = a.join(b, on="digest", suffix="_b")
    by_kind = {}
    for (kind,), group in shared.group_by(["kind"]):
        by_kind[kind] = {"shared_identifiers": group.height,
                         "people_a": int(group["person"].n_unique()),
                         "people_b": int(group["person_b"].n_unique())}
    return {
        "leak_a": leak_a,
        "leak_b": leak_b,
        "people_a": entry_a["people"],
        "people_b": entry_b["people"],
        # Counted on each side: one person of A may match two of B who never shared an id.
        "people_a_in_b": int(shared["person"].n_unique()),
        "people_b_in_a": int(shared["person_b"].n_unique()),
        "shared_identifiers": shared.height,
        "by_identifier_kind": dict(sorted(by_kind.items())),
        "method": "equal keyed digests of canonical identifiers, any kind",
    }
