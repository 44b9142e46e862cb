"""Issue 6 benchmark: `triage scan --key K --recipient R1 --recipient R2` against polars'
streaming null-count pass over the same file, in the same run.

    python bench/bench_scan.py --rows 2000000 [--repeats 3]

Prints both median wall times, the ratio (target <= 2.0) and triage's peak RSS
(target <= 1.5 GiB). Keys and identities are made in a temporary directory.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import baseline_command, dump, gib, measure, median_of, separator_of


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scenario", default="megabus")
    args = parser.parse_args()

    path = dump(args.scenario, args.rows)
    with tempfile.TemporaryDirectory() as work:
        work_dir = Path(work)
        triage = [sys.executable, "-m", "triage"]
        subprocess.run([*triage, "keygen", "hmac", "-o", str(work_dir / "k")], check=True,
                       capture_output=True)
        recipients = []
        for name in ("dpo", "cert"):
            out = subprocess.run([*triage, "keygen", "age", "-o", str(work_dir / name)],
                                 check=True, capture_output=True, text=True)
            recipients += ["--recipient", out.stdout.strip()]
        polars_wall, _ = median_of(baseline_command(path, separator_of(path)), args.repeats)
        runs = []
        for attempt in range(args.repeats):
            out_dir = work_dir / f"out{attempt}"
            runs.append(measure([*triage, "scan", str(path), "-o", str(out_dir), "--key",
                                 str(work_dir / "k"), *recipients, "--leak-id", f"b{attempt}",
                                 "--quiet"]))
        runs.sort()
        scan_wall, scan_rss = runs[len(runs) // 2][0], max(r for _, r in runs)
    print(f"input: {path.name}, {args.rows:,} rows, {gib(path.stat().st_size)}")
    print(f"polars streaming null-count pass: {polars_wall:.2f} s (median of {args.repeats})")
    print(f"triage scan --key, 2 recipients:  {scan_wall:.2f} s, peak RSS {gib(scan_rss)}")
    print(f"ratio: {scan_wall / polars_wall:.2f} (target <= 2.0)")


if __name__ == "__main__":
    main()
