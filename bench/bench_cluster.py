"""Benchmark of ``triage scan --cluster`` (issue 8). Prints one JSON document per part.

    python bench/bench_cluster.py wall   [--rows 2000000] [--workers 2] [--repeats 3]
                                         [--zip-members N]
    python bench/bench_cluster.py states [--rows 2000000]
    python bench/bench_cluster.py index  [--rows 2000000] [--workers 2] [--repeats 3]

wall: the whole command, ``triage scan DUMP --key K -o OUT`` on one machine, then
with ``--cluster local:N`` (cluster start-up, planning, tasks, merges, index and
summary included; with the cluster, the workers write the index partitions), each in
a child process, alternately, ``--repeats`` rounds: the ratio of each round and their
median; and whether the two wrote the same findings, the same people and categories
in the summary, and the same index files (every round of a mode must write the same).
With ``--zip-members N``, the input is the same rows as a deflated zip of N member
files (made once, each member with the header), which the cluster shares out by
members instead of cutting byte ranges.
states: what the distribution itself costs: the fixed cost of one task (a part of
one row, run in process), a Dask round trip on the local cluster, and the pickled
size of one part's state and of the finished state of the whole file.
index: the index write alone, from the resolved people of the file (scanned once, in
process): on this machine (``write_partitions`` here) and by the workers of a
``local:N`` cluster (entries scattered to them, one group of partitions each), in
fresh directories, alternately, ``--repeats`` times; the time spent scattering the
entries; and whether both wrote the same files.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import pickle
import shutil
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import dump, measure

SECRET = bytes(range(100, 132))  # a fixed benchmark key: workers read it from the environment


def _env(tmp: Path) -> dict[str, str]:
    return {**os.environ, "TRIAGE_HMAC_KEY": base64.b64encode(SECRET).decode(),
            "XDG_CONFIG_HOME": str(tmp / "config")}


def zipped(path: Path, members: int) -> Path:
    """``path``'s rows as a deflated zip of ``members`` files, each with the header: an
    archive of exports as leaks arrive (made once and reused)."""
    archive = path.with_name(f"{path.stem}_{members}.zip")
    if archive.exists():
        return archive
    print(f"zipping {archive.name} ...", file=sys.stderr)
    size = path.stat().st_size
    partial = archive.with_suffix(".partial")
    with open(path, "rb") as handle, zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as out:
        header = handle.readline()
        for member in range(members):
            end = size * (member + 1) // members
            with out.open(f"{path.stem}/part{member + 1:02d}.csv", "w") as sink:
                sink.write(header)
                while handle.tell() < end:
                    sink.write(handle.read(min(1 << 24, end - handle.tell())))
                    if handle.tell() == end:  # finish the row the cut fell in
                        sink.write(handle.readline())
    partial.rename(archive)
    return archive


def wall(rows: int, workers: int, repeats: int, zip_members: int = 0) -> dict:
    path = dump("megabus", rows)
    if zip_members:
        path = zipped(path, zip_members)
    seconds: dict[str, list[float]] = {"one_machine": [], "cluster": []}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        runs = {}
        # Rounds alternate the two, so that a drift in the host's speed moves both alike.
        for attempt in range(repeats):
            for mode, extra in (("one_machine", []),
                                ("cluster", ["--cluster", f"local:{workers}"])):
                out = tmp / f"{mode}{attempt}"
                command = [sys.executable, "-m", "triage", "scan", str(path), "-o", str(out),
                           "--leak-id", "bench", "--plaintext", "-q", *extra]
                wall_seconds, rss = measure(command, _env(tmp))
                seconds[mode].append(round(wall_seconds, 2))
                summary = json.loads((out / "summary.json").read_text())
                findings = json.loads((out / "findings.json").read_text())
                outputs = {"verdicts": [(c["name"], c.get("category"), c.get("subtype"))
                                        for source in findings.get("sources", [findings])
                                        for c in source["columns"]],
                           "findings_json": findings,
                           "people": summary.get("people"),
                           "categories": summary.get("categories"),
                           "rows": summary.get("rows"), "time": summary.get("time"),
                           "geography": summary.get("geography"),
                           "index_files": {str(f.relative_to(out)): f.read_bytes()
                                           for f in sorted((out / "index" / "leaks").rglob("*"))
                                           if f.is_file()}}
                shutil.rmtree(out)
                previous = runs.setdefault(mode, {"client_peak_rss_mib": 0, **outputs})
                previous["client_peak_rss_mib"] = max(previous["client_peak_rss_mib"], rss >> 20)
                if any(previous[part] != outputs[part] for part in outputs):
                    raise SystemExit(f"{mode}: round {attempt + 1} wrote other outputs")
        # findings_json also holds the evidence of each verdict, which is computed from a
        # row sample whose rows depend on where parts (and chunks) start.
        same = {part: runs["one_machine"][part] == runs["cluster"][part]
                for part in ("verdicts", "people", "categories", "rows", "time", "geography",
                             "findings_json", "index_files")}
        for run in runs.values():
            for part in same:
                run.pop(part)
    each = [c / o for c, o in zip(seconds["cluster"], seconds["one_machine"], strict=True)]
    return {"part": "wall", "file": path.name, "bytes": path.stat().st_size, "rows": rows,
            "workers": workers, "seconds": seconds, **runs, "same_output": same,
            "ratio_of_each_round": [round(r, 3) for r in each],
            "ratio": round(statistics.median(each), 3)}


def states(rows: int) -> dict:
    from triage.cluster import ClusterScan, KeyRef, connect
    from triage.cluster.split import ByteRange
    from triage.cluster.tasks import scan_part
    from triage.identity.keys import KEY_ENV, HmacKey
    from triage.sources import ReadOptions

    path = dump("megabus", rows)
    os.environ[KEY_ENV] = base64.b64encode(SECRET).decode()
    key = HmacKey(SECRET)
    ref = KeyRef(None, key.key_id)
    with connect("local:2") as client:
        job = ClusterScan(client, [str(path)], key=key, key_ref=ref, keyed=True)
        item = job.inputs[0]
        first, second = item.parts[0], item.parts[1]
        # Fixed cost of a task: open, sniff, plan, one row, state built and returned.
        line_end = path.open("rb").read(second.start + 65536).index(b"\n", second.start) + 1
        tiny = ByteRange(second.path, 1, second.start, line_end, second.header_start,
                         second.header_end)
        scan_part(tiny, item.given, item.plan, ref, "FR", ReadOptions())  # warm imports and the kernel
        start = time.perf_counter()
        scan_part(tiny, item.given, item.plan, ref, "FR", ReadOptions())
        task_fixed = time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(20):
            client.submit(abs, -1, pure=False).result()
        round_trip = (time.perf_counter() - start) / 20
        start = time.perf_counter()
        part = scan_part(first, item.given, item.plan, ref, "FR", ReadOptions())
        part_seconds = time.perf_counter() - start
        part_bytes = len(pickle.dumps(part))
        result = job.collect()
    finished = result.scans[result.results[0].info.name]
    return {"part": "states", "file": path.name, "rows": rows, "parts": len(item.parts),
            "part_bytes_on_disk": first.end - first.start,
            "task_fixed_seconds": round(task_fixed, 3),
            "dask_round_trip_seconds": round(round_trip, 4),
            "one_part_seconds_in_process": round(part_seconds, 2),
            "one_part_state_pickled_mib": round(part_bytes / 2**20, 1),
            "finished_identity_pickled_mib": round(len(pickle.dumps(finished.identity)) / 2**20, 1),
            "finished_profile_pickled_kib": round(
                len(pickle.dumps(result.results[0].profile)) / 1024, 1)}


def index(rows: int, workers: int, repeats: int) -> dict:
    from triage.cluster import WorkerIndexWriter, connect
    from triage.identity.index import partition_writer
    from triage.identity.keys import HmacKey
    from triage.scan import scan, write_index

    path = dump("megabus", rows)
    result = scan([str(path)], key=HmacKey(SECRET))
    result.leak_people()  # people resolved once, before any timing, as a scan does

    class Timed:
        """The cluster's Client, with the time its scatter calls take (the shipping)."""

        def __init__(self, client) -> None:
            self.client, self.scatter_seconds = client, 0.0

        def scatter(self, data, **options):
            start = time.perf_counter()
            try:
                return self.client.scatter(data, **options)
            finally:
                self.scatter_seconds += time.perf_counter() - start

        def __getattr__(self, name):
            return getattr(self.client, name)

    def files(folder: Path) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted(folder.rglob("*.*")) if p.is_file()
                and p.name != "manifest.json"}

    here, there, shipping = [], [], []
    with tempfile.TemporaryDirectory() as tmp_name, connect(f"local:{workers}") as client:
        tmp = Path(tmp_name)
        for attempt in range(repeats):
            start = time.perf_counter()
            manifest = write_index(result, tmp / f"here{attempt}", leak_id="bench",
                                   leak_name="bench")
            here.append(time.perf_counter() - start)
            timed = Timed(client)
            start = time.perf_counter()
            with partition_writer(WorkerIndexWriter(timed, direct=True)):  # as a local scan
                write_index(result, tmp / f"there{attempt}", leak_id="bench", leak_name="bench")
            there.append(time.perf_counter() - start)
            shipping.append(timed.scatter_seconds)
        same = all(files(tmp / f"here{a}") == files(tmp / f"there{a}") for a in range(repeats))
    leak = manifest["leaks"][0]
    return {"part": "index", "file": path.name, "rows": rows, "workers": workers,
            "identifiers": leak["identifiers"], "partitions": len(leak["partitions"]),
            "index_mib": round(leak["bytes"] / 2**20, 1),
            "one_machine_seconds": [round(t, 2) for t in here],
            "cluster_seconds": [round(t, 2) for t in there],
            "of_which_scatter_seconds": [round(t, 2) for t in shipping],
            "same_files": same}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", choices=["wall", "states", "index"])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--zip-members", type=int, default=0,
                        help="wall: read the rows as a deflated zip of this many members")
    args = parser.parse_args()
    if args.part == "wall":
        print(json.dumps(wall(args.rows, args.workers, args.repeats, args.zip_members),
                         indent=2))
    elif args.part == "index":
        print(json.dumps(index(args.rows, args.workers, args.repeats), indent=2))
    else:
        print(json.dumps(states(args.rows), indent=2))


if __name__ == "__main__":
    main()
