"""What runs on the workers: pure functions from a path (and a plan) to a partial state,
and the writing of index partitions.

Every scan task reads its input from the path it is given and its HMAC key from the
worker's own file or environment (:class:`KeyRef` carries only a path and a key id),
and returns a state that has left its key behind (see
``IdentityCollector.__getstate__``). A scan task has no side effect, so a task lost
with its worker is simply computed again, and each result is merged exactly once.
The one task with a side effect, writing index partitions, writes files that no one
reads until the client lists them in the manifest, and writes the same bytes each
time it runs.
"""

from __future__ import annotations

import functools
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from triage.cluster.split import ByteRange, RangeReader, decoded_length
from triage.detect import TableDetector
from triage.errors import TriageError
from triage.frames import ArrowColumns, from_arrow_columns
from triage.identity.index import write_partitions
from triage.identity.keys import HmacKey, load_hmac_key
from triage.pipeline import SourceResult
from triage.profile import TableProfile
from triage.scan import (
    ScanResult,
    SourcePlan,
    SourceScan,
    confirmed_columns,
    file_facts,
    identity_feeder,
    scan,
)
from triage.sources import ReadOptions, RowAccounting, SourceInfo, open_sources, reading_options
from triage.sources.delimited import DelimitedSource


class TaskFailed(Exception):
    """A task's failure as it may be logged by Dask: its type, never its message."""


def _quoting_nothing(task):  # type: ignore[no-untyped-def]
    """Dask logs a failed task's exception text on the worker, and a parser's message
    can quote row content: only TriageError (built to name positions, never content)
    passes through; anything else is reduced to its type, unless TRIAGE_DEBUG=1 is set
    on the worker, as on the command line."""

    @functools.wraps(task)
    def run(*args: Any, **kwargs: Any) -> Any:
        failure: BaseException
        try:
            return task(*args, **kwargs)
        except TriageError as exc:
            failure = exc
            # Its context is the parser's exception, which may quote a row.
            failure.__context__ = None
        except BaseException as exc:
            if isinstance(exc, (KeyboardInterrupt, SystemExit)) or \
                    os.environ.get("TRIAGE_DEBUG") == "1":
                raise
            failure = TaskFailed(f"{type(exc).__name__} in {task.__name__}")
        # Raised out here, with no context and no traceback of its making: Dask sends an
        # exception to the client pickled with both (tblib), and when they do not pickle
        # (a reader's TriageError for a RecursionError carries a thousand frames) it sends
        # Exception(repr) instead, which the CLI could only report as an internal error.
        raise failure.with_traceback(None) from None

    return run


@dataclass(frozen=True)
class KeyRef:
    """Where a worker finds the key (a path on the worker, or None: ``TRIAGE_HMAC_KEY``)
    and the id it must have. Never the key itself."""

    path: str | None
    key_id: str


@functools.lru_cache(maxsize=4)
def _load_key(path: str | None) -> HmacKey:
    return load_hmac_key(path)


def worker_key(ref: KeyRef) -> HmacKey:
    """The worker's own key, refused unless it is the client's (same key id)."""
    key = _load_key(ref.path)
    if key.key_id != ref.key_id:
        raise TriageError(f"a worker's HMAC key has key id {key.key_id}, the client's has "
                          f"{ref.key_id}: every worker needs the same key")
    return key


@dataclass
class FinishedSource:
    """One source, read and judged: what :class:`triage.scan.ScanResult` holds per source."""

    result: SourceResult
    scan: SourceScan


@_quoting_nothing
def scan_file(path: str, given: str, key_ref: KeyRef, region: str,
              options: ReadOptions) -> tuple[list[FinishedSource], dict[str, Any]]:
    """A whole input (a file, or an archive and all its members): the single-machine scan."""
    with reading_options(**asdict(options)), _errors_as_given(path, given):
        # The client resolves people once every file is in.
        done = scan([path], key=worker_key(key_ref), region=region, resolve_people_early=False)
    return _finished(done, path, given), done.files[0]


@_quoting_nothing
def scan_members(path: str, given: str, members: tuple[int, ...], key_ref: KeyRef,
                 region: str, options: ReadOptions) -> list[FinishedSource]:
    """A share of a zip's members (``archive.leaf_zip``): the single-machine scan of just
    those; the archive's SHA-256 is taken once, by the client or ``file_facts_of``."""
    with reading_options(**asdict(options)), _errors_as_given(path, given):
        done = scan([path], key=worker_key(key_ref), region=region, hash_inputs=False,
                    resolve_people_early=False,
                    open_input=functools.partial(open_sources, zip_members=members))
    return _finished(done, path, given)


def _finished(done: ScanResult, path: str, given: str) -> list[FinishedSource]:
    finished = []
    for result in done.results:
        state = done.scans[result.info.name]
        as_given(result.info, path, given)
        finished.append(FinishedSource(result, state))
    return finished


@contextmanager
def _errors_as_given(path: str, given: str) -> Iterator[None]:
    """A TriageError naming the input by the absolute path the worker opened names it as
    the user typed it instead: the user reads the line one machine would have given."""
    try:
        yield
    except TriageError as exc:
        text, where = str(exc), str(exc.path)
        if where.startswith(path) and text.startswith(where):
            exc.path = given + where[len(path):]
            exc.args = (exc.path + text[len(where):],)
        raise


def as_given(info: SourceInfo, path: str, given: str) -> None:
    """Name a source by the path the user typed (the worker opened it by absolute path),
    so that every output names it as one pass would."""
    if info.name.startswith(path):  # the file, or one of its members or tables
        info.name = given + info.name[len(path):]
    if info.path == path:
        info.path = given


@_quoting_nothing
def file_facts_of(path: str) -> dict[str, Any]:
    """Name, size and SHA-256 of an input read in parts or shares, for a remote cluster
    (other tasks read it; a local cluster's client hashes the file itself)."""
    return file_facts(Path(path))


@dataclass
class SourcePart:
    """The state of consecutive parts of one split source.

    Row accounting positions (line, byte offset) are relative to the first part's
    start; ``newlines`` and ``decoded_bytes`` measure the parts in the reader's units,
    so merging shifts the right-hand positions by the left-hand extent.
    """

    info: SourceInfo
    accounting: RowAccounting
    profile: TableProfile
    scan: SourceScan
    newlines: int = 0
    decoded_bytes: int = 0
    #: Indexes of the byte ranges this state covers, consecutive.
    parts: list[int] = field(default_factory=list)


@_quoting_nothing
def scan_part(part: ByteRange, given: str, plan: SourcePlan, key_ref: KeyRef, region: str,
              options: ReadOptions) -> SourcePart:
    """One byte range of a split delimited file, hashed by the client's plan."""
    opened = next(iter(open_sources(part.path, options)))
    as_given(opened.info, part.path, given)
    if not isinstance(opened, DelimitedSource):
        raise TriageError("changed while it was being scanned", path=given)
    reader = RangeReader(part, opened.dialect.encoding)
    # A later part is read after the header alone: the title block above it is the
    # first part's to count.
    dialect = opened.dialect if part.start == 0 else replace(opened.dialect, preamble_lines=0,
                                                             preamble_rows=0)
    source = DelimitedSource(_RangeMember(reader), opened.info, dialect,
                             chunk_bytes=opened.chunk_bytes,
                             max_record_bytes=opened.max_record_bytes)
    # The first batch's types are the file's types so far: each part starts from them.
    profile = TableProfile(plan.column_types)
    state = SourceScan()
    state.begin(plan, worker_key(key_ref), region)
    with identity_feeder() as feed:
        for batch in source.batches():
            profile.update(batch)
            state.detector.update(batch, profile.batch_row_hashes)
            feed(state, batch, profile)
    if part.header is not None:
        # The header record read before the part moved every position by its extent.
        header_start, header_end = part.header
        with open(part.path, "rb") as handle:
            handle.seek(header_start)
            header = handle.read(header_end - header_start)
        _shift(source.accounting, -header.count(b"\n"),
               -decoded_length(header, opened.dialect.encoding))
    return SourcePart(opened.info, source.accounting, profile, state,
                      reader.newlines, reader.decoded_bytes, [part.index])


@_quoting_nothing
def merge_parts(left: SourcePart, right: SourcePart, *, last: bool = False) -> SourcePart:
    """The state of ``left``'s rows followed by ``right``'s (adjacent parts, in order).

    ``last``: the client's merges, just before the verdict and the people: the identity
    tuples are not compacted (see ``IdentityCollector.merge``), since no merge in a
    worker follows and the union-find takes repeated tuples as they are."""
    if left.parts[-1] + 1 != right.parts[0]:
        raise ValueError("only adjacent parts merge: positions and samples follow file order")
    accounting = RowAccounting(**{**right.accounting.__dict__,
                                  "regions": [dict(r) for r in right.accounting.regions]})
    _shift(accounting, left.newlines, left.decoded_bytes)
    identity = None
    if left.scan.identity is not None and right.scan.identity is not None:
        identity = left.scan.identity.merge(right.scan.identity, compact=not last)
    scan_state = SourceScan(detector=left.scan.detector.merge(right.scan.detector),
                            identity=identity, months=left.scan.months + right.scan.months,
                            event_columns=left.scan.event_columns,
                            part_rows=_summed(left.scan.part_rows, right.scan.part_rows))
    return SourcePart(left.info, left.accounting.merge(accounting),
                      left.profile.merge(right.profile), scan_state,
                      left.newlines + right.newlines, left.decoded_bytes + right.decoded_bytes,
                      left.parts + right.parts)


def _summed(left: Counter[str], right: Counter[str]) -> Counter[str]:
    """``left`` and ``right`` added as one pass's ``update`` adds them (``+`` would drop
    the zero counts)."""
    total = Counter(left)
    total.update(right)
    return total


@_quoting_nothing
def finish_part(whole: SourcePart) -> FinishedSource:
    """Final verdicts of a split source, and its digests restricted to the confirmed columns."""
    state = whole.scan
    state.findings = state.detector.finish()
    planned = state.identity.column_categories if state.identity is not None else {}
    confirmed = confirmed_columns(state.findings, planned)
    if state.identity is not None:
        state.identity.restrict(set(confirmed), confirmed)
    state.detector = TableDetector([])  # its row sample is not needed any more
    return FinishedSource(SourceResult(whole.info, whole.accounting, whole.profile), state)


@_quoting_nothing
def write_index_partitions(dest: str, leak_id: str, digits: int, entries: ArrowColumns,
                           bounds: list[int], first: int) -> list[dict[str, Any]]:
    """Consecutive index partitions of a leak, from their entries (digests, person numbers,
    categories, dates: no key, no plaintext; as Arrow arrays, which travel without a
    copy), written by this worker to ``dest``.

    Writing the same partition twice writes the same bytes, so a task run again after
    its worker was lost leaves the index as one run would.
    """
    return write_partitions(dest, leak_id, digits, from_arrow_columns(entries), bounds, first)


def _shift(accounting: RowAccounting, lines: int, offset: int) -> None:
    for region in accounting.regions:
        if "line" in region:
            region["line"] += lines
        if "byte_offset" in region:
            region["byte_offset"] += offset


class _RangeMember:
    """What DelimitedSource needs of a Member: a stream of the part's bytes."""

    def __init__(self, reader: RangeReader) -> None:
        self._reader = reader

    def open(self, report: Any = None) -> RangeReader:
        return self._reader
