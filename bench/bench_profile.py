"""Issue 2 benchmark: `triage profile` against polars' streaming null-count pass.

    python bench/bench_profile.py --rows 2000000 [--repeats 3] [--rss-rows 1000000 5000000]

Runs them in turn, ``--repeats`` rounds, and prints the median wall time of each,
the ratio of each round and their median (target ≤ 1.4), triage's peak RSS
(target ≤ 1 GiB), and with --rss-rows the peak RSS at several input sizes
(target: flat as the input grows). The dump is the `megabus` lab export made by
`triage synth` (60+ columns, `;`), converted once to UTF-8 so that polars can
read it too.
"""

from __future__ import annotations

import argparse
import statistics
import sys

from harness import alternated, baseline_command, dump, gib, measure, ratios, separator_of


def utf8_copy(path):  # type: ignore[no-untyped-def]
    """polars reads UTF-8 only; the lab export is cp1252 like the real one."""
    target = path.with_name(path.stem + "_utf8.csv")
    if not target.exists():
        with open(path, encoding="cp1252", errors="replace", newline="") as src, \
                open(target, "w", encoding="utf-8", newline="") as out:
            while block := src.read(1 << 24):
                out.write(block)
    return target


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rss-rows", type=int, nargs="*", default=[])
    args = parser.parse_args()

    native = dump("megabus", args.rows)
    for label, path in (("cp1252 as exported", native), ("UTF-8 copy", utf8_copy(native))):
        separator = separator_of(path)
        triage = [sys.executable, "-m", "triage", "profile", "--json", "--quiet", str(path)]
        runs = alternated({"polars": baseline_command(path, separator), "triage": triage},
                          args.repeats)
        polars_wall = statistics.median(w for w, _ in runs["polars"])
        triage_wall = statistics.median(w for w, _ in runs["triage"])
        print(f"input: {path.name} ({label}), {args.rows:,} rows, {gib(path.stat().st_size)}")
        print(f"  polars streaming null-count pass: {polars_wall:.2f} s "
              f"(median of {args.repeats})")
        print(f"  triage profile:                   {triage_wall:.2f} s, "
              f"peak RSS {gib(max(r for _, r in runs['triage']))}")
        print(f"  ratio: {ratios(runs, 'triage', 'polars')} (target <= 1.4)")
    for rows in args.rss_rows:
        big = utf8_copy(dump("megabus", rows))
        wall, rss = measure([sys.executable, "-m", "triage", "profile", "--json", "--quiet",
                             str(big)])
        print(f"peak RSS at {rows:,} rows ({gib(big.stat().st_size)}): {gib(rss)} "
              f"(wall {wall:.1f} s)")


if __name__ == "__main__":
    main()
