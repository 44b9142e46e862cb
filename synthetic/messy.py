"""The defects real exports have, planted on purpose and counted exactly.

Each defect touches a small, random share of rows (never a canary's row, so the
canaries' identifiers stay exactly as the truth file writes them) and reports how
many rows it touched. Cell-level defects rewrite the chunk's columns with vector
operations; structural ones (ragged rows, a repeated header line) become
:class:`~synthetic.writer.RowEdits` for the writer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import polars as pl

from synthetic.columns import Chunk
from synthetic.writer import RowEdits

EMAIL_RATE = 0.04
PHONE_RATE = 0.25
DATE_RATE = 0.06
NEWLINE_RATE = 0.05
SHORT_RATE = 0.002
LONG_RATE = 0.002

#: Ways an export writes a French number, by the clean national form '0612345678'.
PHONE_STYLES = ("compact", "spaced", "plus33", "0033", "dotted")
#: Other date formats a column may carry besides its own.
DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%Y%m%d", "%d/%m/%y", "%d.%m.%Y", "%d/%m/%Y")
TIMESTAMP_FORMATS = ("%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M")
FOLLOW_UPS = {
    "fr": "A recontrôler au prochain passage",
    "en": "To be checked at next visit",
    "de": "Beim nächsten Termin kontrollieren",
}


def _phone_style(national: pl.Series, style: str) -> pl.Series:
    pairs = [national.str.slice(i, 2) for i in range(2, 10, 2)]
    lead = national.str.slice(1, 1)
    if style == "compact":
        return national
    if style in ("spaced", "dotted"):
        sep = " " if style == "spaced" else "."
        return pl.select(
            pl.concat_str(
                [pl.lit(national.str.slice(0, 2))] + [pl.lit(p) for p in pairs], separator=sep
            )
        ).to_series()
    prefix = "+33 " if style == "plus33" else "0033 "
    return pl.select(
        pl.concat_str(
            [
                pl.lit(prefix),
                pl.lit(lead),
                pl.lit(" "),
                pl.concat_str([pl.lit(p) for p in pairs], separator=" "),
            ]
        )
    ).to_series()


def _other_formats(series: pl.Series, parsed: pl.Series, formats: Sequence[str],
                   candidates: np.ndarray, rng: np.random.Generator
                   ) -> tuple[pl.Series, np.ndarray]:
    """Rewrite a DATE_RATE share of the candidate rows in one of ``formats`` each, as
    exports that mix date formats in one column do; returns the column and the rows."""
    n = len(series)
    choice = rng.integers(0, len(formats), n)
    mask = candidates & (rng.random(n) < DATE_RATE)
    out = series
    for i, fmt in enumerate(formats):
        out = _replace(out, mask & (choice == i), parsed.dt.strftime(fmt))
    return out, mask


def _replace(series: pl.Series, mask: np.ndarray, new: pl.Series) -> pl.Series:
    where = np.flatnonzero(mask)
    return series.scatter(where, new.gather(where)) if where.size else series


def apply(
    chunk: Chunk,
    frame: pl.DataFrame,
    columns: list[dict],
    fmt: str,
    lang: str,
    header_row: int | None,
) -> tuple[pl.DataFrame, RowEdits, Counter]:
    """Plant the defects in one chunk; return the new frame, the structural edits, rows touched."""
    rng = np.random.default_rng([chunk.people.seed, int(chunk.row[0]) if chunk.n else 0, 666])
    n = chunk.n
    eligible = chunk.pid >= chunk.people.canaries if chunk.people.count else np.ones(n, dtype=bool)
    touched: Counter = Counter()
    masks: dict[str, np.ndarray] = {}

    def mark(defect: str, mask: np.ndarray) -> None:
        masks[defect] = masks.get(defect, np.zeros(n, dtype=bool)) | mask

    updates = {}
    for column in columns:
        key, gen = column["key"], column["generator"]
        series = frame[key]
        present = (series.is_not_null() & (series != "")).to_numpy()
        candidates = eligible & present
        if gen == "email":
            mask = candidates & (rng.random(n) < EMAIL_RATE)
            kind = rng.integers(0, 4, n)
            variants = [
                pl.lit(" ") + pl.col("s"),
                pl.col("s") + pl.lit(" "),
                pl.col("s").str.to_uppercase(),
                pl.col("s").str.slice(0, 1).str.to_uppercase() + pl.col("s").str.slice(1),
            ]
            new = (
                pl.DataFrame({"s": series, "k": kind})
                .select(
                    pl.when(pl.col("k") == 0)
                    .then(variants[0])
                    .when(pl.col("k") == 1)
                    .then(variants[1])
                    .when(pl.col("k") == 2)
                    .then(variants[2])
                    .otherwise(variants[3])
                )
                .to_series()
            )
            updates[key] = _replace(series, mask, new)
            mark("email_spaces_and_capitals", mask)
        elif gen == "phone" and column.get("params", {}).get("country", "fr") == "fr":
            native = column.get("params", {}).get("style", "spaced")
            national = series.str.replace_all(r"[ .]", "")
            styles = [s for s in PHONE_STYLES if s != native]
            choice = rng.integers(0, len(styles), n)
            mask = candidates & (rng.random(n) < PHONE_RATE)
            out = series
            for i, style in enumerate(styles):
                out = _replace(out, mask & (choice == i), _phone_style(national, style))
            updates[key] = out
            mark("phone_formats", mask)
        elif gen in ("event_date", "birth_date") and not column.get("params", {}).get("time"):
            native = column.get("params", {}).get("format", "%d/%m/%Y")
            parsed = series.str.to_date(native, strict=False)
            formats = [f for f in DATE_FORMATS if f != native]
            updates[key], mask = _other_formats(series, parsed, formats, candidates, rng)
            mark("date_formats", mask)
        elif gen == "timestamp_iso":
            parsed = series.str.to_datetime("%Y-%m-%dT%H:%M:%S%.3fZ", strict=False)
            updates[key], mask = _other_formats(series, parsed, TIMESTAMP_FORMATS, candidates, rng)
            mark("date_formats", mask)
        elif gen == "health_comment" and fmt == "csv":
            mask = candidates & (rng.random(n) < NEWLINE_RATE)
            follow = FOLLOW_UPS.get(lang, FOLLOW_UPS["en"])
            updates[key] = _replace(series, mask, series + "\n" + follow)
            mark("quoted_newlines", mask)
    frame = frame.with_columns(**updates) if updates else frame

    edits = RowEdits()
    width = len(columns)
    u = rng.random(n)
    short = eligible & (u < SHORT_RATE)
    long = eligible & (u >= SHORT_RATE) & (u < SHORT_RATE + LONG_RATE)
    drop = rng.integers(1, 4, n)
    for row in np.flatnonzero(short):
        edits.short[int(row)] = width - int(drop[row])
    for row in np.flatnonzero(long):
        edits.long[int(row)] = ["", "X"][: 1 + int(drop[row]) % 2]
    # The cells a short row leaves out are not in the dump: blank them for the counts.
    if short.any():
        nulls = {}
        for j, column in enumerate(columns):
            gone = short & (j >= width - drop)
            if gone.any():
                nulls[column["key"]] = _replace(
                    frame[column["key"]], gone, pl.Series([None] * n, dtype=pl.String)
                )
        frame = frame.with_columns(**nulls)
    mark("ragged_rows_too_few_fields", short)
    mark("ragged_rows_too_many_fields", long)
    if header_row is not None and fmt == "csv":
        edits.header_before.add(header_row)
        touched["repeated_header_line"] += 1

    for defect, mask in masks.items():
        touched[defect] += int(mask.sum())
    return frame, edits, touched
