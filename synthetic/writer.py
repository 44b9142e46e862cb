"""Writing chunks: polars renders the rows, Python only the few deliberately broken ones.

A chunk is rendered to text by polars (``write_csv`` / ``write_ndjson``) and
transcoded once to the dump's encoding. Rows that a messy dump breaks on purpose
(too few or too many fields, a header line repeated before them) are rendered by
the csv / json modules between slices of the chunk, so the fast path stays a
single polars call per slice.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from typing import BinaryIO

import polars as pl

#: UTF-8 of the C1 controls U+0080-U+009F, where cp1252 and latin-1 differ.
_C1_IN_UTF8 = re.compile(rb"\xc2[\x80-\x9f]")


@dataclass
class RowEdits:
    """Structural defects of one chunk, by row position inside the chunk."""

    #: row -> number of fields kept (too few fields).
    short: dict[int, int] = field(default_factory=dict)
    #: row -> surplus values appended (too many fields).
    long: dict[int, list[str]] = field(default_factory=dict)
    #: rows before which the header line is written again.
    header_before: set[int] = field(default_factory=set)

    def positions(self) -> list[int]:
        return sorted(set(self.short) | set(self.long) | self.header_before)


class DumpWriter:
    def __init__(
        self,
        out: BinaryIO,
        *,
        fmt: str,
        encoding: str,
        delimiter: str,
        line_terminator: str,
        headers: list[str],
    ) -> None:
        self.out = out
        self.fmt = fmt
        self.encoding = encoding
        self.delimiter = delimiter
        self.line_terminator = line_terminator
        self.headers = headers
        self.header_line = self._csv_line(headers) if fmt == "csv" else ""

    def _csv_line(self, values: list[str | None]) -> str:
        buf = io.StringIO()
        csv.writer(
            buf,
            delimiter=self.delimiter,
            lineterminator=self.line_terminator,
            quoting=csv.QUOTE_MINIMAL,
        ).writerow(["" if v is None else v for v in values])
        return buf.getvalue()

    def _json_line(self, keys: list[str], values: list[str | None]) -> str:
        return (
            json.dumps(
                dict(zip(keys, values, strict=True)), ensure_ascii=False, separators=(",", ":")
            )
            + "\n"
        )

    def _render(self, frame: pl.DataFrame) -> bytes | memoryview:
        """Rows as bytes in the dump's encoding."""
        if frame.height == 0:
            return b""
        buf = io.BytesIO()
        if self.fmt == "jsonl":
            frame.write_ndjson(buf)
        else:
            frame.write_csv(
                buf,
                include_header=False,
                separator=self.delimiter,
                line_terminator=self.line_terminator,
                quote_style="necessary",
                null_value="",
            )
        utf8 = buf.getbuffer()  # a view: no copy of the chunk's text
        if self.encoding == "utf-8":
            return utf8
        text = str(utf8, "utf-8")
        if self.encoding == "cp1252" and not _C1_IN_UTF8.search(utf8):
            # Outside the C1 controls, cp1252 and latin-1 agree below U+0100, and latin-1
            # encoding is a plain copy, several times faster than the charmap codec. A wider
            # character (œ, €) makes latin-1 fail; then the charmap codec does the work.
            try:
                return text.encode("latin-1")
            except UnicodeEncodeError:
                pass
        return text.encode(self.encoding)

    def render_row(self, values: list[str | None]) -> str:
        if self.fmt == "jsonl":
            return self._json_line(self.headers, values)
        return self._csv_line(values)

    def write_header(self) -> None:
        self._emit(self.header_line)

    def write_chunk(self, frame: pl.DataFrame, edits: RowEdits | None = None) -> None:
        frame = frame.rename(dict(zip(frame.columns, self.headers, strict=True)))
        if not edits or not edits.positions():
            self.out.write(self._render(frame))
            return
        start = 0
        for pos in edits.positions():
            self.out.write(self._render(frame.slice(start, pos - start)))
            if pos in edits.header_before:
                self._emit(self.header_line)
            start = pos
            if pos in edits.short or pos in edits.long:
                values = list(frame.row(pos))
                if pos in edits.short:
                    kept = edits.short[pos]
                    self._emit(
                        self._csv_line(values[:kept])
                        if self.fmt == "csv"
                        else self._json_line(self.headers[:kept], values[:kept])
                    )
                else:
                    extra = edits.long[pos]
                    self._emit(
                        self._csv_line(values + extra)
                        if self.fmt == "csv"
                        else self._json_line(
                            self.headers + [f"_x{i}" for i in range(len(extra))], values + extra
                        )
                    )
                start = pos + 1
        self.out.write(self._render(frame.slice(start)))

    def write_truncated(self, values: list[str | None]) -> None:
        """A last record cut half-way, with no line end: the export died mid-write."""
        line = self.render_row(values).rstrip("\r\n")
        cut = line[: max(1, len(line) // 2)]
        # Keep the cut outside quotes so the defect is the truncation, not an open quote.
        if cut.count('"') % 2:
            cut = cut[: cut.rindex('"')]
        self._emit(cut)

    def _emit(self, text: str) -> None:
        if text:
            self.out.write(text.encode(self.encoding))
