"""The victim-lookup index: many leaks, one key, Parquet, digests only.

Layout::

    INDEX/manifest.json                                   key id, canonical forms, leaks
    INDEX/leaks/<leak_id>/identifiers[-<prefix>].parquet  one partition of a leak
    INDEX/leaks/<leak_id>/row-group-starts[-<prefix>].bin

A leak's identifiers are partitioned by the first ``prefix_digits`` hex digits of
their digest: one file (no prefix) up to ``PARTITION_ROWS`` identifiers, then 16,
256... files, so that a partition holds at most about ``PARTITION_ROWS``. Partitions
are independent files, so several machines can write one leak (the cluster scan's
workers do, see docs/cluster.md), and a digest's partition is read off its first
digits. Each partition is sorted by digest and written in row groups of
``ROW_GROUP_ROWS``; its row-group-starts file holds the first digest of each row
group (16 bytes each), so a lookup bisects it in memory and reads one row group of
one partition per leak: a few tens of KB whatever the index size.

Adding a leak writes its folder, then rewrites the manifest once, listing the
partitions with their sizes and SHA-256: the leak is in the index from that moment,
and other leaks' files are never touched. In a local directory the manifest is
replaced atomically under a lock; at another fsspec URL (``s3://``, ``memory://``)
it is one write (one PUT on an object store) and there is no lock, so one writer at a
time. Nothing in the index is plaintext: the digests are keyed (see keys.py), and the
manifest names the key only by its id.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from triage.errors import TriageError
from triage.identity.canonical import FORMS
from triage.identity.digest import DIGEST_BYTES
from triage.resources import load_schema

FORMAT = "triage-identity-index"
#: 2: a leak is ``partitions`` by digest prefix. 1 (still read): one ``file`` per leak,
#: which is a version-2 leak of prefix_digits 0.
FORMAT_VERSION = 2
READ_VERSIONS = (1, 2)
MANIFEST = "manifest.json"
#: The row-group starts of a format-1 leak (its entry names only its Parquet file).
STARTS_FILE = "row-group-starts.bin"
#: Rows per row group: one lookup reads one group (~100 KB) from each leak.
ROW_GROUP_ROWS = 4096
#: Identifiers per partition, at most (about: digests are uniform): ~25 MB files, a
#: size that object stores and parallel writers handle well.
PARTITION_ROWS = 1 << 20
#: 16**4 partitions of PARTITION_ROWS: 68 billion identifiers in one leak.
MAX_PREFIX_DIGITS = 4
_LEAK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")

ARROW_SCHEMA = pa.schema([
    ("digest", pa.binary(DIGEST_BYTES)),
    ("kind", pa.dictionary(pa.int8(), pa.string())),
    ("person", pa.uint32()),
    ("categories", pa.uint64()),
    ("first_seen", pa.date32()),
    ("last_seen", pa.date32()),
])

#: Writes a leak's partitions: (dest, leak_id, prefix digits, sorted entries, partition
#: bounds) -> each partition's manifest facts, in digest order.
PartitionWriter = Callable[[str, str, int, pl.DataFrame, Sequence[int]], list[dict[str, Any]]]


class _LocalStore:
    """An index in a local directory: the manifest replaced atomically, under a lock."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.url = self.shown = str(self.root)

    def read_text(self, name: str) -> str:
        return (self.root / name).read_text(encoding="utf-8")

    def put(self, name: str, data: bytes) -> None:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def size(self, name: str) -> int | None:
        try:
            return (self.root / name).stat().st_size
        except FileNotFoundError:
            return None

    def remove(self, folder: str) -> None:
        shutil.rmtree(self.root / folder, ignore_errors=True)

    @contextmanager
    def locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def replace(self, name: str, data: bytes) -> None:
        partial = self.root / f".{name}.partial"
        partial.write_bytes(data)
        os.replace(partial, self.root / name)


class _FsspecStore:
    """An index at an fsspec URL. Object stores have neither locks nor renames: the
    manifest is replaced by one write, and adding leaks is one writer at a time."""

    def __init__(self, url: str) -> None:
        try:
            from fsspec.core import url_to_fs
        except ImportError:
            raise TriageError("an index at a URL needs fsspec: pip install fsspec "
                              "(and the package of its protocol, e.g. s3fs)") from None
        self.url, self.shown = url, without_credentials(url)
        try:
            self.fs, root = url_to_fs(url)
        except (ImportError, ValueError, OSError) as exc:
            raise TriageError(f"cannot open this index URL ({type(exc).__name__})",
                              path=self.shown) from None
        self.root = root.rstrip("/")

    def _path(self, name: str) -> str:
        return f"{self.root}/{name}"

    def read_text(self, name: str) -> str:
        return self.fs.cat_file(self._path(name)).decode("utf-8")

    def put(self, name: str, data: bytes) -> None:
        path = self._path(name)
        self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        self.fs.pipe_file(path, data)

    def size(self, name: str) -> int | None:
        try:
            return int(self.fs.size(self._path(name)))
        except FileNotFoundError:
            return None

    def remove(self, folder: str) -> None:
        if self.fs.exists(self._path(folder)):
            self.fs.rm(self._path(folder), recursive=True)

    def locked(self) -> AbstractContextManager[None]:
        return nullcontext()

    replace = put


_Store = _LocalStore | _FsspecStore


def without_credentials(url: str) -> str:
    """A URL as it may be shown: no user or password (``ftp://user:pw@host``) in any of
    its links (fsspec chains protocols: ``simplecache::ftp://user:pw@host/x``)."""
    links = []
    for link in url.split("::"):
        parts = urlsplit(link)
        if "@" in parts.netloc:
            link = parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]).geturl()
        links.append(link)
    return "::".join(links)


def open_store(dest: str | Path) -> _Store:
    """Where an index lives: a local path or ``file://`` URL (with a lock and atomic
    renames, no fsspec needed), or any other fsspec URL."""
    if isinstance(dest, str) and "://" in dest:
        parts = urlsplit(dest)
        if parts.scheme == "file" and parts.netloc in ("", "localhost"):
            return _LocalStore(Path(unquote(parts.path)))
        return _FsspecStore(dest)
    return _LocalStore(Path(dest))



def local_index(index_dir: str | Path) -> Path:
    """The directory of an index that is read in place (lookups, overlap): those read
    Parquet row groups through memory maps, so only from a local directory."""
    text = str(index_dir)
    if text.startswith("file://"):
        return Path(text.removeprefix("file://"))
    if "://" in text:
        raise TriageError("lookups and overlap read an index in a local directory: copy "
                          "it here first", path=without_credentials(text))
    return Path(index_dir)


def empty_manifest(key_id: str) -> dict[str, Any]:
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "key_id": key_id,
            "canonical_forms": dict(FORMS), "digest_bytes": DIGEST_BYTES, "leaks": []}


def read_manifest(index_dir: str | Path) -> dict[str, Any]:
    return _read_manifest(open_store(index_dir))


def _read_manifest(store: _Store) -> dict[str, Any]:
    """The manifest, checked against schemas/index-manifest.schema.json: lookups, overlap
    and appends then read its fields without a check of their own."""
    where = f"{store.shown}/{MANIFEST}"
    try:
        manifest = json.loads(store.read_text(MANIFEST))
    except FileNotFoundError:
        raise TriageError("not a triage index (no manifest.json)", path=store.shown) from None
    except (OSError, ValueError, RecursionError) as exc:  # RecursionError: nested too deep
        raise TriageError(f"unreadable index manifest ({type(exc).__name__})",
                          path=where) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT \
            or manifest.get("format_version") not in READ_VERSIONS:
        raise TriageError("unsupported index format", path=where)
    problem = schema_problem(manifest)
    if problem is not None:
        raise TriageError(f"index manifest does not follow schemas/index-manifest.schema.json: "
                          f"{problem}", path=where)
    return manifest


@cache
def _manifest_validator() -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(load_schema("index-manifest.schema.json"))


def schema_problem(manifest: Any) -> str | None:
    """Where ``manifest`` breaks schemas/index-manifest.schema.json, or None. The message
    names the field's position and the rule, never a value (jsonschema's own messages
    quote the value: a leak name, a path)."""
    import jsonschema

    error = jsonschema.exceptions.best_match(_manifest_validator().iter_errors(manifest))
    if error is None:
        return None
    where = "/".join(str(step)[:64] for step in error.absolute_path) or "the manifest"
    if error.validator == "required":  # the missing names are the schema's own
        missing = [name for name in error.validator_value if name not in error.instance]
        return f"{where} lacks {', '.join(missing)}"
    return f"{where} breaks its {error.validator!r} rule"


def check_compatible(manifest: dict[str, Any], key_id: str, where: str | Path) -> None:
    """Refuse, loudly, an index made with another key or other canonical forms."""
    if manifest["key_id"] != key_id:
        raise TriageError(f"index was made with key id {manifest['key_id']}, but the key "
                          f"given has key id {key_id}: every lookup would miss",
                          path=str(where))
    if manifest.get("canonical_forms") != dict(FORMS):
        raise TriageError("index uses other canonical-form versions than this triage "
                          f"({manifest.get('canonical_forms')} vs {dict(FORMS)})", path=str(where))


def leak_partitions(entry: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    """A manifest leak entry's prefix digits and partitions (file, starts, identifiers,
    bytes, sha256), in digest order; a format-1 entry is one partition."""
    if "partitions" in entry:
        digits, partitions = entry.get("prefix_digits"), entry["partitions"]
        # A lookup picks a partition by position: a count that does not match the
        # prefix would send it to the wrong one, or past the end.
        if (not isinstance(digits, int) or not 0 <= digits <= MAX_PREFIX_DIGITS
                or not isinstance(partitions, list) or len(partitions) != 16 ** digits):
            raise TriageError(f"the manifest's entry of leak {str(entry.get('leak_id'))[:64]} "
                              "has partitions that do not match its prefix digits")
        return digits, partitions
    folder = entry["file"].rsplit("/", 1)[0]
    return 0, [{"file": entry["file"], "starts": f"{folder}/{STARTS_FILE}",
                "identifiers": entry["identifiers"], "bytes": entry["bytes"],
                "sha256": entry["sha256"]}]


def partition_of(digest: bytes, digits: int) -> int:
    """The partition holding ``digest`` in a leak of ``digits`` prefix digits."""
    return int.from_bytes(digest[:8], "big") >> (64 - 4 * digits) if digits else 0


def prefix_digits(identifiers: int) -> int:
    """Hex digits of the partition prefix for a leak of ``identifiers``: the fewest
    that keep partitions to about PARTITION_ROWS. A function of the count only, so one
    machine and a cluster cut a leak alike."""
    digits = 0
    while identifiers > PARTITION_ROWS << (4 * digits) and digits < MAX_PREFIX_DIGITS:
        digits += 1
    return digits


def partition_bounds(entries: pl.DataFrame, digits: int) -> list[int]:
    """Row offsets of each partition in digest-sorted ``entries``, and the end."""
    firsts = np.arange(16 ** digits, dtype=np.uint64) << np.uint64(64 - 4 * digits) \
        if digits else np.zeros(1, dtype=np.uint64)
    starts = np.searchsorted(entries["hi"].to_numpy(), firsts, side="left")
    return [*(int(s) for s in starts), entries.height]


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
    kinds = entries["kind"]
    # An Enum (resolved people's kinds) is already dictionary-encoded, over every kind of
    # the leak; strings are encoded here, over the kinds they hold.
    kind_array = (kinds.to_arrow() if isinstance(kinds.dtype, pl.Enum)
                  else pc.dictionary_encode(kinds.cast(pl.String).to_arrow().cast(pa.string())))
    return pa.table({
        "digest": digest_array,
        "kind": kind_array.cast(ARROW_SCHEMA.field("kind").type),
        "person": pa.array(entries["person"].to_numpy().astype(np.uint32)),
        "categories": pa.array(entries["categories"].to_numpy().astype(np.uint64)),
        "first_seen": entries["first_seen"].to_arrow().cast(pa.date32()),
        "last_seen": entries["last_seen"].to_arrow().cast(pa.date32()),
    }, schema=ARROW_SCHEMA)


def _write_partition(store: _Store, leak_id: str, prefix: str,
                     entries: pl.DataFrame) -> dict[str, Any]:
    """One partition's Parquet file and row-group starts; returns its manifest facts."""
    sink = pa.BufferOutputStream()
    # The digests are random bytes: compressing them would only cost time, so only
    # the other columns are compressed. Kinds and category sets repeat, so they are
    # dictionary-encoded; dates as well cost the 2M-row lab export's partitions ~17 %
    # more time to write and made them larger (a person's first and last days vary
    # too much for a dictionary; zstd alone does as well).
    compression = {name: "zstd" for name in ARROW_SCHEMA.names} | {"digest": "none"}
    pq.write_table(_arrow_table(entries), sink, row_group_size=ROW_GROUP_ROWS,
                   compression=compression, use_dictionary=["kind", "categories"],
                   write_statistics=False, store_schema=False)
    data = sink.getvalue().to_pybytes()
    suffix = f"-{prefix}" if prefix else ""
    file = f"leaks/{leak_id}/identifiers{suffix}.parquet"
    starts = f"leaks/{leak_id}/row-group-starts{suffix}.bin"
    store.put(file, data)
    store.put(starts, digests_of(entries)[::ROW_GROUP_ROWS].tobytes())
    return {"file": file, "starts": starts, "identifiers": entries.height,
            "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def write_partitions(dest: str, leak_id: str, digits: int, entries: pl.DataFrame,
                     bounds: Sequence[int], first: int = 0) -> list[dict[str, Any]]:
    """Partitions ``first``, ``first + 1``... of a leak, from its digest-sorted entries:
    partition ``first + i`` is ``entries[bounds[i]:bounds[i + 1]]``.

    The one writer of index files: :func:`add_leak` runs it here over the whole leak,
    the cluster's workers over a group of partitions each; the files are the same.
    """
    store = open_store(dest)

    def write(job: tuple[int, tuple[int, int]]) -> dict[str, Any]:
        i, (start, end) = job
        return _write_partition(store, leak_id, f"{first + i:0{digits}x}" if digits else "",
                                entries.slice(start, end - start))

    jobs = list(enumerate(pairwise(bounds)))
    try:
        # Encoding and compressing a partition releases the GIL: partitions are written
        # on all cores (16 partitions of 3.8M identifiers: ~0.6 s on one thread).
        with ThreadPoolExecutor(max(1, min(len(jobs), os.cpu_count() or 1))) as pool:
            return list(pool.map(write, jobs))
    except OSError as exc:
        raise TriageError(f"cannot write the index ({type(exc).__name__})",
                          path=store.shown) from None


_writer: ContextVar[PartitionWriter | None] = ContextVar("triage_partition_writer",
                                                         default=None)


@contextmanager
def partition_writer(writer: PartitionWriter) -> Iterator[None]:
    """Within the block, :func:`add_leak` has ``writer`` write the partition files (a
    cluster: its workers) instead of writing them here; the manifest stays here."""
    token = _writer.set(writer)
    try:
        yield
    finally:
        _writer.reset(token)


def add_leak(index_dir: str | Path, key_id: str, leak: dict[str, Any],
             entries: pl.DataFrame) -> dict[str, Any]:
    """Append one leak (``entries``: kind, hi, lo, person, categories, first/last_seen)
    to the index at a local path or fsspec URL; returns the manifest."""
    store = open_store(index_dir)
    leak_id = leak["leak_id"]
    if not _LEAK_ID.fullmatch(leak_id):
        raise TriageError("leak id must be 1-64 letters, digits, '.', '_' or '-'")
    hi = entries["hi"]
    if not (hi.is_sorted() and hi.n_unique() == len(hi)):  # the collector's come sorted
        entries = entries.sort("hi", "lo")
    digits = prefix_digits(entries.height)
    write = _writer.get() or write_partitions
    try:
        with store.locked():
            manifest = _manifest_to_append(store, key_id, leak_id)
            # A folder of a leak the manifest does not list was left by an interrupted
            # write: it is not in the index, and is written over.
            store.remove(f"leaks/{leak_id}")
            partitions = write(store.url, leak_id, digits, entries,
                               partition_bounds(entries, digits))
            _check_written(store, partitions, entries.height)
            manifest["leaks"].append({
                **leak, "added": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "identifiers": entries.height, "bytes": sum(p["bytes"] for p in partitions),
                "row_group_rows": ROW_GROUP_ROWS, "prefix_digits": digits,
                "partitions": partitions})
            # A format-1 index becomes format 2 with its first partitioned leak; its
            # other entries are left as they are (leak_partitions reads both).
            manifest["format_version"] = FORMAT_VERSION
            store.replace(MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode("utf-8"))
    except OSError as exc:
        raise TriageError(f"cannot write the index ({type(exc).__name__})",
                          path=store.shown) from None
    return manifest


def _manifest_to_append(store: _Store, key_id: str,
                        leak_id: str) -> dict[str, Any]:
    if store.size(MANIFEST) is None:
        return empty_manifest(key_id)
    manifest = _read_manifest(store)
    check_compatible(manifest, key_id, store.shown)
    # Compared ignoring case: on a case-insensitive filesystem (macOS, SMB) two such ids
    # share a folder, which add_leak would clear as debris, with the listed leak's files.
    if any(entry["leak_id"].lower() == leak_id.lower() for entry in manifest["leaks"]):
        raise TriageError(f"leak id {leak_id} is already in this index (ids differing only "
                          "in case are one); an index only grows, use a new leak id",
                          path=store.shown)
    return manifest


def _check_written(store: _Store, partitions: list[dict[str, Any]],
                   identifiers: int) -> None:
    """Every partition is where the manifest will say, as large as its writer said: files
    written by other machines to a path they do not share with this one are not."""
    expected = [(p["file"], p["bytes"]) for p in partitions] + [
        (p["starts"], -(-p["identifiers"] // ROW_GROUP_ROWS) * DIGEST_BYTES) for p in partitions]
    if sum(p["identifiers"] for p in partitions) != identifiers or any(
            store.size(name) != size for name, size in expected):
        raise TriageError("the index files written for this leak are not all visible here: "
                          "the index must be on storage that this machine and every worker "
                          "share", path=store.shown)


def leak_entry(manifest: dict[str, Any], leak_id: str, where: str | Path) -> dict[str, Any]:
    for entry in manifest["leaks"]:
        if entry["leak_id"] == leak_id:
            return entry
    raise TriageError(f"no leak {leak_id} in this index", path=str(where))
