"""The victim-lookup index on disk: many leaks, one key, Parquet, digests only.

Layout::

    INDEX/manifest.json                   key id, canonical forms, one entry per leak
    INDEX/leaks/<leak_id>/identifiers.parquet
    INDEX/leaks/<leak_id>/row-group-starts.bin

Each leak's identifiers are sorted by digest and written in row groups of
``ROW_GROUP_ROWS``; ``row-group-starts.bin`` holds the first digest of each row
group (16 bytes each), so a lookup bisects it in memory and reads one row group
of one file per leak: a few tens of KB whatever the index size. Adding a leak
writes a new folder and rewrites only the manifest (atomically, under a lock);
other leaks' files are never touched. Nothing in the index is plaintext: the
digests are keyed (see keys.py), and the manifest names the key only by its id.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from triage.errors import TriageError
from triage.identity.canonical import FORMS
from triage.identity.digest import DIGEST_BYTES

FORMAT = "triage-identity-index"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
IDENTIFIERS_FILE = "identifiers.parquet"
STARTS_FILE = "row-group-starts.bin"
#: Rows per row group: one lookup reads one group (~100 KB) from each leak.
ROW_GROUP_ROWS = 4096
_LEAK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")

ARROW_SCHEMA = pa.schema([
    ("digest", pa.binary(DIGEST_BYTES)),
    ("kind", pa.dictionary(pa.int8(), pa.string())),
    ("person", pa.uint32()),
    ("categories", pa.uint64()),
    ("first_seen", pa.date32()),
    ("last_seen", pa.date32()),
])


def empty_manifest(key_id: str) -> dict[str, Any]:
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "key_id": key_id,
            "canonical_forms": dict(FORMS), "digest_bytes": DIGEST_BYTES, "leaks": []}


def read_manifest(index_dir: str | Path) -> dict[str, Any]:
    path = Path(index_dir) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TriageError("not a triage index (no manifest.json)", path=str(index_dir)) from None
    except (OSError, ValueError) as exc:
        raise TriageError(f"unreadable index manifest ({type(exc).__name__})",
                          path=str(path)) from None
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise TriageError("unsupported index format", path=str(path))
    return manifest


def check_compatible(manifest: dict[str, Any], key_id: str, where: str | Path) -> None:
    """Refuse, loudly, an index made with another key or other canonical forms."""
    if manifest["key_id"] != key_id:
        raise TriageError(f"index was made with key id {manifest['key_id']}, but the key "
                          f"given has key id {key_id}: every lookup would miss",
                          path=str(where))
    if manifest.get("canonical_forms") != dict(FORMS):
        raise TriageError("index uses other canonical-form versions than this triage "
                          f"({manifest.get('canonical_forms')} vs {dict(FORMS)})", path=str(where))


@contextmanager
def _locked(index_dir: Path) -> Iterator[None]:
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _write_json_atomic(path: Path, document: dict[str, Any]) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(partial, path)


def digests_of(entries: pl.DataFrame) -> np.ndarray:
    """(n, 16) uint8 digests from the hi/lo u64 columns (big-endian halves)."""
    words = np.empty((entries.height, 2), dtype=">u8")
    words[:, 0] = entries["hi"].to_numpy()
    words[:, 1] = entries["lo"].to_numpy()
    return words.view(np.uint8).reshape(entries.height, DIGEST_BYTES)


def _arrow_table(entries: pl.DataFrame) -> pa.Table:
    digests = digests_of(entries)
    digest_array = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(DIGEST_BYTES), entries.height, [None, pa.py_buffer(digests.tobytes())])
    return pa.table({
        "digest": digest_array,
        "kind": pc.dictionary_encode(entries["kind"].cast(pl.String).to_arrow()
                                     .cast(pa.string())).cast(ARROW_SCHEMA.field("kind").type),
        "person": pa.array(entries["person"].to_numpy().astype(np.uint32)),
        "categories": pa.array(entries["categories"].to_numpy().astype(np.uint64)),
        "first_seen": entries["first_seen"].to_arrow().cast(pa.date32()),
        "last_seen": entries["last_seen"].to_arrow().cast(pa.date32()),
    }, schema=ARROW_SCHEMA)


def write_leak_files(folder: Path, entries: pl.DataFrame) -> dict[str, Any]:
    """Sorted Parquet + row-group starts for one leak; returns the file facts."""
    hi = entries["hi"]
    if not (hi.is_sorted() and hi.n_unique() == len(hi)):  # the collector's come sorted
        entries = entries.sort("hi", "lo")
    table = _arrow_table(entries)
    folder.mkdir(parents=True)
    path = folder / IDENTIFIERS_FILE
    # The digests are random bytes: compressing them would only cost time, so only
    # the other, repetitive columns are dictionary-encoded and compressed.
    compression = {name: "zstd" for name in ARROW_SCHEMA.names} | {"digest": "none"}
    pq.write_table(table, path, row_group_size=ROW_GROUP_ROWS, compression=compression,
                   use_dictionary=["kind", "categories", "first_seen", "last_seen"],
                   write_statistics=False, store_schema=False)
    starts = digests_of(entries)[::ROW_GROUP_ROWS]
    (folder / STARTS_FILE).write_bytes(starts.tobytes())
    data = path.read_bytes()
    return {"file": f"leaks/{folder.name}/{IDENTIFIERS_FILE}", "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(), "row_group_rows": ROW_GROUP_ROWS}


def add_leak(index_dir: str | Path, key_id: str, leak: dict[str, Any],
             entries: pl.DataFrame) -> dict[str, Any]:
    """Append one leak (``entries``: kind, hi, lo, person, categories, first/last_seen)."""
    index_dir = Path(index_dir)
    leak_id = leak["leak_id"]
    if not _LEAK_ID.fullmatch(leak_id):
        raise TriageError("leak id must be 1-64 letters, digits, '.', '_' or '-'")
    with _locked(index_dir):
        if (index_dir / MANIFEST).exists():
            manifest = read_manifest(index_dir)
            check_compatible(manifest, key_id, index_dir)
        else:
            manifest = empty_manifest(key_id)
        final = index_dir / "leaks" / leak_id
        if any(entry["leak_id"] == leak_id for entry in manifest["leaks"]) or final.exists():
            raise TriageError(f"leak id {leak_id} is already in this index; an index only "
                              "grows, use a new leak id", path=str(index_dir))
        partial = index_dir / "leaks" / f".{leak_id}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        facts = write_leak_files(partial, entries)
        os.replace(partial, final)
        facts["file"] = f"leaks/{leak_id}/{IDENTIFIERS_FILE}"
        entry = {**leak, "added": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                 "identifiers": entries.height, **facts}
        manifest["leaks"].append(entry)
        _write_json_atomic(index_dir / MANIFEST, manifest)
    return manifest


def leak_entry(manifest: dict[str, Any], leak_id: str, where: str | Path) -> dict[str, Any]:
    for entry in manifest["leaks"]:
        if entry["leak_id"] == leak_id:
            return entry
    raise TriageError(f"no leak {leak_id} in this index", path=str(where))
