"""Parquet: read row group by row group, every column turned into strings."""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from polars.exceptions import PanicException

from triage.errors import TriageError
from triage.sources.base import Source, SourceInfo
from triage.sources.stream import Member

BATCH_ROWS = 65_536


def as_strings(frame: pl.DataFrame, prefix: str = "") -> pl.DataFrame:
    """Flatten structs to dotted names and render every other type as text."""
    columns: list[pl.Series] = []
    for series in frame.iter_columns():
        name = f"{prefix}{series.name}"
        if series.dtype == pl.Struct:
            columns.extend(as_strings(series.struct.unnest(), f"{name}.").iter_columns())
        elif series.dtype == pl.String:
            columns.append(series.alias(name))
        elif isinstance(series.dtype, (pl.List, pl.Array)):
            columns.append(pl.Series(name, [None if v is None else str(v)
                                            for v in series.to_list()], pl.String))
        elif series.dtype == pl.Binary:
            columns.append(series.bin.encode("hex").alias(name))
        else:
            columns.append(series.cast(pl.String).alias(name))
    return pl.DataFrame(columns)


class ParquetSource(Source):
    def __init__(self, member: Member, info: SourceInfo) -> None:
        super().__init__(info)
        self.member = member

    def batches(self) -> Iterator[pl.DataFrame]:
        with self.member.open() as stream:
            try:
                reader = pq.ParquetFile(stream)
            except (pa.ArrowException, OSError, PanicException):
                raise TriageError("corrupt Parquet file", path=self.info.name) from None
            done = 0
            total = self.info.size
            rows_total = max(reader.metadata.num_rows, 1)
            try:
                for batch in reader.iter_batches(batch_size=BATCH_ROWS):
                    frame = as_strings(pl.from_arrow(batch))  # type: ignore[arg-type]
                    self.accounting.add_parsed(frame.height)
                    # Parquet is read by seeks, so progress is by rows, scaled to bytes.
                    reached = total * (self.accounting.read / rows_total)
                    self._progress(int(reached - done))
                    done = int(reached)
                    yield frame
            except (pa.ArrowException, OSError, PanicException):
                # A damaged string column can make polars panic (invalid UTF-8): still
                # just corrupt input to the user, and never its content.
                raise TriageError("corrupt Parquet data", path=self.info.name) from None


def open_parquet(member: Member, info: SourceInfo, head: bytes) -> ParquetSource:
    info.format = "parquet"
    return ParquetSource(member, info)
