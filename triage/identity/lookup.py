"""Was this person in a leak? One identifier in, the leaks and what they exposed out.

A :class:`LookupIndex` opens an index in a local directory once (manifest, row-group
starts and Parquet footers of every leak's partitions) and answers each lookup by
canonicalising the identifier, computing its keyed digest, and reading one row group
per leak (of the partition its digest's prefix names). It does the same work for a
hit and a miss, so timing says little about the answer.

With ``preload=True`` (the HTTP service) every leak's digests and attributes are
read once into arrays (about 36 bytes per identifier of memory) and a lookup is a
binary search: hit or miss, the same few microseconds.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from triage.errors import TriageError
from triage.identity.canonical import FORMS, Canonicaliser, name_birth_one
from triage.identity.digest import DIGEST_BYTES, KeyedHasher, hmac_prefix
from triage.identity.index import (
    check_compatible,
    leak_partitions,
    local_index,
    partition_of,
    read_manifest,
)
from triage.identity.keys import PURPOSE_IDENTIFIERS, HmacKey

_COLUMNS = ["digest", "categories", "first_seen", "last_seen"]
_EPOCH = date(1970, 1, 1)
_NO_DATE = np.iinfo(np.int32).min


@dataclass
class _Loaded:
    """One leak held in memory: digest halves, categories, dates as days (or _NO_DATE)."""

    hi: np.ndarray
    lo: np.ndarray
    categories: np.ndarray
    first: np.ndarray
    last: np.ndarray


@dataclass
class _Part:
    """One partition of a leak: its Parquet file (None when empty) and row-group starts."""

    file: pq.ParquetFile | None
    starts: list[bytes]


@dataclass
class _Leak:
    entry: dict[str, Any]
    digits: int
    parts: list[_Part]
    loaded: _Loaded | None = None


class LookupIndex:
    """An opened index, checked against the key: a wrong key is an error, never a miss."""

    def __init__(self, index_dir: str | Path, key: HmacKey, region: str | None = None, *,
                 preload: bool = False) -> None:
        self.index_dir = local_index(index_dir)
        self.manifest = read_manifest(self.index_dir)
        check_compatible(self.manifest, key.key_id, self.index_dir)
        leaks = self.manifest["leaks"]
        self.region = region or (leaks[0].get("region") if leaks else None) or "FR"
        self._hasher = KeyedHasher(key.subkey(PURPOSE_IDENTIFIERS), native=False)
        self._leaks = [self._open(entry) for entry in leaks]
        if preload:
            for leak in self._leaks:
                leak.loaded = _load(leak)

    def _open(self, entry: dict[str, Any]) -> _Leak:
        digits, partitions = leak_partitions(entry)
        return _Leak(entry, digits, [self._open_part(entry, p) for p in partitions])

    def _open_part(self, entry: dict[str, Any], partition: dict[str, Any]) -> _Part:
        if partition["identifiers"] == 0:
            return _Part(None, [])
        try:
            raw = (self.index_dir / partition["starts"]).read_bytes()
            # Mapped, and its descriptor closed at once (the buffer keeps the mapping): a
            # leak may have thousands of partitions, and a descriptor held for each would
            # exhaust the process's limit (1,024, or 256 on macOS) with one large leak.
            mapped = pa.memory_map(str(self.index_dir / partition["file"]))
            try:
                contents = mapped.read_buffer()
            finally:
                mapped.close()
            handle = pq.ParquetFile(pa.BufferReader(contents))
        except OSError:
            raise TriageError(f"index files of leak {entry['leak_id']} are missing",
                              path=str(self.index_dir / Path(partition["file"]).parent)
                              ) from None
        starts = [raw[i:i + DIGEST_BYTES] for i in range(0, len(raw), DIGEST_BYTES)]
        return _Part(handle, starts)

    def digest(self, kind: str, value: str, birth_date: str | None = None) -> bytes | None:
        """The digest an identifier has in this index, or None if it is not valid."""
        if kind == "name_birth":
            if birth_date is None:
                raise TriageError("a name lookup needs a birth date")
            canonical = name_birth_one(value, birth_date, self.region)
        elif kind in FORMS:
            canonical = Canonicaliser(kind, self.region).one(value)
        else:
            raise TriageError(f"unknown identifier kind {kind}")
        if canonical is None:
            return None
        return self._hasher.digest_one(hmac_prefix(kind, FORMS[kind]), canonical)

    def lookup(self, kind: str, value: str, birth_date: str | None = None) -> dict[str, Any]:
        """``{"found": bool, "leaks": [...]}``: the lookup document, and nothing more."""
        digest = self.digest(kind, value, birth_date)
        # An invalid identifier still costs one search, so it answers no faster.
        found = self.lookup_digest(digest if digest is not None else bytes(DIGEST_BYTES))
        if digest is None:
            found = []
        return {"found": bool(found), "leaks": found}

    def lookup_digest(self, digest: bytes) -> list[dict[str, Any]]:
        hits = []
        for leak in self._leaks:
            row = self._find(leak, digest)
            if row is not None:
                categories, first, last = row
                names = leak.entry["categories"]
                hits.append({
                    "leak_id": leak.entry["leak_id"],
                    "name": leak.entry["name"],
                    "categories": [names[b] for b in range(len(names)) if categories >> b & 1],
                    "first_seen": first, "last_seen": last,
                })
        return hits

    @staticmethod
    def _find(leak: _Leak, digest: bytes) -> tuple[int, str | None, str | None] | None:
        if leak.loaded is not None:
            return _find_loaded(leak.loaded, digest)
        part = leak.parts[partition_of(digest, leak.digits)]
        if part.file is None:
            return None
        group = max(bisect.bisect_right(part.starts, digest) - 1, 0)
        table = part.file.read_row_group(group, columns=_COLUMNS, use_threads=False)
        column = table.column("digest").chunk(0) if table.num_rows else None
        if column is None:
            return None
        # Digests as big-endian (hi, lo) words: numeric order is the byte order they
        # were sorted in. (numpy's S16 would drop trailing zero bytes in comparisons.)
        words = np.frombuffer(column.buffers()[1], dtype=">u8", count=2 * len(column),
                              offset=column.offset * DIGEST_BYTES).reshape(-1, 2)
        his = words[:, 0].astype(np.uint64)
        hi = np.uint64(int.from_bytes(digest[:8], "big"))
        lo = np.uint64(int.from_bytes(digest[8:], "big"))
        first = int(np.searchsorted(his, hi, side="left"))
        last = int(np.searchsorted(his, hi, side="right"))
        same = np.nonzero(words[first:last, 1].astype(np.uint64) == lo)[0]
        if not len(same):
            return None
        at = int(first + same[0])
        return (int(table.column("categories")[at].as_py()),
                _iso(table.column("first_seen")[at].as_py()),
                _iso(table.column("last_seen")[at].as_py()))


def _load(leak: _Leak) -> _Loaded | None:
    files = [part.file for part in leak.parts if part.file is not None]
    if not files:
        return None
    # Partitions follow each other in digest order: together, one sorted table.
    table = pa.concat_tables(f.read(columns=_COLUMNS, use_threads=True) for f in files)
    column = table.column("digest").combine_chunks()
    words = np.frombuffer(column.buffers()[1], dtype=">u8", count=2 * len(column),
                          offset=column.offset * DIGEST_BYTES).reshape(-1, 2)

    def days(name: str) -> np.ndarray:
        values = table.column(name).combine_chunks().cast("int32")
        return values.fill_null(_NO_DATE).to_numpy().astype(np.int32)

    return _Loaded(hi=words[:, 0].astype(np.uint64), lo=words[:, 1].astype(np.uint64),
                   categories=table.column("categories").to_numpy().astype(np.uint64),
                   first=days("first_seen"), last=days("last_seen"))


def _find_loaded(loaded: _Loaded, digest: bytes) -> tuple[int, str | None, str | None] | None:
    hi = np.uint64(int.from_bytes(digest[:8], "big"))
    lo = np.uint64(int.from_bytes(digest[8:], "big"))
    first = int(np.searchsorted(loaded.hi, hi, side="left"))
    last = int(np.searchsorted(loaded.hi, hi, side="right"))
    same = np.nonzero(loaded.lo[first:last] == lo)[0]
    if not len(same):
        return None
    at = int(first + same[0])
    return (int(loaded.categories[at]), _day(int(loaded.first[at])), _day(int(loaded.last[at])))


def _day(days: int) -> str | None:
    return None if days == _NO_DATE else (_EPOCH + timedelta(days=days)).isoformat()


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None

