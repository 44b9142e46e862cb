"""Reader throughput and peak memory of every input format, against delimited text.

The same table (ids, emails, phones, names with quotes and commas, dates, NULLs) is
written as CSV, a MySQL dump (2,000 rows per INSERT, as mysqldump writes; ``mysql1``:
one row per INSERT, as ``--skip-extended-insert`` writes), a PostgreSQL COPY dump,
JSON Lines, and inside tar.gz, zip and 7z; each is read in a child process by
``open_sources`` (every batch of every source, no profiling), which reports rows, wall
time and peak RSS. Spreadsheets are measured at 200,000 rows (a sheet holds at most
~1M rows). With ``--repeats N`` each file is read N times (CSV first, in turn with
the others) and the medians are printed, with the spread of the ratio to CSV.

    python bench/bench_formats.py --mb 300            # all formats, ~300 MB each
    python bench/bench_formats.py --mb 300 --only csv,mysql,copy --repeats 5

Files are cached in bench/data/formats/ (git-ignored) and reused.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data" / "formats"
READER = """
import json, sys, time
from triage.sources import open_sources
start = time.perf_counter()
rows = 0
for source in open_sources(sys.argv[1]):
    for batch in source.batches():
        rows += batch.height
seconds = time.perf_counter() - start
# VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec from the (big) parent.
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"rows": rows, "seconds": seconds, "peak_rss": int(hwm.split()[1]) * 1024}))
"""


def table(rows: int, seed: int = 7) -> pl.DataFrame:
    ids = pl.int_range(0, rows, eager=True)
    return pl.DataFrame({
        "id": ids.cast(pl.String),
        "email": "user" + ids.cast(pl.String) + "@exemple.fr",
        "tel": "06" + (ids * 7919 % 100_000_000).cast(pl.String).str.zfill(8),
        "nom": pl.Series(["O'Brien", "Martin, Jean", "Zoë", "Dupont"] * (rows // 4 + 1))[:rows],
        "ne_le": pl.Series(["1980-02-29", "2001-12-31", None, "1975-07-14"] * (rows // 4 + 1))[:rows],
        "ville": pl.Series(["Paris", "Saint-Étienne", "L'Haÿ-les-Roses", "Orléans"]
                           * (rows // 4 + 1))[:rows],
        "note": pl.Series(["", "suivi; rappel", 'dit "urgent"', "ok"] * (rows // 4 + 1))[:rows],
    })


def _sql_quoted(column: str) -> pl.Expr:
    escaped = pl.col(column).str.replace_all("\\", "\\\\", literal=True).str.replace_all(
        "'", "\\'", literal=True)
    return pl.when(pl.col(column).is_null()).then(pl.lit("NULL")).otherwise("'" + escaped + "'")


def write_mysql(frame: pl.DataFrame, path: Path, per_statement: int = 2000) -> None:
    tuples = frame.select(("(" + pl.concat_str([_sql_quoted(c) for c in frame.columns],
                                               separator=",") + ")").alias("t"))["t"]
    columns = ", ".join(f"`{c}` varchar(255)" for c in frame.columns)
    with open(path, "wb") as out:
        out.write(f"-- MySQL dump\nCREATE TABLE `patients` ({columns});\n".encode())
        for start in range(0, len(tuples), per_statement):
            chunk = tuples[start:start + per_statement]
            out.write(b"INSERT INTO `patients` VALUES " + ",".join(chunk).encode() + b";\n")


def write_copy(frame: pl.DataFrame, path: Path) -> None:
    escaped = frame.select(
        pl.when(pl.col(c).is_null()).then(pl.lit("\\N")).otherwise(
            pl.col(c).str.replace_all("\\", "\\\\", literal=True)
            .str.replace_all("\t", "\\t", literal=True)).alias(c) for c in frame.columns)
    with open(path, "wb") as out:
        out.write(f"-- PostgreSQL database dump\nCOPY public.patients ({', '.join(frame.columns)})"
                  f" FROM stdin;\n".encode())
        escaped.write_csv(out, separator="\t", include_header=False, quote_style="never")
        out.write(b"\\.\n")


def make(kind: str, rows: int) -> Path:
    DATA.mkdir(parents=True, exist_ok=True)
    names = {"csv": "t.csv", "mysql": "t.sql", "mysql1": "t_rows.sql", "copy": "t_pg.sql",
             "jsonl": "t.jsonl", "tar.gz": "t.tar.gz", "zip": "t.zip", "7z": "t.7z",
             "xlsx": "t.xlsx"}
    path = DATA / f"{rows}_{names[kind]}"
    if path.exists():
        return path
    print(f"writing {path.name} ...", file=sys.stderr)
    frame = table(rows)
    if kind == "csv":
        frame.write_csv(path, separator=";")
    elif kind == "mysql":
        write_mysql(frame, path)
    elif kind == "mysql1":
        write_mysql(frame, path, per_statement=1)
    elif kind == "copy":
        write_copy(frame, path)
    elif kind == "jsonl":
        frame.write_ndjson(path)
    elif kind == "tar.gz":
        csv = make("csv", rows)
        with tarfile.open(path, "w:gz", compresslevel=1) as archive:
            archive.add(csv, "export/patients.csv")
            archive.add(make("mysql", rows), "export/dump.sql")
    elif kind == "zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
            archive.write(make("csv", rows), "patients.csv")
    elif kind == "7z":
        import py7zr

        with py7zr.SevenZipFile(path, "w", filters=[{"id": py7zr.FILTER_ZSTD, "level": 1}]) as archive:
            archive.write(make("csv", rows), "patients.csv")
    elif kind == "xlsx":
        frame.write_excel(path) if _has_xlsxwriter() else None
    return path


def _has_xlsxwriter() -> bool:
    try:
        import xlsxwriter  # noqa: F401
    except ImportError:
        return False
    return True


def measure(path: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", READER, str(path)], capture_output=True,
                            text=True, env=env, check=True)
    report = json.loads(result.stdout)
    report["wall"] = time.perf_counter() - start
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=300, help="approximate CSV size in MB")
    parser.add_argument("--only", default="csv,mysql,mysql1,copy,jsonl,tar.gz,zip,7z,xlsx")
    parser.add_argument("--repeats", type=int, default=1,
                        help="reads per file; medians are printed")
    args = parser.parse_args()
    rows = args.mb * 1_000_000 // 100  # ~100 bytes per CSV row
    kinds = args.only.split(",")
    spread = " ratio min-max" if args.repeats > 1 else ""
    print(f"{'format':<8} {'file MB':>8} {'rows':>11} {'s':>7} {'MB/s':>7} {'rows/s':>10} "
          f"{'vs csv':>7} {'peak RSS MB':>12}{spread}")
    csv_path = make("csv", rows) if "csv" in kinds else None
    csv_speeds: list[float] = []  # rows/s of every CSV read, the latest last
    for kind in kinds:
        n = min(rows, 200_000) if kind == "xlsx" else rows
        path = make(kind, n)
        reports, ratios = [], []
        for _ in range(args.repeats):
            if kind != "csv" and csv_path is not None and args.repeats > 1:
                # A shared machine's load drifts: each read is paired with a CSV read.
                paired = measure(csv_path)
                csv_speeds.append(paired["rows"] / paired["seconds"])
            report = measure(path)
            reports.append(report)
            speed = report["rows"] / report["seconds"]
            if kind == "csv":
                csv_speeds.append(speed)
            elif csv_speeds:
                ratios.append(speed / csv_speeds[-1])
        seconds = statistics.median(r["seconds"] for r in reports)
        size = path.stat().st_size / 1e6
        per_second = reports[0]["rows"] / seconds
        if kind == "csv":
            ratio_text = "100%"
        elif ratios:
            ratio_text = f"{statistics.median(ratios):.0%}"
        else:
            ratio_text = "-"
        extra = f"  {min(ratios):.0%}-{max(ratios):.0%}" if spread and ratios else ""
        peak = statistics.median(r["peak_rss"] for r in reports)
        print(f"{kind:<8} {size:>8.0f} {reports[0]['rows']:>11,} {seconds:>7.1f} "
              f"{size / seconds:>7.0f} {per_second:>10,.0f} {ratio_text:>7} "
              f"{peak / 1e6:>12.0f}{extra}", flush=True)


if __name__ == "__main__":
    main()
