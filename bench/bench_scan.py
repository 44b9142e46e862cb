"""Issue 6 benchmark: `triage scan --key K --recipient R1 --recipient R2` against polars'
streaming null-count pass over the same file, in the same run.

    python bench/bench_scan.py --rows 2000000 [--repeats 3]

Runs them in turn, ``--repeats`` rounds, and prints both median wall times, the
ratio of each round and their median (target <= 2.0) and triage's peak RSS
(target <= 1.5 GiB). Keys and identities are made in a temporary directory.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import alternated, baseline_command, dump, gib, ratios, separator_of


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
        # A fresh output directory for each scan: scan refuses to overwrite a summary.
        runs = alternated({"polars": baseline_command(path, separator_of(path)),
                           "triage": [*triage, "scan", str(path), "-o", str(work_dir / "out"),
                                      "--key", str(work_dir / "k"), *recipients, "--quiet"]},
                          args.repeats, cleanup=lambda: shutil.rmtree(work_dir / "out", True))
        polars_wall = statistics.median(w for w, _ in runs["polars"])
        scan_wall = statistics.median(w for w, _ in runs["triage"])
        scan_rss = max(r for _, r in runs["triage"])
    print(f"input: {path.name}, {args.rows:,} rows, {gib(path.stat().st_size)}")
    print(f"polars streaming null-count pass: {polars_wall:.2f} s (median of {args.repeats})")
    print(f"triage scan --key, 2 recipients:  {scan_wall:.2f} s, peak RSS {gib(scan_rss)}")
    print(f"ratio: {ratios(runs, 'triage', 'polars')} (target <= 2.0)")


if __name__ == "__main__":
    main()
