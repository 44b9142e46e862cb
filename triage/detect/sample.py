"""Samples of a table's rows, and of each column's filled values, that do not depend
on how the input is cut.

A row is kept when its hash (:mod:`triage.profile.hashes`, a function of the row's
content) has its ``level`` lowest bits zero. Whenever a sample would outgrow its cap,
its level rises until what it keeps fits, each step keeping about half. So the level
a sample ends at is the least level whose rows fit the cap over all the rows read,
and the rows it keeps are a function of that set of rows alone: the same whether the
input came as one batch, as many, or as a cluster's parts, and two samples merge
into exactly the sample of their rows together.

A table keeps a sample of whole rows (for the relations between columns), in file
order, and each column a sample of its filled values at a level of its own, so
that a sparse column keeps its few values from all over the input while a full one
keeps one row in thousands. A column whose level is at or above the rows' level
needs nothing of its own: its values are in the sampled rows, and are read from
them when asked for. Only a column below it (a sparse one) keeps the values of the
rows between the two levels; when the rows' level rises, the rows it drops are
handed to the columns that still need them. So on a table of full columns a batch
costs one gather of the rows kept. A column's values come sorted by their row's
hash, an order that does not depend on the cut either.

Duplicate rows share a hash and are kept or dropped together; a row's chance of
being kept is otherwise independent of every other row's.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
import polars as pl

#: A level past which nothing more can be dropped (every bit of the hash is zero).
MAX_LEVEL = 64

_VALUE = "\0v"
_NO_HASHES = np.empty(0, dtype=np.uint64)
_NO_ZEROS = np.empty(0, dtype=np.int64)


def _mask(level: int) -> np.uint64:
    return np.uint64((1 << level) - 1)


def _kept(hashes: np.ndarray, level: int) -> np.ndarray:
    return (hashes & _mask(level)) == 0


def _trailing_zeros(hashes: np.ndarray) -> np.ndarray:
    """The level each hash is kept up to: its count of trailing zero bits."""
    lowest_bit = hashes & (np.uint64(0) - hashes)
    zeros = np.full(len(hashes), MAX_LEVEL, dtype=np.int64)
    nonzero = lowest_bit != 0
    zeros[nonzero] = np.log2(lowest_bit[nonzero].astype(np.float64)).astype(np.int64)
    return zeros


def _fit(zeros: np.ndarray, level: int, cap: int) -> int:
    """The least level from ``level`` at which at most ``cap`` of the hashes whose
    :func:`_trailing_zeros` are ``zeros`` are kept."""
    kept_at = np.cumsum(np.bincount(zeros, minlength=MAX_LEVEL + 1)[::-1])[::-1]
    fits = np.flatnonzero(kept_at[level:] <= cap)
    return level + int(fits[0]) if len(fits) else MAX_LEVEL


def _level_to_fit(hashes: np.ndarray, level: int, cap: int) -> int:
    """The least level from ``level`` at which at most ``cap`` of ``hashes`` are kept."""
    hashes = hashes[_kept(hashes, level)]
    return level if len(hashes) <= cap else _fit(_trailing_zeros(hashes), level, cap)


def detached(frame: pl.DataFrame) -> pl.DataFrame:
    """A copy of ``frame`` that owns its strings. A gather shares the batch's string
    buffers, so a few sampled rows of every batch would keep every batch alive
    (~20 MB each on a 60-column export). polars' own serialization writes only the rows
    kept: 0.4 ms for 84 rows of wide_2m, where an Arrow round trip took 1.2 ms."""
    return pl.DataFrame.deserialize(io.BytesIO(frame.serialize()))


@dataclass
class _Column:
    """A column's sample. ``level``: while under the rows' level, exact, and
    ``values``/``hashes`` hold its filled values of the rows between the two levels
    (``row_filled`` counting its filled values in the sampled rows); at or above it, a
    lower bound that :meth:`TableSample.values` raises to the exact level, and
    ``values`` is empty."""

    level: int = 0
    values: list[pl.Series] = field(default_factory=list)
    hashes: list[np.ndarray] = field(default_factory=list)
    row_filled: int = 0

    def held(self) -> int:
        return sum(len(h) for h in self.hashes)

    def keep_from(self, level: int) -> None:
        """Raise the level to ``level``, dropping the values under it."""
        self.level = level
        if self.hashes:
            hashes = np.concatenate(self.hashes)
            kept = _kept(hashes, level)
            self.values = [pl.concat(self.values).filter(pl.Series(kept))]
            self.hashes = [hashes[kept]]

    def into_rows(self, level: int) -> None:
        """Its level is ``level``, at or above the rows': it keeps nothing of its own."""
        self.level, self.values, self.hashes, self.row_filled = level, [], [], 0

    def copy(self) -> _Column:
        return _Column(self.level, list(self.values), list(self.hashes), self.row_filled)


class TableSample:
    """At most ``row_cap`` whole rows, and per column at most ``value_cap`` filled
    values, chosen by their rows' hashes (see the module's documentation)."""

    def __init__(self, row_cap: int, value_cap: int) -> None:
        self.row_cap = row_cap
        self.value_cap = value_cap
        self.level = 0
        self._rows: list[pl.DataFrame] = []
        self._row_hashes: list[np.ndarray] = []
        self._columns: dict[str, _Column] = {}

    def __len__(self) -> int:
        return sum(len(h) for h in self._row_hashes)

    # -- reading --------------------------------------------------------------------

    def add(self, batch: pl.DataFrame, hashes: np.ndarray, columns: list[str]) -> None:
        """Take in ``batch``, whose rows hash to ``hashes``; ``columns`` get value samples."""
        for name in columns:
            self._columns.setdefault(name, _Column())
        candidates = np.flatnonzero(_kept(hashes, self.level))
        held = np.concatenate([_NO_HASHES, *self._row_hashes, hashes[candidates]])
        level = _level_to_fit(held, self.level, self.row_cap)
        if level != self.level:
            self._raise_rows(level)
            candidates = candidates[_kept(hashes[candidates], level)]
        kept = detached(batch[candidates]) if len(candidates) else None
        if kept is not None:
            self._rows.append(kept)
            self._row_hashes.append(hashes[candidates])
        below = [name for name in columns if self._columns[name].level < self.level]
        if below and kept is not None:
            for name, filled in self._filled(kept, below).items():
                column = self._columns[name]
                column.row_filled += int(filled.sum())
                if column.row_filled > self.value_cap:
                    # More values at the rows' level than it may keep: its level is above
                    # the rows' (a full column, in a table's first batch), which needs
                    # none of the rows under it.
                    column.into_rows(self.level + 1)
            below = [name for name in below if self._columns[name].level < self.level]
        if below:
            self._take_below(below, batch, hashes)

    def _take_below(self, names: list[str], batch: pl.DataFrame, hashes: np.ndarray) -> None:
        """The values of ``names`` (columns under the rows' level) in the rows of
        ``batch`` between their level and the rows'."""
        lowest = min(self._columns[name].level for name in names)
        between = _kept(hashes, lowest) & ~_kept(hashes, self.level)
        rows = np.flatnonzero(between)
        if 4 * len(rows) > batch.height:  # most of the batch: no gather, a mask
            self._hand(names, batch, hashes, within=between)
        elif len(rows):
            self._hand(names, batch.select(names)[rows], hashes[rows])

    def _hand(self, names: list[str], frame: pl.DataFrame, hashes: np.ndarray, *,
              within: np.ndarray | None = None) -> None:
        """Give each of ``names`` (columns under the rows' level) its filled values of
        ``frame``'s rows (hashing to ``hashes``, all under the rows' level, or those
        ``within`` marks) that its level keeps; a column that would hold more than the
        cap raises its level first, so only what it keeps is copied (a copy: values
        that outlive the rows they came from keep nothing else of them alive)."""
        filled = frame.select((pl.col(n).str.len_bytes() > 0).fill_null(False) for n in names)
        keep = filled.to_numpy().T.copy()  # one row per column
        if within is not None:
            keep &= within
        zeros: np.ndarray | None = None
        in_rows: dict[str, np.ndarray] = {}
        for j, name in enumerate(names):
            column = self._columns[name]
            keep[j] &= _kept(hashes, column.level)
            coming = int(keep[j].sum())
            if column.held() + coming + column.row_filled > self.value_cap:
                if zeros is None:  # the first to rise: what every other one needs, once
                    zeros = _trailing_zeros(hashes)
                    in_rows = self._filled_row_zeros(names)
                self._raise_column(name, zeros[keep[j]], in_rows.get(name, _NO_ZEROS))
                keep[j] &= _kept(hashes, column.level) & (column.level < self.level)
        rows = np.flatnonzero(keep.any(axis=0))
        if not len(rows):
            return
        long = frame.select(names)[rows].unpivot(value_name=_VALUE)
        values = long.select(pl.col(_VALUE).filter(pl.Series(keep[:, rows].ravel())))
        values = detached(values)[_VALUE]
        # The unpivot put the columns one after the other: each one's values are a slice.
        start = 0
        for j, (name, count) in enumerate(zip(names, keep.sum(axis=1).tolist(), strict=True)):
            if count:
                column = self._columns[name]
                column.values.append(values.slice(start, count))
                column.hashes.append(hashes[keep[j]])
                start += count

    def _raise_column(self, name: str, coming: np.ndarray = _NO_ZEROS,
                      in_rows: np.ndarray | None = None) -> None:
        """Raise a column under the rows' level until it keeps at most the cap, counting
        the values it is about to take and those in the sampled rows (``coming``,
        ``in_rows``: their :func:`_trailing_zeros`)."""
        column = self._columns[name]
        if in_rows is None:
            in_rows = self._filled_row_zeros([name]).get(name, _NO_ZEROS)
        held = _trailing_zeros(np.concatenate([_NO_HASHES, *column.hashes]))
        level = _fit(np.concatenate([held, in_rows, coming]), column.level, self.value_cap)
        if level >= self.level:  # every value it keeps is in the sampled rows now
            column.into_rows(level)
        else:
            column.keep_from(level)

    def _raise_rows(self, level: int) -> None:
        """Raise the rows' level to ``level``: the rows dropped go to the columns whose
        levels are under it, which need their values."""
        frame, hashes = self._row_frame()
        if frame is None:
            self.level = level
            return
        kept = _kept(hashes, level)
        filled = self._filled(frame, list(self._columns))
        for name, mask in filled.items():
            column = self._columns[name]
            if column.level < self.level:
                continue
            if int((mask & kept).sum()) > self.value_cap:
                # More values at the new level than it may keep: it stays above it.
                column.level = max(column.level, level + 1)
            else:  # exact, from the rows that hold every value it keeps
                column.level = _level_to_fit(hashes[mask], column.level, self.value_cap)
        self.level = level
        self._rows, self._row_hashes = [frame.filter(pl.Series(kept))], [hashes[kept]]
        below = [n for n, c in self._columns.items() if c.level < level]
        for name in below:
            mask = filled.get(name)
            self._columns[name].row_filled = 0 if mask is None else int((mask & kept).sum())
        handed = [n for n in below if n in frame.columns]
        if handed and not kept.all():
            self._hand(handed, frame.filter(pl.Series(~kept)), hashes[~kept])

    # -- merging --------------------------------------------------------------------

    def merge(self, other: TableSample) -> TableSample:
        """The sample of this one's rows followed by ``other``'s."""
        sides = [self._copy(), other._copy()]
        level = max(side.level for side in sides)
        for side in sides:
            if side.level != level:
                side._raise_rows(level)
        merged = TableSample(self.row_cap, self.value_cap)
        merged.level = level
        merged._rows = sides[0]._rows + sides[1]._rows
        merged._row_hashes = sides[0]._row_hashes + sides[1]._row_hashes
        for name in {**sides[0]._columns, **sides[1]._columns}:
            parts = [side._columns.get(name, _Column()) for side in sides]
            column = _Column(max(part.level for part in parts))
            merged._columns[name] = column
            if column.level >= level:
                continue  # in the rows: what the other side held under it is dropped
            for part in parts:
                column.values += part.values
                column.hashes += part.hashes
                column.row_filled += part.row_filled
            column.keep_from(column.level)
            if column.held() + column.row_filled > merged.value_cap:
                merged._raise_column(name)
        rows = np.concatenate([_NO_HASHES, *merged._row_hashes])
        fit = _level_to_fit(rows, level, merged.row_cap)
        if fit != level:
            merged._raise_rows(fit)
        return merged

    def _copy(self) -> TableSample:
        copy = TableSample(self.row_cap, self.value_cap)
        copy.level = self.level
        copy._rows, copy._row_hashes = list(self._rows), list(self._row_hashes)
        copy._columns = {name: column.copy() for name, column in self._columns.items()}
        return copy

    # -- results --------------------------------------------------------------------

    def rows(self) -> pl.DataFrame:
        """The rows kept, in file order (one frame; columns a batch lacked are null)."""
        frame, _ = self._row_frame()
        return pl.DataFrame() if frame is None else frame

    def values(self) -> pl.DataFrame:
        """Every column's values, ``name`` and ``v``: columns by name, each column's
        values in the order of their rows' hashes."""
        frame, hashes = self._row_frame()
        names = sorted(self._columns)
        filled = self._filled(frame, names) if frame is not None else {}
        parts = []
        for name in names:
            column = self._columns[name]
            in_rows = filled.get(name)
            values = [] if in_rows is None else [frame[name].filter(pl.Series(in_rows))]
            row_hashes = _NO_HASHES if in_rows is None else hashes[in_rows]
            if column.level >= self.level:  # its values are in the rows: which ones
                column.level = _level_to_fit(row_hashes, column.level, self.value_cap)
                mine = _kept(row_hashes, column.level)
                values, of = [s.filter(pl.Series(mine)) for s in values], [row_hashes[mine]]
            else:
                values, of = column.values + values, [*column.hashes, row_hashes]
            if values:
                order = np.argsort(np.concatenate(of), kind="stable")
                parts.append(pl.concat(values).gather(order).to_frame("v")
                             .select(pl.lit(name).alias("name"), "v"))
        # One chunk: every detector's query runs over it.
        return pl.concat(parts, rechunk=True) if parts else pl.DataFrame(
            schema={"name": pl.String, "v": pl.String})

    def _row_frame(self) -> tuple[pl.DataFrame | None, np.ndarray]:
        if not self._rows:
            return None, _NO_HASHES
        if len(self._rows) > 1:
            self._rows = [pl.concat(self._rows, how="diagonal_relaxed")]
            self._row_hashes = [np.concatenate(self._row_hashes)]
        return self._rows[0], self._row_hashes[0]

    def _filled_row_zeros(self, names: list[str]) -> dict[str, np.ndarray]:
        """Per column of ``names``, the :func:`_trailing_zeros` of the sampled rows where
        it is filled."""
        frame, hashes = self._row_frame()
        if frame is None:
            return {}
        zeros = _trailing_zeros(hashes)
        return {name: zeros[filled] for name, filled in self._filled(frame, names).items()}

    @staticmethod
    def _filled(frame: pl.DataFrame, names: list[str]) -> dict[str, np.ndarray]:
        """Per column of ``names`` that ``frame`` has, where it is filled (a mask)."""
        present = [n for n in names if n in frame.columns]
        if not present:
            return {}
        filled = frame.select((pl.col(n).str.len_bytes() > 0).fill_null(False) for n in present)
        return {n: filled[n].to_numpy() for n in present}

