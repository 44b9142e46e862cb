"""A column among its neighbours: relations between the columns of one table's sample.

Some columns cannot be typed by their own values. An insurer's member number
(``MU731480168``) has exactly the shape of the table's own record key
(``F019762668``), and a NABM lab-act code (``0552``) is four bare digits like any
count. What tells them apart is how they go with the other columns of the same
rows, which the row sample keeps aligned (every sampled row has all its columns):

* a member number is one per person and one person per number: the person's
  identifiers determine it, it determines their traits (birth date, name), and it
  is not the table's own key (those lead the table). It is recorded only when the
  person has one, so it is often empty, where a record key never is;
* a nomenclature code is a coding of the act beside it: the procedure column
  determines it.

:class:`TableContext` holds the first verdicts and answers such questions with
counts and shares only (dependencies, filled shares), never a value. Detectors
ask it in :meth:`~triage.detect.base.Detector.in_context`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import polars as pl

from triage.detect.findings import ColumnFinding

#: Groups (values seen on two or more sampled rows) needed to judge a dependency.
MIN_GROUPS = 5
#: Sampled rows (evenly spread) that shape shares are measured on, as values are.
SHAPE_ROWS = 256


@dataclass(frozen=True)
class Dependency:
    """How far column ``a`` determines column ``b`` on the sampled rows holding both."""

    #: Share of ``a``'s repeated values (seen on 2+ rows) that go with a single ``b``.
    share: float
    #: How many of ``a``'s values were seen on 2+ rows: the evidence behind ``share``.
    groups: int

    @property
    def holds(self) -> bool:
        return self.groups >= MIN_GROUPS


NO_DEPENDENCY = Dependency(0.0, 0)


class TableContext:
    """First verdicts of one table plus its row sample, for context rules.

    ``sample`` is the row-aligned sample (raw strings); ``findings`` the first
    verdicts in column order; ``asked`` the columns rules will be asked about, whose
    shapes (:meth:`shape_share`) are measured together, one query for all of them.
    Columns are prepared (stripped, empty as missing) only when a rule needs their
    values, so a table that no rule concerns costs next to nothing.
    """

    def __init__(self, sample: pl.DataFrame, findings: list[ColumnFinding],
                 asked: list[str] | None = None) -> None:
        self._sample = sample
        self.findings = {f.name: f for f in findings}
        self.order = [f.name for f in findings]
        self._asked = [name for name in (asked if asked is not None else self.order)
                       if name in sample.columns]
        self._shapes: dict[str, dict[str, tuple[int, float]]] = {}
        self._columns: dict[str, pl.Series] = {}
        self._codes: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._runs: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._dependencies: dict[tuple[str, str], Dependency] = {}
        self._of: dict[str | None, list[str]] = {}
        for name in self.order:
            self._of.setdefault(self.findings[name].category, []).append(name)
        self._health = [name for name, f in self.findings.items()
                        if f.special_category and f.category != "ethnic_origin"]

    @property
    def asked(self) -> list[str]:
        """The columns rules are asked about (in the sample), in column order."""
        return list(self._asked)

    @property
    def rows(self) -> int:
        """Sampled rows."""
        return self._sample.height

    def category(self, name: str) -> str | None:
        finding = self.findings.get(name)
        return finding.category if finding else None

    def columns_of(self, categories: tuple[str, ...], *, but: str | None = None) -> list[str]:
        """Columns whose first verdict is one of ``categories`` (in that order of preference)."""
        return [name for category in categories for name in self._of.get(category, [])
                if name != but]

    @cached_property
    def leading_keys(self) -> frozenset[str]:
        """The table's own keys: the record keys before its first column of another category.

        Exports and tables lead with their keys (``IPP; NUM_DOSSIER; NOM…``); a key-shaped
        column further on refers to something else. A leading column without any
        category (a line number) neither is a key nor ends the run.
        """
        keys = set()
        for name in self.order:
            category = self.category(name)
            if category == "record_id":
                keys.add(name)
            elif category is not None:
                break
        return frozenset(keys)

    def holds_health_data(self, *, but: str) -> bool:
        """Whether another column holds health data (GDPR Art. 9, ethnic origin aside)."""
        return any(name != but for name in self._health)

    def values(self, name: str) -> pl.Series:
        """The sampled rows' values of ``name``: stripped, empty as missing."""
        if name not in self._columns:
            if name in self._sample.columns:
                column = self._sample[name].str.strip_chars()
                column = column.set(column.str.len_bytes() == 0, None)
            else:
                column = pl.Series(name, [None] * self.rows, dtype=pl.String)
            self._columns[name] = column
        return self._columns[name]

    def shape_share(self, pattern: str, name: str) -> tuple[int, float]:
        """(non-empty values of ``name``, share of them matching ``pattern``) among
        :data:`SHAPE_ROWS` rows spread over the sample.

        Measured for every asked column at once, on the first call per pattern: on a
        few hundred rows, one query per column would cost more than the values.
        """
        if pattern not in self._shapes:
            shares = self._asked_values.group_by("name").agg(
                pl.len(), pl.col("v").str.contains(pattern).mean())
            self._shapes[pattern] = {column: (n, share) for column, n, share in shares.iter_rows()}
        if name not in self._asked:
            values = self.values(name).gather_every(self._shape_step).drop_nulls()
            return len(values), float(values.str.contains(pattern).mean() or 0.0)
        return self._shapes[pattern].get(name, (0, 0.0))

    @property
    def _shape_step(self) -> int:
        return max(1, -(-self.rows // SHAPE_ROWS))

    @cached_property
    def _asked_values(self) -> pl.DataFrame:
        """The asked columns' non-empty values, stripped, in one long frame (name, v)."""
        if not self._asked:
            return pl.DataFrame(schema={"name": pl.String, "v": pl.String})
        # Shapes are shares: rows spread evenly over the sample, SHAPE_ROWS of them, do.
        step = self._shape_step
        # NUL-prefixed names cannot collide with a dump's columns (a column "name").
        return (self._sample.select(self._asked).gather_every(step)
                .unpivot(variable_name="\0name", value_name="\0v")
                .rename({"\0name": "name", "\0v": "v"})
                .with_columns(pl.col("v").str.strip_chars())
                .filter(pl.col("v").str.len_bytes() > 0))

    def filled_share(self, name: str) -> float:
        """Share of sampled rows where ``name`` holds a value."""
        return 1 - self.values(name).null_count() / self.rows if self.rows else 0.0

    def dependency(self, a: str, b: str) -> Dependency:
        """How far ``a`` determines ``b``: among ``a``'s values seen on two or more
        sampled rows (with ``b`` present), the share that always go with one ``b``."""
        key = (a, b)
        if key not in self._dependencies:
            order, starts = self._groups(a)
            hashes, present = self._coded(b)
            both = present[order]  # rows holding a (order) and b
            counts = np.add.reduceat(both, starts) if len(order) else np.zeros(0, np.int64)
            # b is one value in a group where its least and greatest hashes meet (rows
            # without b count for neither). Hashes stand for values: 64 bits, no
            # collision in a few thousand rows that could matter.
            y = hashes[order]
            least = np.minimum.reduceat(np.where(both, y, np.iinfo(np.uint64).max), starts) \
                if len(order) else counts
            most = np.maximum.reduceat(np.where(both, y, 0), starts) if len(order) else counts
            repeated = counts >= 2
            groups = int(repeated.sum())
            self._dependencies[key] = Dependency(
                float((least[repeated] == most[repeated]).mean()) if groups else 0.0, groups)
        return self._dependencies[key]

    def _groups(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The rows holding ``name``, ordered so that equal values are runs, and where
        each run starts: computed once per column, reused by every dependency on it."""
        if name not in self._runs:
            hashes, present = self._coded(name)
            rows = np.flatnonzero(present)
            order = rows[np.argsort(hashes[rows], kind="stable")]
            sorted_hashes = hashes[order]
            starts = np.flatnonzero(np.concatenate(
                ([True], sorted_hashes[1:] != sorted_hashes[:-1]))) if len(order) else rows
            self._runs[name] = (order, starts)
        return self._runs[name]

    def repeated_values(self, name: str) -> int:
        """How many of ``name``'s values are seen on two or more sampled rows."""
        order, starts = self._groups(name)
        return int((np.diff(np.append(starts, len(order))) >= 2).sum())

    def _coded(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """A column's values as 64-bit hashes, and where it has a value."""
        if name not in self._codes:
            values = self.values(name)
            self._codes[name] = (values.hash(seed=0).to_numpy(),
                                 values.is_not_null().to_numpy())
        return self._codes[name]

    def supported_dependency(self, determining: list[str], determined: list[str],
                             enough: float) -> Dependency:
        """A dependency of one of ``determined`` on one of ``determining`` backed by
        enough repeated values: the first reaching ``enough``, else the strongest
        (pairs of a column with itself left out); :data:`NO_DEPENDENCY` if none is."""
        best = NO_DEPENDENCY
        for a in determining:
            if self.repeated_values(a) < MIN_GROUPS:
                continue  # too few repeated values for any dependency on it to hold
            for b in determined:
                if a == b:
                    continue
                found = self.dependency(a, b)
                if found.holds and found.share >= enough:
                    return found
                if found.holds and (found.share, found.groups) > (best.share, best.groups):
                    best = found
        return best
