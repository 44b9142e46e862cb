"""Samples of a table's rows, and of each column's filled values, that do not depend
on how the input is cut.

A row is kept when its hash (:mod:`triage.profile.hashes`, a function of the row's
content) has its ``level`` lowest bits zero. Whenever a sample would outgrow its cap,
its level rises until what it keeps fits, each step keeping about half. So the level
a sample ends at is the least level whose rows fit the cap over all the rows read,
and the rows it keeps are a function of that set of rows alone: the same whether the
input came as one batch, as many, or as a cluster's parts, and two samples merge
into exactly the sample of their rows together. Kept in file order (merges put the
earlier part first), so evidence drawn from them is the same too.

Duplicate rows share a hash and are kept or dropped together; a row's chance of
being kept is otherwise independent of every other row's.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import polars as pl

#: A level past which nothing more can be dropped (every bit of the hash is zero).
MAX_LEVEL = 64

_VALUE = "\0v"


def _mask(level: int) -> np.uint64:
    return np.uint64((1 << level) - 1)


def _kept(hashes: np.ndarray, level: int) -> np.ndarray:
    return (hashes & _mask(level)) == 0


def _level_to_fit(hashes: np.ndarray, level: int, cap: int) -> int:
    """The least level from ``level`` at which at most ``cap`` of ``hashes`` are kept."""
    if len(hashes) <= cap:
        return level
    # A hash is kept up to the level of its trailing zero bits: count them once.
    lowest_bit = hashes & (np.uint64(0) - hashes)
    zeros = np.full(len(hashes), MAX_LEVEL, dtype=np.int64)
    nonzero = lowest_bit != 0
    zeros[nonzero] = np.log2(lowest_bit[nonzero].astype(np.float64)).astype(np.int64)
    kept_at = np.cumsum(np.bincount(zeros, minlength=MAX_LEVEL + 1)[::-1])[::-1]
    fits = np.flatnonzero(kept_at[level:] <= cap)
    return level + int(fits[0]) if len(fits) else MAX_LEVEL


def detached(frame: pl.DataFrame) -> pl.DataFrame:
    """A copy of ``frame`` that owns its strings. A gather shares the batch's string
    buffers, so a few sampled rows of every batch would keep every batch alive
    (~20 MB each on a 60-column export). polars' own serialization writes only the rows
    kept: 0.4 ms for 84 rows of wide_2m, where an Arrow round trip took 1.2 ms."""
    return pl.DataFrame.deserialize(io.BytesIO(frame.serialize()))


@dataclass(frozen=True)
class Kept:
    """The rows of a batch a :class:`RowSample` kept (owning their strings), their
    hashes, and the level it kept them at."""

    rows: pl.DataFrame
    hashes: np.ndarray
    level: int


class RowSample:
    """At most ``cap`` whole rows, chosen by their hash."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.level = 0
        self._frames: list[pl.DataFrame] = []
        self._hashes: list[np.ndarray] = []

    def __len__(self) -> int:
        return sum(len(h) for h in self._hashes)

    def add(self, batch: pl.DataFrame, hashes: np.ndarray) -> Kept:
        """Take in ``batch``, whose rows hash to ``hashes``; returns the rows it kept."""
        candidates = np.flatnonzero(_kept(hashes, self.level))
        held = np.concatenate([*self._hashes, hashes[candidates]])
        level = _level_to_fit(held, self.level, self.cap)
        if level != self.level:
            self._settle(level)
            candidates = candidates[_kept(hashes[candidates], level)]
        kept = Kept(detached(batch[candidates]), hashes[candidates], level)
        if len(candidates):
            self._frames.append(kept.rows)
            self._hashes.append(kept.hashes)
        return kept

    def merge(self, other: RowSample) -> RowSample:
        """The sample of this one's rows followed by ``other``'s."""
        merged = RowSample(self.cap)
        merged.level = max(self.level, other.level)
        merged._frames = self._frames + other._frames
        merged._hashes = self._hashes + other._hashes
        merged._settle(_level_to_fit(np.concatenate([np.empty(0, np.uint64), *merged._hashes]),
                                     merged.level, merged.cap))
        return merged

    def frame(self) -> pl.DataFrame:
        """The rows kept, in file order (one frame; columns a batch lacked are null)."""
        if not self._frames:
            return pl.DataFrame()
        if len(self._frames) > 1:
            self._frames = [pl.concat(self._frames, how="diagonal_relaxed")]
            self._hashes = [np.concatenate(self._hashes)]
        return self._frames[0]

    def _settle(self, level: int) -> None:
        """Raise the level to ``level``, dropping the rows it no longer keeps."""
        self.level = level
        if not self._frames:
            return
        frame, hashes = self.frame(), self._hashes[0]
        kept = _kept(hashes, level)
        self._frames, self._hashes = [frame.filter(pl.Series(kept))], [hashes[kept]]


class ValueSamples:
    """Per column, at most ``cap`` filled (non-empty) values, chosen by their row's hash.

    Each column has its own level, so a sparse column keeps its few values from all
    over the input while a full one keeps one row in thousands. A batch costs, per
    group of levels (at or above the row sample's; 0; in between), one unpivot and
    one filter, of the rows the row sample kept for the first group (no gather); what
    each column keeps is decided on the rows' hashes (numpy). Values a level no
    longer keeps are dropped lazily, once a column lists twice its cap.
    """

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.levels: dict[str, int] = {}
        #: Per column, the row hashes of the values it keeps, in file order.
        self._hashes: dict[str, np.ndarray] = {}
        #: Per column, values in file order and their rows' hashes: what it keeps, and
        #: some its level has since dropped.
        self._values: dict[str, list[pl.Series]] = {}
        self._value_hashes: dict[str, list[np.ndarray]] = {}

    def add(self, batch: pl.DataFrame, hashes: np.ndarray, columns: list[str],
            rows: Kept) -> None:
        """Take in ``columns`` of ``batch``, whose rows hash to ``hashes``; ``rows``, the
        rows the row sample kept of it, hold all that columns at its level or above keep."""
        for name in columns:
            self.levels.setdefault(name, 0)
        # Full columns (levels at or above the row sample's) read the rows it kept,
        # which own their strings already; sparse ones (level 0) read the whole batch;
        # those in between, the rows the lowest of their levels keeps.
        high = [name for name in columns if self.levels[name] >= rows.level]
        whole = [name for name in columns if not self.levels[name] and name not in high]
        low = [name for name in columns if 0 < self.levels[name] < rows.level]
        if high and len(rows.hashes):
            self._take(high, rows.rows, rows.hashes, owned=True)
        if whole:
            self._take(whole, batch, hashes)
        if low:
            picked = np.flatnonzero(_kept(hashes, min(self.levels[n] for n in low)))
            if len(picked):
                self._take(low, batch.select(low)[picked], hashes[picked])

    def _take(self, names: list[str], frame: pl.DataFrame, hashes: np.ndarray, *,
              owned: bool = False) -> None:
        """``names`` of ``frame``, whose rows hash to ``hashes``: each column keeps the
        filled values its level keeps. ``owned``: the frame is a few rows that own
        their strings (the row sample's), read whole; otherwise which values to keep
        is decided first, and only the rows some column keeps are read and copied."""
        if owned:
            long = frame.select(names).unpivot(value_name=_VALUE)
            filled = long.select((pl.col(_VALUE).str.len_bytes() > 0).fill_null(False))
            keep = filled.to_series().to_numpy().reshape(len(names), len(hashes))
        else:
            filled = frame.select((pl.col(n).str.len_bytes() > 0).fill_null(False)
                                  for n in names)
            keep = filled.to_numpy().T.copy()  # one row per column
        levels = {level: _kept(hashes, level)
                  for level in {self.levels[name] for name in names} if level}
        for j, name in enumerate(names):
            level = self.levels[name]
            if level:
                keep[j] &= levels[level]
            new = hashes[keep[j]]
            if not len(new):
                continue
            held = np.concatenate([self._hashes.get(name, _NO_HASHES), new])
            if len(held) > self.cap:
                self.levels[name] = _level_to_fit(held, level, self.cap)
                keep[j] &= _kept(hashes, self.levels[name])
                held = held[_kept(held, self.levels[name])]
            self._hashes[name] = held
        if owned:
            values = long.select(pl.col(_VALUE).filter(pl.Series(keep.ravel())))[_VALUE]
        else:
            rows = np.flatnonzero(keep.any(axis=0))
            if not len(rows):
                return
            long = frame.select(names)[rows].unpivot(value_name=_VALUE)
            values = detached(long.select(pl.col(_VALUE).filter(
                pl.Series(keep[:, rows].ravel()))))[_VALUE]
        # The unpivot put the columns one after the other: each one's values are a slice.
        start = 0
        for j, (name, count) in enumerate(zip(names, keep.sum(axis=1).tolist(), strict=True)):
            if count:
                self._list(name, [values.slice(start, count)], [hashes[keep[j]]])
                start += count

    def _list(self, name: str, values: list[pl.Series], hashes: list[np.ndarray]) -> None:
        """Add ``values`` (rows hashing to ``hashes``) to what ``name`` lists."""
        listed = self._values.setdefault(name, [])
        listed += values
        listed_hashes = self._value_hashes.setdefault(name, [])
        listed_hashes += hashes
        if sum(len(h) for h in listed_hashes) > 2 * self.cap:
            self._drop_unkept(name)

    def _drop_unkept(self, name: str) -> None:
        """List only the values ``name`` keeps."""
        hashes = np.concatenate(self._value_hashes[name])
        kept = _kept(hashes, self.levels[name])
        self._values[name] = [pl.concat(self._values[name]).filter(pl.Series(kept))]
        self._value_hashes[name] = [hashes[kept]]

    def merge(self, other: ValueSamples) -> ValueSamples:
        """The samples of this one's rows followed by ``other``'s."""
        merged = ValueSamples(self.cap)
        for name in {**self.levels, **other.levels}:
            level = max(self.levels.get(name, 0), other.levels.get(name, 0))
            held = np.concatenate([s._hashes.get(name, _NO_HASHES) for s in (self, other)])
            merged.levels[name] = level = _level_to_fit(held, level, merged.cap)
            merged._hashes[name] = held[_kept(held, level)]
            for source in (self, other):
                if source._values.get(name):
                    merged._list(name, source._values[name], source._value_hashes[name])
        return merged

    def frame(self) -> pl.DataFrame:
        """Every column's values, ``name`` and ``v``: columns by name, each column's
        values in file order."""
        frames = []
        for name in sorted(self._values):
            self._drop_unkept(name)
            frames.append(self._values[name][0].to_frame("v")
                          .select(pl.lit(name).alias("name"), "v"))
        # One chunk: every detector's query runs over it, and one per batch a column
        # kept values from would slow each of them.
        return pl.concat(frames, rechunk=True) if frames else pl.DataFrame(
            schema={"name": pl.String, "v": pl.String})


_NO_HASHES = np.empty(0, dtype=np.uint64)
