"""JSON Lines: one object per line, nested objects flattened to dotted names."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import closing
from typing import Any, BinaryIO

import polars as pl

from triage.errors import TriageError
from triage.sources.base import Source, SourceInfo
from triage.sources.prefetch import prefetch
from triage.sources.stream import Member

CHUNK_BYTES = 16 * 1024 * 1024


def flatten(record: dict[str, Any], prefix: str = "") -> dict[str, str | None]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": "1"}``; lists are kept as JSON text."""
    flat: dict[str, str | None] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        elif value is None:
            flat[name] = None
        elif isinstance(value, str):
            flat[name] = value
        elif isinstance(value, bool):
            flat[name] = "true" if value else "false"
        elif isinstance(value, (int, float)):
            flat[name] = json.dumps(value)
        else:
            flat[name] = json.dumps(value, ensure_ascii=False)
    return flat


class JsonLinesSource(Source):
    def __init__(self, member: Member, info: SourceInfo) -> None:
        super().__init__(info)
        self.member = member

    def batches(self) -> Iterator[pl.DataFrame]:
        # Reading and parsing run one chunk ahead of the consumer, on a thread of
        # their own (decompression and polars' parser release the GIL).
        with self.member.open(self._progress) as stream, closing(prefetch(
                self._parse(chunk, line) for chunk, line in self._chunks(stream))) as frames:
            for frame in frames:
                if frame.height:
                    yield frame

    def _chunks(self, stream: BinaryIO) -> Iterator[tuple[bytes, int]]:
        """(chunk of whole lines, its first line number); the last may be empty."""
        pending = b""
        line = 1
        while True:
            try:
                block = stream.read(CHUNK_BYTES)
            except (OSError, EOFError):
                raise TriageError("compressed stream ends early or is corrupt",
                                  path=self.info.name, line=line) from None
            data = pending + block
            if not block:
                cut = len(data)
            else:
                cut = data.rfind(b"\n") + 1
                if cut == 0:
                    pending = data
                    continue
            chunk, pending = data[:cut], data[cut:]
            yield chunk, line
            if not block:
                return
            line += chunk.count(b"\n")

    def _parse(self, chunk: bytes, first_line: int) -> pl.DataFrame:
        frame = _fast_parse(chunk)
        if frame is not None:
            self.accounting.add_parsed(frame.height)
            return frame
        return self._exact_parse(chunk, first_line)

    def _exact_parse(self, chunk: bytes, first_line: int) -> pl.DataFrame:
        # Python's json is exact about numbers and nesting, and a bad line costs one
        # rejection, not the chunk.
        rows: list[dict[str, str | None]] = []
        for index, raw in enumerate(chunk.split(b"\n")):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except (UnicodeDecodeError, json.JSONDecodeError):
                self.accounting.reject("invalid_json", line=first_line + index)
                continue
            if not isinstance(record, dict):
                self.accounting.reject("not_an_object", line=first_line + index)
                continue
            rows.append(flatten(record))
        self.accounting.add_parsed(len(rows))
        if not rows:
            return pl.DataFrame()
        names = list(dict.fromkeys(name for row in rows for name in row))
        return pl.DataFrame({n: [row.get(n) for row in rows] for n in names},
                            schema=dict.fromkeys(names, pl.String))


#: Types whose text polars writes exactly as the exact path does (json.dumps for
#: integers, "true"/"false", strings as they are). Floats (1e+20 vs 1e20) and lists
#: (JSON text) are not among them: such a chunk takes the exact path.
_SAME_TEXT = (pl.String, pl.Int64, pl.Boolean, pl.Null)


def _flat_strings(frame: pl.DataFrame, prefix: str = "") -> list[pl.Series] | None:
    columns: list[pl.Series] = []
    for series in frame.iter_columns():
        name = f"{prefix}{series.name}"
        if isinstance(series.dtype, pl.Struct):
            if series.null_count():
                # An explicit null object is a column of its own in the exact path, a
                # missing key is nothing: polars does not tell them apart.
                return None
            inner = _flat_strings(series.struct.unnest(), f"{name}.")
            if inner is None:
                return None
            columns.extend(inner)
        elif isinstance(series.dtype, _SAME_TEXT):
            columns.append(series.cast(pl.String).alias(name))
        else:
            return None
    return columns


def _fast_parse(chunk: bytes) -> pl.DataFrame | None:
    """polars' NDJSON reader on a chunk, when its text is what the exact path would give.

    None (take the exact path) on any parse error (a bad line, an array line, mixed
    types), on a type whose text could differ, or on two fields flattening to one name.
    """
    try:
        frame = pl.read_ndjson(io.BytesIO(chunk), infer_schema_length=None)
    except Exception:  # noqa: BLE001 - any doubt goes to the exact, line-by-line reader
        return None
    columns = _flat_strings(frame)
    if columns is None or len({c.name for c in columns}) != len(columns):
        return None
    return pl.DataFrame(columns)


def open_jsonl(member: Member, info: SourceInfo, head: bytes) -> JsonLinesSource:
    info.format = "jsonl"
    info.encoding = "utf-8"
    return JsonLinesSource(member, info)
