"""``triage scan``: one read of the dump feeds profile, detection, identity and the summary.

Detection and identity ride the pipeline's single pass. Hashing identifiers must
start before detection has seen the whole file, so after each source's first
batch the detector's *provisional* verdict names the identifier columns; every
batch (the first included) is hashed for those; at the end the final verdict
restricts the digests and exposures to the confirmed columns.

Without an HMAC key, people are still counted (people, not rows, are the headline
figure) with a random key that lives in memory for this run only; no index is
written then.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from triage import __version__
from triage.detect import ColumnFinding, TableDetector, findings_document
from triage.detect.mixed import mixture_of, part_values
from triage.identity.collector import (
    EarlyDigests,
    IdentifierPlan,
    IdentityCollector,
    LeakPeople,
    resolve_early,
    resolve_leak,
    row_event_dates,
    write_leak_index,
)
from triage.identity.keys import HmacKey
from triage.pipeline import SourceResult, run
from triage.profile import TableProfile
from triage.profile.types import InferredType, TimesRead
from triage.report.geography import packed_view
from triage.resources import categories as taxonomy
from triage.sources import Source, open_sources
from triage.worker import BackgroundWorker

#: Categories hashed one column at a time, as the identity layer's kinds.
SINGLE_IDENTIFIERS = ("email", "phone", "national_id", "health_insurance_id")
#: Threads preparing identity tuples beside the profile. On 2 cores, 1M rows of the
#: megabus scenario scan in ~13.1 s with 1, ~11.7 s with 2, ~10.7 s with 3: each call
#: alternates GIL-bound Python with polars work, so more calls in flight keep both
#: cores busier. Batches in flight (these plus the queue's two) bound the memory.
IDENTITY_THREADS = 3
#: Categories that make the name + birth-date composite, by role.
COMPOSITE_ROLES = ("full_name", "first_name", "last_name", "birth_date")


@dataclass(frozen=True)
class SourcePlan:
    """What a source's first batch decides for its whole pass: column names, kinds and
    formats only, never a value, so it can be shipped to every part of a split source."""

    identifiers: dict[str, IdentifierPlan]
    exposures: dict[str, str]
    events: dict[str, str | None]
    #: column -> (category, subtype) of the provisional verdicts geography derives from.
    geography: dict[str, tuple[str | None, str | None]]
    #: column -> the type its first batch established (a kind and formats, no value).
    column_types: dict[str, InferredType] = field(default_factory=dict)
    #: derived column -> the mixed column it splits and the part it keeps (see row_parts).
    splits: dict[str, RowPart] = field(default_factory=dict)

    @classmethod
    def from_first_batch(cls, provisional: Mapping[str, ColumnFinding],
                         profile: TableProfile) -> SourcePlan:
        identifiers, exposures, events = identity_plan(provisional, profile)
        geography = {name: (f.category, f.subtype) for name, f in provisional.items()
                     if f.category in ("postcode", "national_id", "phone") and not f.mixed_with}
        types = {name: column.type for name, column in profile.columns.items()}
        splits = {derived: part for finding in provisional.values()
                  for derived, part in row_parts(finding).items()}
        return cls(identifiers, exposures, events, geography, types, splits)


@dataclass(frozen=True)
class RowPart:
    """The rows of one part of a mixed column: ``column``'s values of ``category``,
    among the mixture of ``parts`` (``triage.detect.mixed``)."""

    column: str
    category: str
    parts: tuple[str, ...]

    def values(self) -> pl.Expr:
        return part_values(mixture_of(self.parts), self.category, pl.col(self.column))


@dataclass(frozen=True)
class _Verdict:
    """The part of a finding that geography needs."""

    category: str | None
    subtype: str | None


@dataclass
class SourceScan:
    """Everything one source's batches feed, besides the profile."""

    detector: TableDetector = field(default_factory=TableDetector)
    identity: IdentityCollector | None = None
    months: Counter[str] = field(default_factory=Counter)
    event_columns: dict[str, str | None] = field(default_factory=dict)
    #: derived column -> the column it comes from (see geography_views).
    geography: dict[str, str] = field(default_factory=dict)
    findings: list[ColumnFinding] = field(default_factory=list)
    region: str = "FR"
    #: derived column -> the part of a mixed column it holds (see RowPart).
    splits: dict[str, RowPart] = field(default_factory=dict)
    #: derived column -> rows that held its part (non-blank values of that kind).
    part_rows: Counter[str] = field(default_factory=Counter)

    def begin(self, plan: SourcePlan, key: HmacKey, region: str) -> None:
        """Start hashing and counting by ``plan``, before the first batch is fed."""
        verdicts = {name: _Verdict(*kinds) for name, kinds in plan.geography.items()}
        self.geography = geography_views(verdicts, region)
        self.identity = IdentityCollector(key, plan.identifiers, region, plan.exposures,
                                          plan.events, attributes=list(self.geography))
        self.event_columns = dict(plan.events)
        self.region = region
        self.splits = dict(plan.splits)

    def prepare(self, batch: pl.DataFrame,
                times: Mapping[str, TimesRead] | None = None) -> _Prepared:
        """The batch's share of identity and months; changes nothing, so several
        batches can be prepared at once on several threads. ``times``: the profile's
        ``batch_times`` for this batch (date columns it already read)."""
        assert self.identity is not None
        present: list[pl.Series | pl.Expr] = [
            packed_view(name.removeprefix(_DERIVED), batch[column]).alias(name)
            for name, column in self.geography.items() if column in batch.columns]
        parts = [name for name, part in self.splits.items() if part.column in batch.columns]
        present += [self.splits[name].values().alias(name) for name in parts]
        # Event dates are parsed once, with the formats the plan fixed for the whole
        # source (so every part of a split source reads them alike), for both the
        # month histogram and each person's first and last seen.
        first, last = row_event_dates(batch, self.event_columns, self.region, times)
        batch = batch.with_columns(present) if present else batch
        tuples = self.identity.tuples_of(batch, dates=(first, last))
        part_rows = Counter({name: batch.height - batch[name].null_count() for name in parts})
        return _Prepared(batch.height, tuples, _month_counts(first), part_rows)

    def commit(self, prepared: _Prepared) -> None:
        """Take in a prepared batch; calls must not overlap (batches may come in any order)."""
        assert self.identity is not None
        self.identity.add(prepared.tuples, prepared.rows)
        self.months.update(prepared.months)
        self.part_rows.update(prepared.part_rows)


@dataclass(frozen=True)
class _Prepared:
    rows: int
    tuples: pl.DataFrame | None
    months: Counter[str]
    part_rows: Counter[str]


#: Derived columns handed to the identity collector start with a NUL, so they can
#: never collide with a column of the dump.
_DERIVED = "\0"


def geography_views(findings: Mapping[str, ColumnFinding | _Verdict],
                    region: str) -> dict[str, str]:
    """Derived column (a summary view's name) -> the first fitting column it comes from.

    France: département from the postcode, and of birth from the NIR; United States:
    state from the ZIP code; elsewhere: country from phone numbers written in E.164.
    """
    views: dict[str, str] = {}
    for name, finding in findings.items():
        if finding.category == "postcode" and region == "FR":
            views.setdefault("fr_departement_postcode", name)
        elif finding.category == "postcode" and region == "US":
            views.setdefault("us_state", name)
        elif finding.category == "national_id" and finding.subtype == "fr_nir":
            views.setdefault("fr_departement_nir", name)
        elif finding.category == "phone" and region not in ("FR", "US"):
            views.setdefault("country_phone", name)
    return {f"{_DERIVED}{view}": column for view, column in views.items()}


def part_column(column: str, category: str) -> str:
    """The derived column that holds the rows of ``category`` of a mixed ``column``."""
    return f"{_DERIVED}{category}:{column}"


def row_parts(finding: ColumnFinding) -> dict[str, RowPart]:
    """A mixed column's parts, by derived column; none for a column of one kind."""
    if not finding.mixed_with:
        return {}
    return {part_column(finding.name, category): RowPart(finding.name, category,
                                                         finding.categories)
            for category in finding.categories}


def identity_columns(finding: ColumnFinding) -> dict[str, str]:
    """The columns identity reads for a finding -> their category: the column itself,
    or, for a mixed column, one derived column per part, so that each row is hashed,
    indexed and counted as its own kind."""
    if finding.category is None:
        return {}
    if not finding.mixed_with:
        return {finding.name: finding.category}
    return {name: part.category for name, part in row_parts(finding).items()}


def confirmed_columns(findings: Iterable[ColumnFinding],
                      planned: Mapping[str, str]) -> dict[str, str]:
    """What the final verdicts keep of the plan the first batch's made (``planned``:
    column -> the category it was read as), column -> category.

    A column the final verdict finds mixed is kept only if it was planned as one of
    its parts, and keeps that category: its rows were hashed as that kind, and the
    other part's rows, which that kind's canonical form refused, are lost (the first
    batch showed none of them). Each derived column of a part the verdict still
    holds is kept, whichever way the first batch planned."""
    confirmed: dict[str, str] = {}
    for finding in findings:
        if finding.category is None:
            continue
        if not finding.mixed_with:
            confirmed[finding.name] = finding.category
        elif planned.get(finding.name) in finding.categories:
            confirmed[finding.name] = planned[finding.name]
        confirmed.update({part_column(finding.name, category): category
                          for category in finding.categories})
    return confirmed


def identity_plan(findings: Mapping[str, ColumnFinding],
                  profile: TableProfile) -> tuple[dict[str, IdentifierPlan], dict[str, str],
                                                  dict[str, str | None]]:
    """(identifier plan, column -> category for exposures, event-date column -> format)."""
    plan: dict[str, IdentifierPlan] = {}
    exposures: dict[str, str] = {}
    events: dict[str, str | None] = {}
    roles_taken: set[str] = set()
    for finding in findings.values():
        for name, category in identity_columns(finding).items():
            exposures[name] = category
            if category in SINGLE_IDENTIFIERS:
                plan[name] = IdentifierPlan.single(category, finding.detector)
            elif category in COMPOSITE_ROLES and category not in roles_taken:
                roles_taken.add(category)
                plan[name] = IdentifierPlan("name_birth", (category,), role=category,
                                            date_format=_single_format(profile, name),
                                            month_first=_month_first(finding))
            elif category == "event_date":
                events[name] = _single_format(profile, name)
    if "birth_date" not in roles_taken:
        # A composite needs a birth date: names alone identify nobody for counting.
        plan = {n: p for n, p in plan.items() if p.kind != "name_birth"}
    return plan, exposures, events


def _month_first(finding: ColumnFinding) -> bool | None:
    """The day/month order detection settled for a birth-date column's legacy dates."""
    order = finding.evidence.get("values", {}).get("day_month_order")
    return None if order is None else order == "month_first"


def _single_format(profile: TableProfile, column: str) -> str | None:
    column_profile = profile.columns.get(column)
    if column_profile is None or len(column_profile.type.formats) != 1:
        return None
    (fmt,) = column_profile.type.formats
    return fmt if "%" in fmt else None


def _month_counts(first_dates: pl.Series) -> Counter[str]:
    """Rows per month of their earliest event date (a row counts once, whatever its
    number of event-date columns: a visit with sampling, reception and validation
    dates is one event)."""
    # Counted by month first, then only the distinct months are formatted (formatting
    # every row cost ~8 ms per 28k-row batch).
    counts = first_dates.drop_nulls().dt.month_start().value_counts()
    # Not strftime: glibc writes the year 999 as "999", not "0999".
    return Counter({f"{month.year:04d}-{month.month:02d}": n
                    for month, n in counts.iter_rows()})


def file_facts(path: Path) -> dict[str, Any]:
    """Name, size and SHA-256 of an input file (a raw read, no parsing)."""
    with open(path, "rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    return {"name": path.name, "size": path.stat().st_size, "sha256": digest}


class FileHasher(threading.Thread):
    """Hashes the input files beside the pass, at the lowest CPU priority: its raw read
    trails the parse's, so the disk is read once and the page cache serves the other;
    it takes only the CPU the pass leaves idle; what is left of it runs while the
    people are resolved, because nothing waits for it before the summary (a local
    cluster's client hashes split files so while its workers read their parts)."""

    def __init__(self, paths: list[Path]) -> None:
        super().__init__(name="triage-sha256", daemon=True)
        self.paths = paths
        self._facts: list[dict[str, Any]] = []
        self._error: BaseException | None = None

    def run(self) -> None:
        _lowest_priority()
        try:
            self._facts = [file_facts(p) for p in self.paths]
        except BaseException as exc:  # noqa: BLE001 - re-raised by facts()
            self._error = exc

    def facts(self) -> list[dict[str, Any]]:
        """Each file's :func:`file_facts`, once hashed; re-raises a failed read."""
        self.join()
        if self._error is not None:
            raise self._error
        return self._facts


def _lowest_priority() -> None:
    """Give the calling thread the lowest CPU priority, where a thread has its own."""
    if sys.platform == "linux":  # elsewhere setpriority would renice the whole process
        with suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


@dataclass
class ScanResult:
    results: list[SourceResult]
    scans: dict[str, SourceScan]
    #: Waits for the input files' facts (name, size, SHA-256) and returns them; asked
    #: when first needed, since the hashing may still be running when the pass ends.
    hashed_files: Callable[[], list[dict[str, Any]]]
    key: HmacKey
    keyed: bool
    scanned_at: str
    #: resolve_early of the collectors, made while the verdicts were (None: not made).
    early_digests: EarlyDigests | None = field(default=None, repr=False)

    _leak_people: LeakPeople | None = field(default=None, init=False, repr=False)
    _files: list[dict[str, Any]] | None = field(default=None, init=False, repr=False)

    @property
    def files(self) -> list[dict[str, Any]]:
        if self._files is None:
            self._files = self.hashed_files()
        return self._files

    def collectors(self) -> list[IdentityCollector]:
        return [s.identity for s in self.scans.values() if s.identity is not None]

    def leak_people(self) -> LeakPeople:
        """People across every source, resolved once for the summary and the index."""
        if self._leak_people is None:
            self._leak_people = resolve_leak(self.collectors(), self.early_digests)
            self.early_digests = None  # its arrays now live in the people, or not at all
        return self._leak_people

    def profile_document(self) -> dict[str, Any]:
        from triage.pipeline import profile_document

        return profile_document(self.results)

    def findings_document(self) -> dict[str, Any]:
        docs = [findings_document(r.info.name, self.scans[r.info.name].findings,
                                  rows=r.accounting.parsed) for r in self.results]
        if len(docs) == 1:
            return {"triage_version": __version__, **docs[0]}
        return {"triage_version": __version__, "sources": docs}


@contextmanager
def identity_feeder() -> Iterator[Callable[[SourceScan, pl.DataFrame, TableProfile], None]]:
    """``feed(state, batch, profile)``: identity and months for a batch, behind the
    profile (which has just read it: its date columns are not read again).

    Batches are prepared on IDENTITY_THREADS threads of their own (their polars and
    HMAC work releases the GIL) and committed under one lock; the order they are
    taken in does not matter to the state. Leaving the block waits for all of them.
    """
    committing = threading.Lock()

    def prepare_and_commit(state: SourceScan, batch: pl.DataFrame,
                           times: Mapping[str, TimesRead]) -> None:
        prepared = state.prepare(batch, times)
        with committing:
            state.commit(prepared)

    with BackgroundWorker(threads=IDENTITY_THREADS, name="triage-identity") as stage:
        # The profile's batch_times is new for each batch, so the worker keeps this one.
        yield lambda state, batch, profile: stage.submit(prepare_and_commit, state, batch,
                                                         profile.batch_times)


def scan(paths: Iterable[str | Path], *, key: HmacKey | None, region: str = "FR",
         progress: bool = False, open_input: Callable[[Path], Iterable[Source]] = open_sources,
         hash_inputs: bool = True, resolve_people_early: bool = True) -> ScanResult:
    """One pass over ``paths``. ``open_input`` and ``hash_inputs=False`` are for a
    cluster task that reads a share of an archive (the file's SHA-256 is taken once,
    elsewhere); ``resolve_people_early=False`` for any cluster task, whose people are
    resolved once every share is in."""
    paths = [Path(p) for p in paths]
    keyed = key is not None
    # Without a key, people are counted under a key that never leaves this process.
    key = key if key is not None else HmacKey(os.urandom(32))
    scans: dict[str, SourceScan] = {}
    hasher = FileHasher([p for p in paths if p.is_file()] if hash_inputs else [])
    hasher.start()

    def on_batch(source: Source, batch: pl.DataFrame, profile: TableProfile,
                 first: bool) -> None:
        state = scans.setdefault(source.info.name, SourceScan())
        state.detector.update(batch, profile.batch_row_hashes)
        # A table that comes back later in a dump (a second source of the same name)
        # continues its state: same plan, same people.
        if first and state.identity is None:
            state.begin(SourcePlan.from_first_batch(state.detector.provisional(), profile),
                        key, region)
        feed(state, batch, profile)

    with identity_feeder() as feed:
        results = run(paths, progress=progress, on_batch=on_batch, open_input=open_input)
    collectors = [s.identity for s in scans.values() if s.identity is not None]
    with ThreadPoolExecutor(1) as other_core:
        # People hang on the digests alone: the kernel links them on the other core
        # (without the GIL) while the verdicts are made, which nearly always keep
        # every identifier column; resolve_leak checks that before taking them.
        early = (other_core.submit(resolve_early, [c.held() for c in collectors])
                 if resolve_people_early else None)
        for name in dict.fromkeys(r.info.name for r in results):
            state = scans.setdefault(name, SourceScan())
            state.findings = state.detector.finish()
            planned = state.identity.column_categories if state.identity is not None else {}
            confirmed = confirmed_columns(state.findings, planned)
            if state.identity is not None:
                state.identity.restrict(set(confirmed), confirmed)
        early_digests = early.result() if early is not None else None
    return ScanResult(results, scans, hasher.facts, key, keyed,
                      datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), early_digests)


def summary_facts(result: ScanResult, *, leak_id: str, leak_name: str,
                  circumstances: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The aggregated facts ``triage.report.build_summary`` turns into the summary."""
    leak_people = result.leak_people()
    rows = {"read": 0, "parsed": 0, "rejected": 0}
    for source in result.results:
        for name in rows:
            rows[name] += getattr(source.accounting, name)

    columns_by_category: dict[str, list[str]] = {}
    rows_by_category: Counter[str] = Counter()
    organisations = practitioners = 0
    for source in result.results:
        scan_state = result.scans[source.info.name]
        # Rows exposing a category: in each source, the fullest of its columns (a lower
        # bound when several columns are partly filled); summed over sources.
        source_rows: Counter[str] = Counter()
        for finding in scan_state.findings:
            if not finding.category:
                continue
            column = source.profile.columns.get(finding.name)
            non_blank = column.present - column.empty if column is not None else 0
            held_rows = _rows_by_part(finding, non_blank, scan_state)
            # A mixed column counts under the parts the pass read it as.
            for category in held_rows if finding.mixed_with else finding.categories:
                columns_by_category.setdefault(category, []).append(finding.name)
            if column is None:
                continue
            for category, held in held_rows.items():
                source_rows[category] = max(source_rows[category], held)
            distinct = column.to_dict()["distinct"]
            if finding.category == "organisation_id":
                organisations = max(organisations, distinct)
            elif finding.category in ("practitioner_id", "practitioner"):
                practitioners = max(practitioners, distinct)
        rows_by_category.update(source_rows)

    categories = []
    for category_id, columns in sorted(columns_by_category.items()):
        entry = taxonomy()["categories"][category_id]
        categories.append({
            "id": category_id,
            "people": leak_people.by_category.get(category_id, 0),
            "rows": rows_by_category[category_id],
            "special_category": bool(entry.get("special_category")),
            "gdpr_class": entry.get("gdpr_class", ""),
            "columns": columns,
        })

    months: Counter[str] = Counter()
    for state in result.scans.values():
        months.update(state.months)
    ordered = sorted(months)
    return {
        "leak": {"id": leak_id, "name": leak_name, "files": result.files,
                 "scanned_at": result.scanned_at, "triage_version": __version__},
        "rows": rows,
        "people": {"distinct": leak_people.distinct, "method": leak_people.method,
                   "by_identifier_kind": leak_people.by_kind},
        "categories": categories,
        "geography": {name.removeprefix(_DERIVED): counts
                      for name, counts in leak_people.attributes.items() if counts},
        "time": {"first": f"{ordered[0]}-01" if ordered else None,
                 "last": f"{ordered[-1]}-01" if ordered else None,
                 "by_month": dict(sorted(months.items()))},
        "sources": {"organisations": organisations, "practitioners": practitioners},
        "circumstances": dict(circumstances or {}),
    }


def _rows_by_part(finding: ColumnFinding, non_blank: int, state: SourceScan) -> dict[str, int]:
    """Rows holding each category of a column: its non-blank rows, or, for a mixed
    column the pass split, the rows of each part (rows of neither part count for
    none). A column planned as one kind and found mixed at the end was not split: its
    non-blank rows count for the kind it was read as."""
    if not finding.mixed_with:
        return {finding.category: non_blank}
    parts = {category: state.part_rows[name] for name, category
             in identity_columns(finding).items() if name in state.part_rows}
    if parts:
        return parts
    planned = state.identity.column_categories.get(finding.name) if state.identity else None
    return {planned: non_blank} if planned in finding.categories else {}


def write_index(result: ScanResult, index_dir: str | Path, *, leak_id: str, leak_name: str
                ) -> dict[str, Any]:
    """Append the scanned leak (all its sources, people linked across them) to an index
    (a local directory or an fsspec URL)."""
    rows = sum(r.accounting.parsed for r in result.results)
    resolved = result.leak_people()  # before the files' facts: resolving overlaps hashing
    return write_leak_index(result.collectors(), result.key.key_id, str(index_dir), leak_id,
                            leak_name, result.files, rows, resolved=resolved)
