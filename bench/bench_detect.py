"""Issue 4 benchmark: what detection adds to the profile pass (target: at most 15 %).

    python bench/bench_detect.py [--path bench/data/wide_2m.csv] [--rows 2000000] [--repeats 3]

Runs the real single pass (``triage.pipeline.run``: sources + profile) alone, then
the same pass with a :class:`~triage.detect.TableDetector` riding along on every
batch the way the pipeline integrates it (``provisional()`` after the first batch,
``finish()`` at the end). Runs alternate, so both see the same machine load, and
the medians are compared. Detection's own time (inside ``update``, ``provisional``
and ``finish``) is also timed in-process: on a shared machine it is the steadier
figure. Without ``--path`` the ``megabus`` lab export is generated once by
``triage synth`` (``bench/data``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from harness import dump

from triage.allocator import keep_freed_memory
from triage.detect import TableDetector
from triage.pipeline import run

TARGET = 0.15


def profile_pass(path: Path) -> float:
    start = time.perf_counter()
    run([path])
    return time.perf_counter() - start


def profile_and_detect_pass(path: Path) -> tuple[float, float, int]:
    """(wall of the whole pass, detection's own seconds, columns judged)."""
    detectors: dict[int, TableDetector] = {}
    spent = 0.0

    def ride_along(source, batch, *context):  # type: ignore[no-untyped-def]
        # The pipeline's hook passes (source, batch, profile, first).
        nonlocal spent
        profile, first = context
        start = time.perf_counter()
        detector = detectors.setdefault(id(source), TableDetector())
        # As the scan does: the profile has made the batch's row hashes.
        detector.update(batch, profile.batch_row_hashes)
        if first:
            detector.provisional()
        spent += time.perf_counter() - start

    start = time.perf_counter()
    run([path], on_batch=ride_along)
    finish_start = time.perf_counter()
    columns = sum(len(d.finish()) for d in detectors.values())
    end = time.perf_counter()
    spent += end - finish_start
    return end - start, spent, columns


def main() -> None:
    keep_freed_memory()  # as the triage program does, before any thread starts
    parser = argparse.ArgumentParser()
    parser.add_argument("--path", type=Path, default=None,
                        help="dump to measure (default: bench/data/wide_2m.csv if present, "
                             "else a generated megabus export of --rows rows)")
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    path = args.path
    if path is None:
        wide = REPO / "bench" / "data" / "wide_2m.csv"
        path = wide if wide.exists() and args.rows == 2_000_000 else dump("megabus", args.rows)
    profile_pass(path)  # warm the page cache and imports: neither pass pays for them
    alone, together, own = [], [], []
    columns = 0
    for _ in range(args.repeats):
        alone.append(profile_pass(path))
        wall, spent, columns = profile_and_detect_pass(path)
        together.append(wall)
        own.append(spent)
    base, both, det = (statistics.median(x) for x in (alone, together, own))
    print(json.dumps({
        "input": path.name,
        "bytes": path.stat().st_size,
        "columns": columns,
        "repeats": args.repeats,
        "profile_pass_s": round(base, 3),
        "profile_plus_detect_s": round(both, 3),
        "detect_own_s": round(det, 3),
        "overhead_wall": round(both / base - 1, 4),
        "overhead_own": round(det / base, 4),
        "target": TARGET,
        "runs": {"profile": [round(x, 3) for x in alone],
                 "profile_plus_detect": [round(x, 3) for x in together],
                 "detect_own": [round(x, 3) for x in own]},
    }, indent=2))


if __name__ == "__main__":
    main()
