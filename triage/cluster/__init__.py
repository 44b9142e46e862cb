"""``triage scan --cluster``: the same scan on Dask distributed, with the one-machine result.

The client plans (which inputs are split, and the identity plan of each split
file from its first batch), submits one task per input file or per byte range of a
large delimited file, merges the parts of each split file in a tree of
``merge_parts`` tasks on the workers down to one state, merges the last few parts
into it itself, and finishes the file.
People are then linked across sources on the client, exactly as one pass does; the
index's partitions are written by the workers, in parallel, and its manifest by the
client, once (see docs/cluster.md).

Dask is an optional extra: nothing here imports it before a cluster is asked for.
"""

from __future__ import annotations

import base64
import contextvars
import logging
import multiprocessing
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import CancelledError, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from triage.allocator import ALLOCATOR_ENV
from triage.cluster.split import SPLIT_BYTES, ByteRange, byte_ranges, member_shares, splittable
from triage.cluster.tasks import (
    FinishedSource,
    KeyRef,
    SourcePart,
    file_facts_of,
    finish_part,
    merge_parts,
    scan_file,
    scan_members,
    scan_part,
    write_index_partitions,
)
from triage.detect import TableDetector
from triage.errors import TriageError
from triage.frames import to_arrow_columns
from triage.identity.collector import resolve_early
from triage.identity.index import partition_writer, without_credentials
from triage.identity.keys import KEY_ENV, HmacKey
from triage.profile import TableProfile
from triage.scan import FileHasher, ScanResult, SourcePlan, write_index
from triage.sources import open_sources
from triage.sources.archive import leaf_zip
from triage.sources.delimited import DelimitedSource
from triage.sources.stream import ReadOptions, current_options

INSTALL_HINT = "the cluster mode needs Dask: pip install 'triage[cluster]'"
_LOCAL = re.compile(r"local(?::(\d+))?")


def require_distributed() -> Any:
    """The ``distributed`` module, or a one-line TriageError saying how to install it."""
    try:
        import distributed
    except ImportError:
        raise TriageError(INSTALL_HINT) from None
    return distributed


def is_local(address: str) -> bool:
    return _LOCAL.fullmatch(address) is not None


def max_local_workers() -> int:
    """The most workers ``local:N`` may start: one per CPU (a worker runs one task at a
    time on one core), and 2 on a one-CPU machine, the smallest cluster that splits
    work. local:1000 on 2 cores would start a thousand processes and never get going."""
    return max(2, os.cpu_count() or 1)


def local_workers(address: str) -> int | None:
    """How many workers ``local`` or ``local:N`` starts; None for a remote scheduler."""
    local = _LOCAL.fullmatch(address)
    if local is None:
        return None
    workers = int(local.group(1) or os.cpu_count() or 1)
    if workers < 1:
        raise TriageError("--cluster local:N needs N >= 1")
    if workers > (most := max_local_workers()):
        raise TriageError(f"--cluster local:N starts N worker processes on this machine: at "
                          f"most {most}, one per CPU (more only compete for the cores); for "
                          f"more workers, give the address of a Dask scheduler")
    return workers


@contextmanager
def _quiet_logs() -> Iterator[int]:
    """Dask's own log lines off (stderr) while the cluster runs, in this process and, via
    the level this yields for LocalCluster's ``silence_logs``, in its workers: a failed
    task would otherwise print "Compute Failed" and a traceback on every worker before
    the one line the CLI gives (a TriageError, or TaskFailed: an exception type). With
    TRIAGE_DEBUG=1, as for tracebacks, Dask's warnings and errors are shown (its own
    default level)."""
    if os.environ.get("TRIAGE_DEBUG") == "1":
        yield logging.WARNING
        return
    from distributed.utils import silence_logging_cmgr

    # Above CRITICAL: not even a critical message of Dask's reaches stderr.
    level = logging.CRITICAL + 1
    with silence_logging_cmgr(level), silence_logging_cmgr(level, root="bokeh"):
        yield level


@contextmanager
def connect(address: str, *, worker_env: dict[str, str] | None = None) -> Iterator[Any]:
    """A Client of the scheduler at ``address``, or of a local multi-process cluster
    (``local`` or ``local:N`` workers, on 127.0.0.1 only), closed on exit."""
    distributed = require_distributed()
    import dask  # installed with distributed

    workers = local_workers(address)
    if workers is not None:
        # One task at a time per worker, and the cores shared out between the workers'
        # polars pools: N pools of all cores each oversubscribe the machine (measured: a
        # 2M-row scan on 2 cores takes 40 s with two 2-thread pools, 29 s with 1 each).
        env = {"POLARS_MAX_THREADS": os.environ.get(
            "POLARS_MAX_THREADS", str(max(1, (os.cpu_count() or 1) // workers))),
            # Arrow's buffers from glibc's heap, which the scan has grown, rather than
            # from mimalloc, which a worker first uses when it writes its index
            # partitions: that task took 0.64-0.66 s with mimalloc and 0.36-0.44 s with
            # glibc on the 2M-row benchmark. (One process, whose Arrow pool the pass has
            # used, gains nothing and keeps Arrow's default.) Arrow reads the variable
            # when it is imported: a worker that imports it earlier, with the client's
            # main module, keeps mimalloc. A user's own choice stands.
            "ARROW_DEFAULT_MEMORY_POOL": os.environ.get("ARROW_DEFAULT_MEMORY_POOL") or "system",
            **(worker_env or {})}
        # Dask starts workers with MALLOC_TRIM_THRESHOLD_=65536, which also turns off
        # glibc's adaptive mmap threshold: every array over 128 KiB was then mapped and
        # unmapped afresh, and the workers of a 2M-row scan spent ~9 s more in the
        # kernel (page faults) than one process does. Local workers get the allocator
        # policy of the triage program instead, as one machine has.
        spawn_env = {name: value for name, value in
                     dask.config.get("distributed.nanny.pre-spawn-environ").items()
                     if not name.startswith("MALLOC_")} | ALLOCATOR_ENV
        # Workers forked from one server process that imported distributed (and
        # numpy...) once, rather than each spawned afresh to import them again: starting
        # them competes with planning for the cores. The scan of the 2M-row benchmark
        # took 9.44-9.80 s instead of 9.91-10.16 s (alternated four times). The server
        # starts with the first local cluster of the process, under the allocator
        # policy's environment, and its forks keep the policy; a forkserver that other
        # code started earlier would give the workers its own (slower, not wrong).
        method = ("forkserver" if "forkserver" in multiprocessing.get_all_start_methods()
                  else "spawn")
        # Reads wait at the scheduler until a worker is free, rather than one being
        # sent to each worker in advance (Dask queues tasks without dependencies
        # when there are more than twice as many as threads): a worker that ends a
        # read then takes the merge that became ready (merges are not queued; each is
        # sent to a worker at once), then the next read in the planned order. With one
        # read in advance, a merge waited behind it, and the last parts were read out
        # of order, by the worker that ended later.
        # Every server on loopback: the scheduler and the workers start HTTP servers
        # (health, metrics) even without a dashboard, on all interfaces unless told.
        with dask.config.set({"distributed.nanny.pre-spawn-environ": spawn_env,
                              "distributed.worker.multiprocessing-method": method,
                              "distributed.scheduler.worker-saturation": 1.0}), \
                _quiet_logs() as silence, \
                distributed.LocalCluster(n_workers=workers, threads_per_worker=1,
                                         processes=True, host="127.0.0.1",
                                         dashboard_address="127.0.0.1:0",
                                         worker_dashboard_address="127.0.0.1:0",
                                         env=env, silence_logs=silence) as cluster, \
                distributed.Client(cluster) as client:
            yield client
        return
    with _quiet_logs():  # the client's own lines (a remote cluster's workers log there)
        try:
            client = distributed.Client(address, timeout=30)
        except (OSError, TimeoutError, ValueError) as exc:
            raise TriageError(f"cannot reach the Dask scheduler ({type(exc).__name__})",
                              path=address) from None
        with client:
            yield client


@dataclass
class _Input:
    """One input file as the client plans it: split into parts (with the plan every
    part hashes by), a zip shared out by members, or read whole by one task."""

    given: str
    path: str
    parts: list[ByteRange] = field(default_factory=list)
    plan: SourcePlan | None = None
    #: A zip's members, in consecutive shares of one task each.
    shares: list[tuple[int, ...]] = field(default_factory=list)
    #: Links the walk of the whole zip skips: every member's SourceInfo shows them.
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def whole(self) -> bool:
        return not (self.parts or self.shares)


def plan_inputs(paths: Iterable[str | Path], split_bytes: int = SPLIT_BYTES,
                workers: int = 1) -> list[_Input]:
    """Which inputs are split, where (see ``split.part_targets``), and by which plan;
    which zips are shared out by members (``archive.leaf_zip``).

    A split file's plan comes from its first batch, exactly as one pass decides it;
    reading that batch is a second, small read (one 16 MiB chunk) on the client.
    """
    inputs = []
    for given in paths:
        path = Path(given)
        if not path.exists():
            raise TriageError("no such file", path=str(given))
        planned = _Input(str(given), str(path.resolve()))
        first = next(iter(open_sources(path.resolve())))
        if getattr(first.info, "container", None) == "zip" and \
                (zipped := leaf_zip(path.resolve(), current_options())) is not None:
            shares = member_shares(zipped.members, split_bytes)
            if len(shares) > 1:
                planned.shares, planned.skipped = shares, zipped.skipped
        elif splittable(first) and path.stat().st_size > split_bytes:
            parts = byte_ranges(first, split_bytes, workers)
            plan = _first_batch_plan(first) if len(parts) > 1 else None
            if plan is not None:
                planned.parts, planned.plan = parts, plan
        inputs.append(planned)
    return inputs


def _first_batch_plan(source: DelimitedSource) -> SourcePlan | None:
    batches = source.batches(read_ahead=False)
    try:
        batch = next(batches, None)
    finally:
        batches.close()  # type: ignore[attr-defined]
    if batch is None:
        return None
    profile, detector = TableProfile(), TableDetector()
    profile.update(batch)
    detector.update(batch, profile.batch_row_hashes)
    return SourcePlan.from_first_batch(detector.provisional(), profile)


def _options_without_password() -> ReadOptions:
    """The reading options the tasks get; refused when they hold an archive password."""
    options = current_options()
    if options.password is not None:
        raise TriageError("a cluster scan cannot open encrypted archives: the password "
                          "would travel in the task graph")
    return options


class ClusterScan:
    """Submits a scan's tasks to a Client and collects the finished sources.

    ``submit()`` only queues work (the scheduler holds the graph from then on);
    ``collect()`` waits and returns what :func:`triage.scan.scan` would.
    """

    #: Parts of a split file merged on the client rather than in the workers' tree:
    #: the last ones read (see ``submit``), at most four merges of ~0.01 s each.
    TAIL_PARTS = 4

    def __init__(self, client: Any, paths: Iterable[str | Path], *, key: HmacKey,
                 key_ref: KeyRef, keyed: bool, region: str = "FR",
                 split_bytes: int = SPLIT_BYTES, planned: list[_Input] | None = None,
                 hash_here: bool = False, direct: bool = False) -> None:
        """``planned``: ``plan_inputs(paths, split_bytes, workers)`` made beforehand.
        ``hash_here``: the client reads each split file once more for its SHA-256 (in a
        thread, while the workers read the parts), instead of a task holding a worker
        for it: for a local cluster, whose client shares the workers' disk; a remote
        one's client may sit far from the data. ``direct``: gather the states straight
        from the workers, not through the scheduler (a local cluster's workers are
        always reachable; a remote cluster's may be reachable only by the scheduler).
        Through the scheduler, the 2M-row benchmark's last states (262 MiB in all)
        took 0.9-1.5 s to gather; straight from the workers, 0.1-0.2 s."""
        if key.key_id != key_ref.key_id:
            raise ValueError("key_ref names another key")
        self.client = client
        self.key, self.key_ref, self.keyed, self.region = key, key_ref, keyed, region
        self.options = _options_without_password()
        if planned is None:
            workers = max(1, len(client.scheduler_info()["workers"]))
            planned = plan_inputs(paths, split_bytes, workers)
        self.inputs = planned
        self.pending: list[tuple[Any, ...]] = []
        self.hasher = (FileHasher([Path(item.path) for item in self.inputs if not item.whole])
                       if hash_here else None)
        self.direct = direct

    def submit(self) -> list[Any]:
        """Queue every task; returns the futures the results come from."""
        submit, region, key_ref = self.client.submit, self.region, self.key_ref
        # Reads run in the order planned (large parts first, the small last round at the
        # end); merges and hashing a file run as soon as they can, ahead of any read, so
        # that memory is freed early and nothing but the last parts is left for the end.
        order = iter(range(-1, -1_000_000_000, -1))
        if self.hasher is not None:
            self.hasher.start()
        for item in self.inputs:
            if item.whole:
                self.pending.append((submit(scan_file, item.path, item.given, key_ref, region,
                                            self.options, pure=False, priority=next(order)),))
                continue
            facts = () if self.hasher is not None else (
                submit(file_facts_of, item.path, pure=False, priority=1),)
            if item.shares:
                self.pending.append((*facts, *(
                    submit(scan_members, item.path, item.given, share, key_ref, region,
                           self.options, pure=False, priority=next(order))
                    for share in item.shares)))
                continue
            level = [submit(scan_part, part, item.given, item.plan, key_ref, region,
                            self.options, pure=False, priority=next(order))
                     for part in item.parts]
            # The parts read last skip the tree: they end together, and a merge chain
            # after them (a worker free, a transfer, per level) would be the scan's
            # critical path; merges among them would also keep one worker from its
            # share of reads while the other waits. The client merges them into the
            # tree's state, which it fetches while they are read, and makes the
            # verdicts with polars on every core (a worker's shares them with the other
            # workers). With two workers, the four parts of the last round (see
            # ``split.part_targets``) are the tail.
            tail = level[len(level) - min(self.TAIL_PARTS, len(level) - 1):]
            level = level[:len(level) - len(tail)]
            # A tree of merges of adjacent parts, in file order, down to one state.
            while len(level) > 1:
                merged = [submit(merge_parts, level[i], level[i + 1], pure=False, priority=1)
                          for i in range(0, len(level) - 1, 2)]
                level = merged + level[len(level) - len(level) % 2:]
            self.pending.append((*facts, *level, *tail))
        return [future for futures in self.pending for future in futures]

    def collect(self) -> ScanResult:
        """Wait for every task; the states, with the client's key attached again."""
        if not self.pending:
            self.submit()
        # Each state is fetched as soon as its task ends, while the others still run:
        # the tree's state of the 2M-row benchmark (~230 MiB) while the last round is
        # read, and at the end only the last parts' (~15 MiB each). Whatever has ended
        # meanwhile comes in one call, not a round trip each (on local:2, 2,000 tiny
        # tasks took 5.3-5.7 s either way: there the scheduler is the limit).
        arrived = {}
        for ended in require_distributed().as_completed(
                [future for futures in self.pending for future in futures]).batches():
            arrived.update(zip([future.key for future in ended],
                               self.client.gather(ended, direct=self.direct), strict=True))
        gathered = [[arrived[future.key] for future in futures] for futures in self.pending]
        # Per input, its finished sources, or the merged state of its parts to finish.
        sources: list[list[FinishedSource] | SourcePart] = []
        files = []
        for item, outcome in zip(self.inputs, gathered, strict=True):
            if item.whole:  # its sources and its file facts
                finished, facts = outcome[0]
            else:  # its file facts (from a task, or hashed here), then its tasks' states
                facts, *states = (None, *outcome) if self.hasher is not None else outcome
            if item.shares:  # each share's sources, in the zip's order
                finished = [source for share in states for source in share]
                for source in finished:
                    source.result.info.archive_skipped = item.skipped  # type: ignore[attr-defined]
            elif item.parts:  # the part states of one source, merged in file order
                whole = states[0]
                for part in states[1:]:
                    whole = merge_parts(whole, part, last=True)
                finished = whole
            sources.append(finished)
            files.append(facts)
        # The collectors as the result will list them (finishing a part keeps its state).
        by_name = {name: state for entry in sources for name, state in (
            [(entry.info.name, entry.scan)] if isinstance(entry, SourcePart)
            else [(source.result.info.name, source.scan) for source in entry])}
        collectors = [s.identity for s in by_name.values() if s.identity is not None]
        with ThreadPoolExecutor(1) as other_core:
            # As one machine does: people are linked on the other core while the split
            # sources' verdicts are made (resolve_leak checks that they kept every slot).
            early = other_core.submit(resolve_early, [c.held() for c in collectors])
            results, scans = [], {}
            for entry in sources:
                source: FinishedSource
                for source in entry if isinstance(entry, list) else [finish_part(entry)]:
                    if source.scan.identity is not None:
                        source.scan.identity.attach_key(self.key)
                    results.append(source.result)
                    scans[source.result.info.name] = source.scan
            early_digests = early.result()
        return ScanResult(results, scans, partial(self._with_hashed_here, files), self.key,
                          self.keyed, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                          early_digests)

    def _with_hashed_here(self, files: list[dict[str, Any] | None]) -> list[dict[str, Any]]:
        """``files`` with the gaps (split files) filled by the client's hasher, in order."""
        hashed_here = iter(self.hasher.facts() if self.hasher is not None else ())
        return [facts if facts is not None else next(hashed_here) for facts in files]


def refuse_credentials(dest: str) -> None:
    """An index URL goes to every worker in the task graph: it must not hold a password."""
    if without_credentials(dest) != dest:
        raise TriageError("a cluster cannot write an index at a URL holding credentials: "
                          "they would travel in the task graph; give the workers their own "
                          "(environment, configuration)")


class WorkerIndexWriter:
    """Index partitions written by the workers (see ``index.partition_writer``).

    The client has resolved the people; it cuts the leak's digest-sorted entries into
    one group of consecutive partitions per worker, scatters each group's entries
    (digests, kinds, person numbers, categories, dates: no key, no plaintext) and
    has a worker write them. The manifest stays with the client. Entries lost with a
    worker before its task ran are sent again.
    """

    ATTEMPTS = 3

    def __init__(self, client: Any, *, direct: bool = False) -> None:
        """``direct``: send the entries straight to the workers rather than through the
        scheduler (a local cluster's workers are always reachable; the 3.8M entries of
        the 2M-row benchmark shipped in 0.71-0.86 s instead of 1.22-1.43 s)."""
        self.client = client
        self.direct = direct

    def __call__(self, dest: str, leak_id: str, digits: int, entries: pl.DataFrame,
                 bounds: Sequence[int]) -> list[dict[str, Any]]:
        refuse_credentials(dest)
        # Person numbers in 32 bits, as the files hold them (kinds come as an Enum, one
        # byte each): the same files from 37 bytes an identifier shipped instead of 56.
        entries = entries.with_columns(pl.col("person").cast(pl.UInt32))
        workers = max(1, len(self.client.scheduler_info()["workers"]))
        partitions = len(bounds) - 1
        groups = [(int(g[0]), int(g[-1]) + 1) for g in
                  np.array_split(np.arange(partitions), min(partitions, workers))]
        written: dict[int, list[dict[str, Any]]] = {}
        for _attempt in range(self.ATTEMPTS):
            todo = [g for g in range(len(groups)) if g not in written]
            if not todo:
                break
            slices, local_bounds = [], []
            for g in todo:
                first, end = groups[g]
                slices.append(entries.slice(bounds[first], bounds[end] - bounds[first]))
                local_bounds.append([b - bounds[first] for b in bounds[first:end + 1]])
            data = self.client.scatter([to_arrow_columns(s) for s in slices], hash=False,
                                       direct=self.direct)
            futures = {g: self.client.submit(write_index_partitions, dest, leak_id, digits, part,
                                             local, groups[g][0], pure=False)
                       for g, part, local in zip(todo, data, local_bounds, strict=True)}
            for g, future in futures.items():
                try:
                    written[g] = future.result()
                except CancelledError:  # its entries were lost with a worker: sent again
                    continue
        if len(written) < len(groups):
            raise TriageError("workers were lost while writing the index, again and again; "
                              "nothing was added to it")
        return [facts for g in range(len(groups)) for facts in written[g]]


@dataclass(frozen=True)
class IndexTarget:
    """Where and as what a cluster scan adds its leak to an index: a local path shared
    with the workers, or an fsspec URL."""

    dest: str
    leak_id: str
    leak_name: str


def scan_on_cluster(paths: Iterable[str | Path], *, address: str, key: HmacKey | None,
                    key_file: str | None, region: str = "FR",
                    split_bytes: int = SPLIT_BYTES,
                    index: IndexTarget | None = None) -> ScanResult:
    """:func:`triage.scan.scan` on Dask: the same result, computed by the cluster, and
    with a key and ``index``, the leak added to that index (partitions written by the
    workers, the manifest here) before the cluster is let go.

    Workers load the key themselves: from ``key_file`` (the same path on every
    worker) or their own ``TRIAGE_HMAC_KEY``. Without a key, a local cluster counts
    people under a throwaway key handed to its worker processes as they start (never
    through the scheduler); a remote one cannot, and is refused.
    """
    worker_env: dict[str, str] = {}
    keyed = key is not None
    if key is None:
        if not is_local(address):
            raise TriageError(f"a remote cluster needs the HMAC key on every worker: give "
                              f"--key FILE (the same path on the workers) or set {KEY_ENV}")
        secret = os.urandom(32)
        key = HmacKey(secret)
        worker_env[KEY_ENV] = base64.b64encode(secret).decode()
        key_ref = KeyRef(None, key.key_id)
    else:
        key_ref = KeyRef(str(Path(key_file).resolve()) if key_file else None, key.key_id)
    paths = list(paths)
    if index is not None:
        refuse_credentials(index.dest)  # before the scan, not after it
    # A local cluster takes about a second to start its worker processes (and importing
    # distributed, in connect, ~0.25 s), and planning (the first batch, the split
    # points) about as long: planning needs only the number of workers, which a local
    # cluster knows beforehand, so it runs meanwhile.
    workers = local_workers(address)
    _options_without_password()  # before planning opens any archive
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="triage-plan") as planner:
        planning = (planner.submit(contextvars.copy_context().run, plan_inputs, paths,
                                   split_bytes, workers) if workers else None)
        with connect(address, worker_env=worker_env) as client:
            planned = planning.result() if planning is not None else None
            result = ClusterScan(client, paths, key=key, key_ref=key_ref, keyed=keyed,
                                 region=region, split_bytes=split_bytes, planned=planned,
                                 hash_here=workers is not None,
                                 direct=workers is not None).collect()
            if index is not None and keyed:
                with partition_writer(WorkerIndexWriter(client, direct=workers is not None)):
                    write_index(result, index.dest, leak_id=index.leak_id,
                                leak_name=index.leak_name)
    return result
