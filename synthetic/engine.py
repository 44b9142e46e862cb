"""Generate one scenario's dump and its truth file, chunk by chunk in bounded memory."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl
from tqdm import tqdm

from synthetic import messy as messy_defects
from synthetic import pools as pools_mod
from synthetic.columns import GENERATORS, Chunk
from synthetic.people import Population
from synthetic.scenario import load
from synthetic.writer import DumpWriter

#: Rows per chunk: large enough that polars' per-call cost vanishes, small enough for RSS.
CHUNK_ROWS = 100_000
#: Identifier categories reported for canaries, in this order.
CANARY_CATEGORIES = (
    "first_name",
    "last_name",
    "full_name",
    "email",
    "phone",
    "national_id",
    "health_insurance_id",
    "birth_date",
    "online_id",
)
GENERATOR_VERSION = 1


def people_for(spec: dict, rows: int) -> int:
    """Exact number of distinct people behind ``rows`` rows (0 for non-personal scenarios)."""
    ratio = spec.get("rows_per_person")
    if not ratio or rows == 0:
        return 0
    return max(1, min(rows, round(rows / ratio)))


def assign_rows(rows: int, people: int, seed: int) -> np.ndarray:
    """Person id of each row: everybody at least once, the rest at random, shuffled."""
    if people == 0:
        return np.arange(rows, dtype=np.int64)
    rng = np.random.default_rng([seed, 1])
    owners = np.empty(rows, dtype=np.int32)
    owners[:people] = np.arange(people, dtype=np.int32)
    owners[people:] = rng.integers(0, people, rows - people, dtype=np.int32)
    rng.shuffle(owners)
    return owners


def header_names(spec: dict, locale: str, obfuscate: bool) -> list[str]:
    columns = spec["columns"]
    if obfuscate:
        width = max(2, len(str(len(columns))))
        return [f"C{i + 1:0{width}d}" for i in range(len(columns))]
    return [c["headers"][locale] for c in columns]


def _build_frame(chunk: Chunk, columns: list[dict]) -> pl.DataFrame:
    data = {}
    people = chunk.people
    for column in columns:
        fn, level = GENERATORS[column["generator"]]
        series = fn(chunk, **column.get("params", {}))
        rate = column.get("null_rate", 0.0)
        if rate:
            if level == "person" and people.count:
                # A person either has the value in every row or in none (canaries always do).
                hide = (people.u(chunk.pid, "null:" + column["key"]) < rate) & (
                    chunk.pid >= people.canaries
                )
            else:
                hide = chunk.rng.random(chunk.n) < rate
            where = np.flatnonzero(hide)
            if where.size:
                series = series.scatter(where, None)
        data[column["key"]] = series.cast(pl.String)
    # An empty value is written as an empty field, like the exporting software does
    # (polars would quote an empty string to tell it from a null).
    return pl.DataFrame(data).with_columns(
        pl.when(pl.all().str.len_bytes() > 0).then(pl.all()).name.keep()
    )


def _canaries(population: Population, spec: dict, owners: np.ndarray, headers: dict) -> list[dict]:
    if not population.canaries:
        return []
    pid = np.arange(population.canaries, dtype=np.int64)
    chunk = Chunk(population, pid, pid, np.random.default_rng(0), spec, len(owners))
    visits = np.bincount(owners[owners < population.canaries], minlength=population.canaries)
    out = [{"rows": int(v)} for v in visits]
    for category in CANARY_CATEGORIES:
        column = next(
            (
                c
                for c in spec["columns"]
                if c.get("category") == category and GENERATORS[c["generator"]][1] == "person"
            ),
            None,
        )
        if column is None:
            continue
        fn, _ = GENERATORS[column["generator"]]
        values = fn(chunk, **column.get("params", {})).to_list()
        for record, value in zip(out, values, strict=True):
            record[category] = value
            record.setdefault("columns", {})[category] = headers[column["key"]]
    return out


def generate(
    scenario: str,
    rows: int,
    path: str | Path,
    *,
    seed: int = 0,
    messy: bool = False,
    obfuscate_headers: bool = False,
    locale: str | None = None,
    progress: bool = False,
    chunk_rows: int = CHUNK_ROWS,
) -> dict:
    """Write ``rows`` rows of ``scenario`` to ``path`` and its truth to ``path.truth.json``.

    Same arguments, same bytes. Returns the truth document.
    """
    spec = load(scenario)
    if rows < 0:
        raise ValueError("rows must be >= 0")
    locale = locale or spec["native_locale"]
    if locale not in spec["columns"][0]["headers"]:
        raise ValueError(
            f"scenario {scenario} has no {locale!r} headers; "
            f"available: {sorted(spec['columns'][0]['headers'])}"
        )
    columns = spec["columns"]
    fmt = spec["format"]
    encoding = spec["encoding"]
    if messy and fmt == "csv" and encoding.startswith("utf"):
        encoding = "cp1252"
    delimiter = spec.get("delimiter", ",")
    line_terminator = spec.get("line_terminator", "\n")

    pools = pools_mod.build({**spec, "encoding": encoding}, seed)
    population = Population(people_for(spec, rows), seed, spec, pools)
    owners = assign_rows(rows, population.count, seed)
    headers = header_names(spec, locale, obfuscate_headers)
    header_of = {c["key"]: h for c, h in zip(columns, headers, strict=True)}

    categories = sorted({c["category"] for c in columns if c.get("category")})
    seen = (
        {cat: np.zeros(population.count, dtype=bool) for cat in categories}
        if population.count
        else {}
    )
    defects: Counter = Counter()
    middle = rows // 2 if messy and rows >= 2 else None
    path = Path(path)
    last_row: list | None = None

    with (
        path.open("wb") as out,
        tqdm(
            total=rows,
            unit="rows",
            unit_scale=True,
            file=sys.stderr,
            disable=not progress,
            desc=scenario,
        ) as bar,
    ):
        writer = DumpWriter(
            out,
            fmt=fmt,
            encoding=encoding,
            delimiter=delimiter,
            line_terminator=line_terminator,
            headers=headers,
        )
        if fmt == "csv":
            writer.write_header()
        for number, start in enumerate(range(0, rows, chunk_rows)):
            stop = min(rows, start + chunk_rows)
            chunk = Chunk(
                population,
                owners[start:stop].astype(np.int64),
                np.arange(start, stop, dtype=np.int64),
                np.random.default_rng([seed, number, 11]),
                spec,
                rows,
            )
            frame = _build_frame(chunk, columns)
            edits = None
            if messy:
                header_row = (
                    middle - start if middle is not None and start <= middle < stop else None
                )
                frame, edits, touched = messy_defects.apply(
                    chunk, frame, columns, fmt, locale, header_row
                )
                defects.update(touched)
            for column in columns:
                category = column.get("category")
                if category and population.count:
                    values = frame[column["key"]]
                    present = (values.is_not_null() & (values != "")).to_numpy()
                    seen[category][chunk.pid[present]] = True
            writer.write_chunk(frame, edits)
            if messy and stop == rows:
                eligible = np.flatnonzero(chunk.pid >= population.canaries)
                if eligible.size:
                    last_row = list(frame.row(int(eligible[-1])))
            bar.update(stop - start)
        if last_row is not None:
            writer.write_truncated(last_row)
            defects["truncated_last_line"] += 1
    if messy and encoding != "utf-8":
        defects["legacy_encoding"] = rows

    truth = {
        "scenario": scenario,
        "seed": seed,
        "rows": rows,
        "format": fmt,
        "encoding": encoding,
        "delimiter": delimiter if fmt == "csv" else None,
        "line_terminator": line_terminator if fmt == "csv" else "\n",
        "header_locale": locale,
        "obfuscated_headers": obfuscate_headers,
        "columns": {header_of[c["key"]]: c.get("category") for c in columns},
        "subtypes": {header_of[c["key"]]: c["subtype"] for c in columns if c.get("subtype")},
        "original_headers": {
            header_of[c["key"]]: c["headers"][spec["native_locale"]] for c in columns
        },
        "people": population.count,
        "people_by_category": {cat: int(mask.sum()) for cat, mask in seen.items()},
        "canaries": _canaries(population, spec, owners, header_of),
        "defects": dict(sorted(defects.items())),
        "generator": {"version": GENERATOR_VERSION, "chunk_rows": chunk_rows},
    }
    truth_path = Path(f"{path}.truth.json")
    truth_path.write_text(json.dumps(truth, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return truth
