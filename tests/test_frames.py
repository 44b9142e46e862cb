"""Frames that travel between processes as Arrow buffers (triage.frames)."""

from __future__ import annotations

import pickle
from datetime import date

import numpy as np
import polars as pl

from triage.frames import from_arrow_columns, to_arrow_columns


def sample_frame(rows: int) -> pl.DataFrame:
    rng = np.random.default_rng(3)
    hi = pl.Series("\0hi", rng.integers(0, 2**64, rows, dtype=np.uint64))
    return pl.DataFrame([
        hi.scatter(np.arange(0, rows, 7), None),  # nulls: a validity buffer travels too
        pl.Series("\0first", [date(2020, 1, 1 + i % 28) if i % 5 else None
                              for i in range(rows)], dtype=pl.Date),
        pl.Series("kind", [["email", "phone", None][i % 3] for i in range(rows)]
                  ).cast(pl.Categorical),
        # An Enum comes back from Arrow as a Categorical unless its type travels too.
        pl.Series("slot", [["b", "a"][i % 2] for i in range(rows)], dtype=pl.Enum(["a", "b"])),
        pl.Series("text", [f"v{i}" if i % 4 else None for i in range(rows)]),
        pl.Series("person", np.arange(rows, dtype=np.uint32)),
    ])


def travelled(frame: pl.DataFrame) -> tuple[pl.DataFrame, int, int]:
    """The frame after a trip through pickle protocol 5 with out-of-band buffers, as
    Dask sends it: (frame, bytes in the pickle stream, bytes in the buffers)."""
    buffers: list[pickle.PickleBuffer] = []
    stream = pickle.dumps(to_arrow_columns(frame), protocol=5, buffer_callback=buffers.append)
    back = from_arrow_columns(pickle.loads(stream, buffers=buffers))
    return back, len(stream), sum(b.raw().nbytes for b in buffers)


def test_a_frame_comes_back_with_its_names_types_and_nulls():
    frame = sample_frame(10_000)
    back, _, _ = travelled(frame)
    assert back.schema == frame.schema
    assert back.equals(frame)
    assert from_arrow_columns(pickle.loads(pickle.dumps(to_arrow_columns(frame)))).equals(frame)
    empty = frame.clear()
    assert travelled(empty)[0].schema == empty.schema


def test_the_data_travels_out_of_band():
    frame = sample_frame(100_000)
    _, in_band, out_of_band = travelled(frame)
    assert out_of_band >= 100_000 * (8 + 4 + 4)  # digest words, dates, person numbers
    assert in_band < out_of_band / 20


def test_a_slice_carries_its_own_rows_only():
    frame = sample_frame(100_000)
    whole = travelled(frame)[2]
    for start in (0, 50_000, 99_000):
        part = frame.slice(start, 1000)
        back, in_band, out_of_band = travelled(part)
        assert back.equals(part)
        assert in_band + out_of_band < whole / 20
