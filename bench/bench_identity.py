"""Benchmarks for the identity layer (issue 5). Prints one JSON document per part.

    python bench/bench_identity.py overhead [--rows 2000000] [--path DUMP] [--repeats 3]
    python bench/bench_identity.py lookup   [--identifiers 10000000]
    python bench/bench_identity.py http     [--requests 20000 --connections 32]

overhead: the profile pass alone, then the same pass with the identity stage of
`triage scan` riding along (the plan its detector makes from the first batch: on the
lab export NIR, insurance number, two phones, email and the name + birth-date
composite), then people and the index write; ``overhead_with_index`` is the share
they add, for each of ``--repeats`` rounds (each round runs both passes), and its
median. The input is the megabus lab export of ``--rows`` rows (made once by
``triage synth``), or ``--path``.
lookup: an index of N synthetic digests (random bytes: no Faker, no HMAC needed),
bytes per identifier on disk, and in-process lookup latency for hits and misses.
http: the real server on 127.0.0.1 under a bounded load from a raw asyncio client
in the same machine (so the client takes CPU from the server too).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from harness import dump

from triage.allocator import keep_freed_memory
from triage.identity import index as index_store
from triage.identity.collector import resolve_early, resolve_leak, write_leak_index
from triage.identity.keys import HmacKey, generate_key_file
from triage.identity.loadtest import run_load
from triage.identity.lookup import LookupIndex
from triage.native import native_kernel
from triage.scan import SourcePlan, SourceScan, identity_feeder


def bench_overhead(path: Path, repeats: int) -> dict:
    """``repeats`` rounds, each the profile pass alone then the pass with identity,
    people and the index write: a drift of the host's speed moves both alike."""
    rounds = [_overhead_round(path) for _ in range(repeats)]
    last = rounds[-1]
    return {
        "part": "overhead", "input": path.name, "bytes": path.stat().st_size,
        "rows": last["rows"], "identifier_columns": last["plan"],
        "hmac": "native" if native_kernel() else "python",
        "profile_pass_s": [r["profile_only"] for r in rounds],
        "profile_plus_identity_pass_s": [r["with_identity"] for r in rounds],
        "people_and_index_write_s": [r["write_s"] for r in rounds],
        "pass_overhead": [r["pass_overhead"] for r in rounds],
        # The figure: hashing and indexing on top of the profile pass.
        "overhead_with_index": [r["overhead_with_index"] for r in rounds],
        "overhead_with_index_median": statistics.median(r["overhead_with_index"]
                                                        for r in rounds),
        "identifiers": last["identifiers"], "people": last["people"],
        "index_bytes_per_identifier": last["bytes_per_identifier"],
    }


def _overhead_round(path: Path) -> dict:
    """The profile pass, then the same pass with the scan's identity stage: its plan
    from the detector's provisional verdict on the first batch (the detector sees only
    that batch, so detection's own cost stays out, and the plan is not restricted by a
    final verdict: on the lab export the scan's final verdict keeps every identifier
    column), every batch fed as ``triage scan`` feeds it, then the scan's people
    resolution (its union-find, then the per-person reductions, one after the other:
    no verdict runs beside them here) and the index write."""
    from triage.pipeline import run

    started = time.perf_counter()
    run([path])
    profile_only = time.perf_counter() - started

    key = HmacKey(os.urandom(32))
    scans: dict[str, SourceScan] = {}
    with identity_feeder() as feed:
        def on_batch(source, batch, profile, first):  # type: ignore[no-untyped-def]
            state = scans.setdefault(source.info.name, SourceScan())
            if first:
                state.detector.update(batch, profile.batch_row_hashes)
                state.begin(SourcePlan.from_first_batch(state.detector.provisional(),
                                                        profile), key, "FR")
            feed(state, batch, profile)

        started = time.perf_counter()
        results = run([path], on_batch=on_batch)
    with_identity = time.perf_counter() - started
    collectors = [s.identity for s in scans.values() if s.identity is not None]
    with tempfile.TemporaryDirectory() as folder:
        t = time.perf_counter()
        resolved = resolve_leak(collectors, resolve_early([c.held() for c in collectors]))
        manifest = write_leak_index(collectors, key.key_id, folder, "lab", "lab", [],
                                    results[0].accounting.parsed, resolved=resolved)
        write_s = time.perf_counter() - t
    leak = manifest["leaks"][0]
    return {"rows": results[0].accounting.parsed,
            "plan": {c: spec.kind for col in collectors for c, spec in col.plan.items()},
            "profile_only": round(profile_only, 2), "with_identity": round(with_identity, 2),
            "write_s": round(write_s, 2),
            "pass_overhead": round(with_identity / profile_only - 1, 3),
            "overhead_with_index": round((with_identity + write_s) / profile_only - 1, 3),
            "identifiers": leak["identifiers"], "people": resolved.distinct,
            "bytes_per_identifier": round(leak["bytes"] / max(1, leak["identifiers"]), 1)}


def synthetic_entries(n: int, seed: int = 1) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    kinds = np.array(["email", "phone", "national_id", "name_birth"])
    days = rng.integers(17_000, 20_000, n).astype("int32")
    return pl.DataFrame({
        "kind": kinds[rng.integers(0, 4, n)],
        "hi": rng.integers(0, 2**64, n, dtype=np.uint64),
        "lo": rng.integers(0, 2**64, n, dtype=np.uint64),
        "person": rng.integers(0, n // 3, n).astype(np.uint64),
        "categories": rng.integers(0, 64, n).astype(np.uint64),
        "first_seen": pl.Series(days).cast(pl.Date),
        "last_seen": pl.Series(days + rng.integers(0, 400, n).astype("int32")).cast(pl.Date),
    })


def bench_lookup(n: int, probes: int) -> dict:
    key = HmacKey(os.urandom(32))
    with tempfile.TemporaryDirectory() as folder:
        entries = synthetic_entries(n)
        leak = {"leak_id": "synthetic", "name": "synthetic", "inputs": [], "rows": n,
                "people": n // 3, "people_method": "synthetic", "by_identifier_kind": {},
                "categories": [f"c{i}" for i in range(6)], "region": "FR"}
        t = time.perf_counter()
        manifest = index_store.add_leak(folder, key.key_id, leak, entries)
        build_s = time.perf_counter() - t
        on_disk = sum(p.stat().st_size for p in (Path(folder) / "leaks").rglob("*"))
        t = time.perf_counter()
        index = LookupIndex(folder, key)
        open_s = time.perf_counter() - t
        rng = np.random.default_rng(2)
        present = index_store.digests_of(entries[rng.integers(0, n, probes)])
        absent = rng.integers(0, 256, (probes, 16), dtype=np.uint8)
        timings: dict[str, list[float]] = {"hit": [], "miss": []}
        for name, digests in (("hit", present), ("miss", absent)):
            for digest in digests:
                d = bytes(digest)
                t = time.perf_counter()
                found = index.lookup_digest(d)
                timings[name].append(time.perf_counter() - t)
                assert bool(found) == (name == "hit")
        full = []
        for i in range(probes):
            t = time.perf_counter()
            index.lookup("email", f"someone{i}@example.fr")
            full.append(time.perf_counter() - t)
        t = time.perf_counter()
        preloaded = LookupIndex(folder, key, preload=True)
        preload_s = time.perf_counter() - t
        in_memory = []
        for digest in present:
            t = time.perf_counter()
            assert preloaded.lookup_digest(bytes(digest))
            in_memory.append(time.perf_counter() - t)
    ms = 1000
    return {
        "part": "lookup", "identifiers": n, "build_s": round(build_s, 2),
        "open_s": round(open_s, 3),
        "bytes_on_disk": on_disk, "bytes_per_identifier": round(on_disk / n, 2),
        "digest_lookup_median_ms": {k: round(statistics.median(v) * ms, 3)
                                    for k, v in timings.items()},
        "digest_lookup_p99_ms": {k: round(sorted(v)[int(0.99 * len(v))] * ms, 3)
                                 for k, v in timings.items()},
        "email_lookup_median_ms": round(statistics.median(full) * ms, 3),
        "email_lookup_p99_ms": round(sorted(full)[int(0.99 * len(full))] * ms, 3),
        "preload_s": round(preload_s, 2),
        "preloaded_hit_median_ms": round(statistics.median(in_memory) * ms, 4),
        "probes": probes, "file_bytes": manifest["leaks"][0]["bytes"],
    }


def bench_http(requests: int, connections: int, identifiers: int, min_latency_ms: float) -> dict:
    import socket

    import httpx

    with tempfile.TemporaryDirectory() as folder:
        key_path = Path(folder) / "hmac.key"
        key = generate_key_file(key_path)
        leak = {"leak_id": "synthetic", "name": "synthetic", "inputs": [], "rows": identifiers,
                "people": identifiers // 3, "people_method": "synthetic",
                "by_identifier_kind": {}, "categories": ["c0"], "region": "FR"}
        index_store.add_leak(Path(folder) / "index", key.key_id, leak,
                             synthetic_entries(identifiers))
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        server = subprocess.Popen(
            [sys.executable, "-m", "triage", "serve", str(Path(folder) / "index"), "--key",
             str(key_path), "--host", "127.0.0.1", "--port", str(port), "--rate", "1e9",
             "--burst", "1000000000", "--min-latency-ms", str(min_latency_ms)], cwd=REPO)
        try:
            for _ in range(300):
                try:
                    httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            # Warm up, then the measured, bounded run.
            asyncio.run(run_load("127.0.0.1", port, lambda i: {"email": f"w{i}@x.fr"}, 500,
                                 connections))
            result = asyncio.run(run_load(
                "127.0.0.1", port, lambda i: {"phone": f"+33610{i:06d}"}, requests, connections))
        finally:
            server.terminate()
            server.wait(timeout=10)
    return {
        "part": "http", "requests": requests, "connections": connections,
        "index_identifiers": identifiers, "min_latency_ms": min_latency_ms,
        "statuses": {str(s): result.statuses.count(s) for s in set(result.statuses)},
        "requests_per_s": round(result.rate), "p50_ms": round(result.percentile(0.5) * 1000, 2),
        "p99_ms": round(result.percentile(0.99) * 1000, 2), "cpus": os.cpu_count(),
    }


def main() -> None:
    keep_freed_memory()  # as the triage program does, before any thread starts
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["overhead", "lookup", "http"])
    parser.add_argument("--path", type=Path, default=None,
                        help="dump for overhead (default: the megabus export of --rows rows)")
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--identifiers", type=int, default=10_000_000)
    parser.add_argument("--probes", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--min-latency-ms", type=float, default=3.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.part == "overhead":
        result = bench_overhead(args.path or dump("megabus", args.rows), args.repeats)
    elif args.part == "lookup":
        result = bench_lookup(args.identifiers, args.probes)
    else:
        result = bench_http(args.requests, args.connections, min(args.identifiers, 1_000_000),
                            args.min_latency_ms)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
