"""Measure synthetic-dump generation: rows per second and peak resident memory.

    python bench/bench_synth.py --rows 200000                 # megabus, clean
    python bench/bench_synth.py --rows 10000000 --scenario megabus --messy

Target (issue 3): megabus at 10 M rows in <= 4 minutes on 2 cores (>= 42,000 rows/s),
peak RSS <= 2 GB. The dump goes to bench/out/ (git-ignored) and is deleted afterwards
unless --keep is given.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import synthetic


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--scenario", default="megabus", choices=synthetic.scenarios())
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--messy", action="store_true")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    parser.add_argument("--keep", action="store_true", help="keep the dump and its truth file")
    args = parser.parse_args()

    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{args.scenario}-{args.rows}.dump"
    started = time.perf_counter()
    cpu_started = time.process_time()
    truth = synthetic.generate(args.scenario, args.rows, path, seed=args.seed, messy=args.messy)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    size = path.stat().st_size
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"scenario      {args.scenario}{' --messy' if args.messy else ''}")
    people, columns = truth["people"], len(truth["columns"])
    print(f"rows          {args.rows:,}  ({people:,} people, {columns} columns)")
    print(f"wall          {wall:.1f} s   cpu {cpu:.1f} s   cores seen {os.cpu_count()}")
    print(f"rows/s        {args.rows / wall:,.0f}")
    print(f"output        {size / 2**20:,.0f} MiB  ({size / wall / 2**20:,.0f} MiB/s)")
    print(f"peak RSS      {peak_mib:,.0f} MiB")
    if not args.keep:
        path.unlink()
        Path(f"{path}.truth.json").unlink()


if __name__ == "__main__":
    main()
