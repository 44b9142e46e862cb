"""The identity accumulator: batches in, keyed digests and people out.

Per batch, each identifier column is canonicalised and hashed, and rows become
tuples of digests (one slot per identifier column, plus the name + birth-date
composite) with the sensitive columns the row exposes (a bitmask over columns),
its event dates and a row count. As batches accumulate, the tuples are compacted
to *distinct* tuples (masks OR-ed, first and last dates, rows summed), so memory
grows with the distinct identifier combinations, not with rows. People are
resolved only at the end (union-find over digests), after
:meth:`IdentityCollector.restrict` has dropped the columns the final detection
verdict did not confirm, which is why masks are kept per column and mapped to
categories only when asked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from triage.frames import from_arrow_columns, to_arrow_columns
from triage.identity import index as index_store
from triage.identity.canonical import (
    FORMS,
    NAME_BIRTH_NATIVE_VERSION,
    NATIVE_FORMS,
    PHONE_NATIVE_VERSION,
    SINGLE_COLUMN_KINDS,
    Canonicaliser,
    birth_iso,
    date_formats,
    name_birth_series,
    name_letters_table,
    parse_dates,
    phone_rules,
)
from triage.identity.completion import (
    CATEGORY_COMPLETIONS,
    COMPLETIONS,
    DETECTOR_COMPLETIONS,
    complete,
)
from triage.identity.digest import KeyedHasher, hmac_prefix
from triage.identity.keys import PURPOSE_IDENTIFIERS, HmacKey
from triage.identity.people import connected_components
from triage.native import (
    MemberColumns,
    StringViewColumns,
    StringViews,
    native_kernel,
    parse_times,
)
from triage.profile.types import TimesRead

#: Roles of the columns that make the name + birth-date composite.
NAME_ROLES = ("full_name", "first_name", "last_name")
BIRTH_ROLE = "birth_date"
COMPOSITE_SLOT = "name_birth"
PEOPLE_METHOD = ("union-find over keyed identifier digests: rows sharing any identifier "
                 "(email, phone, national or insurance id, name + birth date) are one person; "
                 "rows with none of these identify nobody and are not counted as people")


@dataclass(frozen=True)
class IdentifierPlan:
    """How to read one identifier column.

    ``kind``: one of canonical.FORMS. ``categories``: the category ids this column
    exposes. ``role``: for ``name_birth`` columns, one of full_name, first_name,
    last_name, birth_date. ``date_format``: strptime format of a birth-date column;
    ``month_first``: the day/month order its legacy dates (``03/14/85``) settled on the
    first batch, None when they did not (the format's order, else the region's).
    ``completion``: a name in ``completion.COMPLETIONS``, applied to the column's values
    before their canonical form (keyless NIRs get their key back), or None.
    """

    kind: str
    categories: tuple[str, ...] = ()
    role: str | None = None
    date_format: str | None = None
    month_first: bool | None = None
    completion: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in FORMS:
            raise ValueError(f"unknown identifier kind {self.kind!r}")
        if self.kind == "name_birth" and self.role not in (*NAME_ROLES, BIRTH_ROLE):
            raise ValueError("a name_birth column needs a role: full_name, first_name, "
                             "last_name or birth_date")
        if self.completion is not None and (self.completion not in COMPLETIONS
                                            or self.kind not in SINGLE_COLUMN_KINDS):
            raise ValueError(f"unknown completion {self.completion!r} for {self.kind}")

    @classmethod
    def single(cls, category: str, detector: str | None = None) -> IdentifierPlan:
        """A one-column identifier of ``category``, with the completion the verdict's
        ``detector`` or its category asks for (``completion.DETECTOR_COMPLETIONS``,
        ``CATEGORY_COMPLETIONS``), if any."""
        completion = DETECTOR_COMPLETIONS.get(detector or "") or CATEGORY_COMPLETIONS.get(category)
        return cls(category, (category,), completion=completion)


def _number_distinct(hi: np.ndarray, lo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Number distinct 128-bit digests in (hi, lo) order: (index of each one's first
    occurrence, number of every element). 64 bits almost always decide; should two
    digests share their first half, all 128 bits are used."""
    order = pl.Series(hi).arg_sort().to_numpy()  # polars sorts on all cores
    ordered = hi[order]
    new = np.r_[True, ordered[1:] != ordered[:-1]]
    numbers = np.empty(len(hi), dtype=np.int64)
    numbers[order] = np.cumsum(new) - 1
    first = order[new]
    if np.array_equal(lo[first][numbers], lo):
        return first, numbers
    pairs = np.empty(len(hi), dtype=[("hi", "<u8"), ("lo", "<u8")])
    pairs["hi"], pairs["lo"] = hi, lo
    _, first, numbers = np.unique(pairs, return_index=True, return_inverse=True)
    return first, numbers.ravel()


@dataclass(frozen=True)
class _Digests:
    """The distinct digests of an identity state, in (hi, lo) order: their halves, the
    slot of one of their members (a digest's kind is in its HMAC input, so every member
    has the same kind), their person; each tuple's person; the number of people."""

    hi: np.ndarray
    lo: np.ndarray
    slot: np.ndarray
    person: np.ndarray
    tuple_person: np.ndarray
    people: int


@dataclass(frozen=True)
class SlotDigests:
    """One slot's digests over a run of tuples: their hi and lo halves (UInt64, null
    where a tuple has none), of tuples ``first_tuple``, ``first_tuple + 1``..."""

    hi: pl.Series
    lo: pl.Series
    slot: int
    first_tuple: int = 0


def resolve_members(columns: Sequence[SlotDigests], n_tuples: int, *,
                    native: bool | None = None) -> _Digests:
    """People from the digests of tuples (one identifier of a tuple per non-null row of
    a column): the digests of a tuple are one person, and so are tuples sharing a
    digest (union-find). People are numbered in the order of their smallest digest.

    The kernel reads the columns in place, sorts their digests and walks them once;
    without it, numpy numbers the digests and links them (same result: a property test
    compares them). ``native``: None uses the kernel when available, False forces numpy.
    """
    lib = native_kernel() if native is not False else None
    if lib is not None and n_tuples:
        return _resolve_native(lib, columns, n_tuples)
    his, los, tuples, slots = [], [], [], []
    for column in columns:
        present = column.hi.is_not_null()
        his.append(column.hi.filter(present).to_numpy())
        los.append(column.lo.filter(present).to_numpy())
        tuples.append(column.first_tuple + np.flatnonzero(present.to_numpy()))
        slots.append(np.full(len(his[-1]), column.slot, dtype=np.uint32))
    if not his:
        his = los = tuples = slots = [np.empty(0, dtype=np.uint64)]
    member_hi, member_lo = np.concatenate(his), np.concatenate(los)
    member_tuple, member_slot = np.concatenate(tuples).astype(np.int64), np.concatenate(slots)
    first, node_of = _number_distinct(member_hi, member_lo)
    # Star edges: each tuple's smallest digest to each of its digests.
    anchor = np.full(n_tuples, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(anchor, member_tuple, node_of)
    root = connected_components(len(first), anchor[member_tuple], node_of, native=native)
    # People numbered 0..P-1 in the order of their root digest: O(digests), no sort.
    is_root = root == np.arange(len(root))
    person = (np.cumsum(is_root) - 1)[root]
    return _Digests(member_hi[first], member_lo[first], member_slot[first].astype(np.uint32),
                    person, person[anchor], int(is_root.sum()))


def _resolve_native(lib: Any, columns: Sequence[SlotDigests], n_tuples: int,
                    bucket_bits: int | None = None) -> _Digests:
    held = MemberColumns()
    for column in columns:
        held.add(column.hi, column.lo, column.slot, column.first_tuple)
    m = held.members
    if bucket_bits is None:  # the kernel sorts buckets best near 1 MiB (40k members)
        bucket_bits = 8 if m <= 1 << 24 else 12
    if not 1 <= bucket_bits <= 16:
        raise ValueError("the kernel sorts digests in 2 to 65,536 buckets")
    node_hi, node_lo = np.empty(m, dtype=np.uint64), np.empty(m, dtype=np.uint64)
    node_slot = np.empty(m, dtype=np.uint32)
    person = np.empty(m, dtype=np.int64)
    tuple_node, tuple_person = (np.empty(n_tuples, dtype=np.int64) for _ in range(2))
    people = np.zeros(1, dtype=np.int64)
    nodes = lib.triage_resolve_members(
        len(held), held.array(), m, n_tuples, bucket_bits,
        node_hi.ctypes.data, node_lo.ctypes.data, node_slot.ctypes.data,
        tuple_node.ctypes.data, person.ctypes.data, tuple_person.ctypes.data,
        people.ctypes.data)
    if nodes == -1:
        raise MemoryError("not enough memory to resolve people")
    if nodes < 0:
        raise ValueError("digest columns whose members or tuples are not those counted")
    return _Digests(node_hi[:nodes], node_lo[:nodes], node_slot[:nodes], person[:nodes],
                    tuple_person, int(people[0]))


def _hi(slot: str) -> str:
    return f"{slot}\0hi"


def _lo(slot: str) -> str:
    return f"{slot}\0lo"


#: First bytes of the UTF-8 encodings of the characters polars' strip_chars() removes
#: (Unicode White_Space): the only values that can be blank without being empty.
_SPACE_LEADS = np.zeros(256, dtype=bool)
_SPACE_LEADS[[0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0xC2, 0xE1, 0xE2, 0xE3]] = True


def filled(values: pl.Series) -> np.ndarray:
    """True where a String value holds more than whitespace (polars' strip_chars()).

    Stripping every value of every flagged column cost ~30 ms per 28k-row batch;
    instead each value's length and first byte are read off its Arrow string view
    (polars' own layout, read in place), and only the values that start with a
    whitespace byte are stripped.
    """
    strings = StringViews(values)
    array = strings.array
    rows = slice(array.offset, array.offset + len(array))
    views = array.buffers()[1]
    lengths = np.frombuffer(views, dtype="<i4").reshape(-1, 4)[rows, 0]
    first_bytes = np.frombuffer(views, dtype=np.uint8).reshape(-1, 16)[rows, 4]
    result = (lengths > 0) & values.is_not_null().to_numpy()
    suspects = np.flatnonzero(result & _SPACE_LEADS[first_bytes])
    if len(suspects):
        blank = (values.gather(suspects).str.strip_chars().str.len_bytes() == 0).to_numpy()
        result[suspects[blank]] = False
    return result


def exposure_words(columns: Sequence[tuple[int, pl.Series]], rows: int,
                   words: int) -> np.ndarray:
    """(words, rows) uint64: bit ``b`` of a row set when its column number ``b`` (of
    ``(b, values)`` in ``columns``) holds more than whitespace (see :func:`filled`)."""
    out = np.zeros((words, rows), dtype=np.uint64)
    lib = native_kernel()
    if lib is None:
        for bit, values in columns:
            out[bit // 64] |= filled(values).astype(np.uint64) << np.uint64(bit % 64)
        return out
    # One call for every column: per column, polars' string views read in place.
    strings = StringViewColumns([values for _, values in columns])
    bits = np.array([bit for bit, _ in columns], dtype=np.int64)
    lib.triage_filled_bits(rows, len(columns), strings.views, strings.buffers,
                           strings.validity, strings.offsets.ctypes.data, bits.ctypes.data,
                           out.ctypes.data)
    return out


#: Days from 1970 of the event dates the kernel reads that a month, a first or a last
#: seen can be made of: the years Python's dates hold, as ``parse_dates`` keeps them.
_FIRST_DAY, _LAST_DAY = ((d - date(1970, 1, 1)).days
                         for d in (date(1, 1, 1), date(9999, 12, 31)))


def row_event_dates(batch: pl.DataFrame, event_dates: Mapping[str, str | None],
                    region: str, read_before: Mapping[str, TimesRead] | None = None
                    ) -> tuple[pl.Series, pl.Series]:
    """Each row's earliest and latest event date over the ``event_dates`` columns
    (column -> strptime format; None: ISO, then the region's day/month order).
    ``read_before``: columns the kernel already read, column -> (format, micros,
    status) (the profile's ``batch_times``); taken where the format is the same."""
    columns = {c: fmt for c, fmt in event_dates.items() if c in batch.columns}
    before = read_before or {}
    read = [(before[c][1], before[c][2]) if c in before and before[c][0] == fmt
            else parse_times(batch[c], fmt) if fmt else None for c, fmt in columns.items()]
    if not columns or any(r is None for r in read):
        return _parsed_event_dates(batch, columns, region)
    # Every column has a fixed-width format the kernel reads (~10x cheaper than
    # strptime); the rows where it left a value to polars are parsed by polars.
    days = np.stack([np.floor_divide(micros, 86_400_000_000) for micros, _ in read])
    status = np.stack([status for _, status in read])
    known = (status == 1) & (days >= _FIRST_DAY) & (days <= _LAST_DAY)
    latest = np.iinfo(np.int64).max
    first = np.where(known, days, latest).min(axis=0)
    last = np.where(known, days, -latest).max(axis=0)
    dated = known.any(axis=0)
    bounds = [pl.Series(np.where(dated, bound, 0)).cast(pl.Int32).cast(pl.Date)
              .scatter(np.flatnonzero(~dated), None) for bound in (first, last)]
    unsure = np.flatnonzero((status == 2).any(axis=0))
    if len(unsure):
        again = _parsed_event_dates(batch[unsure], columns, region)
        bounds = [bound.scatter(unsure, redone) for bound, redone in zip(bounds, again,
                                                                         strict=True)]
    return bounds[0], bounds[1]


def _parsed_event_dates(batch: pl.DataFrame, columns: Mapping[str, str | None],
                        region: str) -> tuple[pl.Series, pl.Series]:
    parsed = [parse_dates(batch[column], date_formats(region, fmt))
              for column, fmt in columns.items()]
    if not parsed:
        empty = pl.Series([None] * batch.height, dtype=pl.Date)
        return empty, empty
    frame = pl.DataFrame({f"d{i}": s for i, s in enumerate(parsed)})
    bounds = frame.select(pl.min_horizontal(pl.all()).alias("first"),
                          pl.max_horizontal(pl.all()).alias("last"))
    return bounds["first"], bounds["last"]


@dataclass
class _Counters:
    rows: int = 0
    rows_with_identifier: int = 0

    def __add__(self, other: _Counters) -> _Counters:
        return _Counters(self.rows + other.rows,
                         self.rows_with_identifier + other.rows_with_identifier)


def _with_person_columns(nodes: pl.DataFrame, persons: pl.DataFrame) -> pl.DataFrame:
    # People are numbered densely and kept in order, so a gather replaces a join.
    return nodes.with_columns(persons.drop("person")[nodes["person"]])


def _nullable(hi: np.ndarray, lo: np.ndarray,
              missing: np.ndarray) -> tuple[pl.Series, pl.Series]:
    """hi/lo digest words as UInt64 series, null where ``missing``."""
    return (pl.from_arrow(pa.array(hi, mask=missing)),  # type: ignore[return-value]
            pl.from_arrow(pa.array(lo, mask=missing)))


def _joined(names: Sequence[pl.Series]) -> pl.Series:
    """A full name, or first and last names joined by a space (null if either is)."""
    if len(names) == 1:
        return names[0]
    return pl.select(pl.concat_str(pl.lit(names[0]), pl.lit(" "), pl.lit(names[1]))).to_series()


def _kind_counts(codes: np.ndarray, kinds: Sequence[str], person: np.ndarray,
                 people: int) -> dict[str, tuple[int, int]]:
    """kind -> (distinct identifiers, people having one), for nodes of kind
    ``kinds[codes[i]]`` held by ``person[i]``: one scatter into a kinds x people
    table of flags (a group_by with n_unique over millions of nodes cost ~0.3 s)."""
    seen = np.zeros((len(kinds), people), dtype=bool)
    seen[codes, person] = True
    identifiers = np.bincount(codes, minlength=len(kinds))
    holders = np.count_nonzero(seen, axis=1)
    return {kind: (int(identifiers[k]), int(holders[k])) for k, kind in enumerate(kinds)
            if identifiers[k]}


#: Carried attributes are short codes (a département, a state, a country), held as the
#: big-endian number of their UTF-8 bytes: numbers order as the strings do, and grouping
#: 1.59M tuples by their digests took 0.63-0.66 s with numbers, 0.82-0.90 s with strings.
CODE_BYTES = 7


def pack_codes(values: pl.Series) -> pl.Series:
    """Short strings (at most CODE_BYTES bytes) -> UInt64 numbers in the same order."""
    if (values.str.len_bytes() > CODE_BYTES).any():
        raise ValueError(f"a carried attribute is a code of at most {CODE_BYTES} bytes")
    return (values.str.encode("hex").str.pad_end(2 * CODE_BYTES, "0")
            .str.to_integer(base=16, dtype=pl.UInt64))


def pack_code(code: str) -> int:
    """One code as :func:`pack_codes` packs it."""
    packed = code.encode()
    if len(packed) > CODE_BYTES:
        raise ValueError(f"a carried attribute is a code of at most {CODE_BYTES} bytes")
    return int.from_bytes(packed.ljust(CODE_BYTES, b"\0"), "big")


def unpack_code(number: int) -> str:
    return number.to_bytes(CODE_BYTES, "big").rstrip(b"\0").decode()


def _reduce_by_person(frame: pl.DataFrame, person: np.ndarray, people: int, *,
                      ors: Sequence[str], mins: Sequence[str],
                      maxs: Sequence[str]) -> pl.DataFrame:
    """One row per person 0..people-1 (each owning some row of ``frame``), in order:
    the bitwise OR of the ``ors`` columns, the smallest of ``mins``, the largest of
    ``maxs`` (nulls ignored), as a group_by would give. Most people own one or two
    rows, so numpy scatter-reductions (no hashing, no sort) cost a fraction of it."""
    out: dict[str, pl.Series] = {"person": pl.Series("person", np.arange(people,
                                                                         dtype=np.uint64))}
    for name in ors:
        acc = np.zeros(people, dtype=np.uint64)
        np.bitwise_or.at(acc, person, frame[name].fill_null(0).to_numpy())
        out[name] = pl.Series(name, acc)
    for name in (*mins, *maxs):
        out[name] = _extreme_by_person(frame[name], person, people, largest=name in maxs)
    return pl.DataFrame(out)


def _extreme_by_person(values: pl.Series, person: np.ndarray, people: int, *,
                       largest: bool) -> pl.Series:
    # Strings reduce as their rank among the distinct values, dates as their days.
    distinct = None
    if values.dtype == pl.String:
        distinct = values.drop_nulls().unique().sort()
        codes = values.replace_strict(distinct, pl.Series(np.arange(len(distinct))),
                                      default=None, return_dtype=pl.Int64)
    else:
        codes = values.to_physical().cast(pl.Int64)
    empty = np.iinfo(np.int64).min if largest else np.iinfo(np.int64).max
    acc = np.full(people, empty, dtype=np.int64)
    (np.maximum if largest else np.minimum).at(acc, person, codes.fill_null(empty).to_numpy())
    missing = acc == empty
    if distinct is not None:
        result = distinct.gather(np.where(missing, 0, acc)) if len(distinct) else (
            pl.Series(values.name, [None] * people, dtype=pl.String))
    else:
        result = (pl.Series(np.where(missing, 0, acc)).cast(values.to_physical().dtype)
                  .cast(values.dtype))
    return pl.select(pl.when(pl.lit(missing)).then(None).otherwise(pl.lit(result))
                     .alias(values.name)).to_series()


class IdentityCollector:
    """Mergeable accumulator of keyed identifier digests and the people they make.

    ``plan``: identifier columns. ``row_categories``: every sensitive column ->
    its category id (identifier columns' own ``categories`` are added). A row
    exposes the categories of its non-empty flagged columns, and a person the
    union over their rows. ``event_dates``: column -> strptime format (None:
    ISO, then the region's day/month order) for first/last seen. ``attributes``:
    columns carried per person (e.g. a département code the scan derives per row),
    codes of at most CODE_BYTES bytes, or already packed by :func:`pack_codes` (UInt64);
    a person's value is the smallest over their rows, so it merges exactly.
    """

    #: Compact the parts once they hold this many bytes more than the last compaction
    #: left. A compaction is a group-by over everything held, whose working memory
    #: is about twice the tuples' own, so compacting early costs peak memory as well as
    #: CPU unless rows repeat a lot. `triage scan` of the 9M-row lab export (3.6M
    #: people, 132 bytes a tuple), one run each: compacting from 1M tuples held
    #: (~126 MiB) peaked at 4.26 GB in 49.8 s; from 256 MiB, 3.71 GB in 37.5 s; from
    #: 512 MiB, 3.40 GB in 39.3 s. The 2M-row export (~245 MiB of tuples) no longer
    #: compacts during its pass (1.3 CPU-s and ~120,000 page faults saved).
    COMPACT_AFTER_BYTES = 512 << 20

    def __init__(self, key: HmacKey, plan: Mapping[str, IdentifierPlan], region: str = "FR",
                 row_categories: Mapping[str, str] | None = None,
                 event_dates: Mapping[str, str | None] | None = None,
                 attributes: Sequence[str] = ()) -> None:
        self.key: HmacKey | None = key
        self.key_id = key.key_id
        self._hasher: KeyedHasher | None = KeyedHasher(key.subkey(PURPOSE_IDENTIFIERS))
        self._layout(plan, region, row_categories, event_dates, attributes)

    def _layout(self, plan: Mapping[str, IdentifierPlan], region: str,
                row_categories: Mapping[str, str] | None,
                event_dates: Mapping[str, str | None] | None, attributes: Sequence[str]) -> None:
        self.attributes = list(attributes)
        self.plan = dict(plan)
        self.region = region
        self.event_dates = dict(event_dates or {})
        # column -> category id, for every column that can expose something.
        categories = dict(row_categories or {})
        for column, spec in self.plan.items():
            if spec.categories and column not in categories:
                categories[column] = spec.categories[0]
        self.column_categories = categories
        self.flag_columns = sorted(categories)
        self._words = max(1, -(-len(self.flag_columns) // 64))
        self._slots = self._make_slots()
        self._parts: list[pl.DataFrame] = []
        self._held_bytes = 0
        self._compact_at = self.COMPACT_AFTER_BYTES
        self._counters = _Counters()
        self._resolved: LeakPeople | None = None  # people() then write_index() resolve once

    # ------------------------------------------------------------------ the key

    def __getstate__(self) -> dict[str, Any]:
        """Pickling contract: the state travels (to a cluster, between processes) without
        the key or anything derived from it; only the key id goes along, so the receiver
        can merge and resolve (no hashing needed) and must :meth:`attach_key` to hash.

        The tuples travel as Arrow buffers (:mod:`triage.frames`); the people resolved
        from them, a cache, do not travel."""
        state = self.__dict__.copy()
        state["key"] = None
        state["_hasher"] = None
        state["_resolved"] = None
        state["_parts"] = [to_arrow_columns(part) for part in self._parts]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state["_parts"] = [from_arrow_columns(part) for part in state["_parts"]]
        self.__dict__.update(state)

    def attach_key(self, key: HmacKey) -> None:
        """Give a state that travelled its key back, refusing any other key."""
        if key.key_id != self.key_id:
            raise ValueError("the key given is not the key this identity state was made with")
        self.key = key
        self._hasher = KeyedHasher(key.subkey(PURPOSE_IDENTIFIERS))

    # ------------------------------------------------------------------ layout

    def _make_slots(self) -> dict[str, str]:
        """slot name -> kind: one per single-column identifier, one for the composite."""
        slots = {column: spec.kind for column, spec in self.plan.items()
                 if spec.kind in SINGLE_COLUMN_KINDS}
        roles = {spec.role for spec in self.plan.values() if spec.kind == "name_birth"}
        if BIRTH_ROLE in roles and ("full_name" in roles or {"first_name", "last_name"} <= roles):
            slots[COMPOSITE_SLOT] = "name_birth"
        return slots

    def _mask_columns(self) -> list[str]:
        return [f"\0mask{w}" for w in range(self._words)]

    def _schema(self) -> dict[str, pl.DataType]:
        schema: dict[str, pl.DataType] = {}
        for slot in self._slots:
            schema[_hi(slot)] = pl.UInt64()
            schema[_lo(slot)] = pl.UInt64()
        for name in self._mask_columns():
            schema[name] = pl.UInt64()
        schema["\0first"] = pl.Date()
        schema["\0last"] = pl.Date()
        schema["\0rows"] = pl.UInt64()
        for name in self._attribute_columns():
            schema[name] = pl.UInt64()  # packed codes, see pack_codes
        return schema

    def _attribute_columns(self) -> list[str]:
        return [f"\0attr:{name}" for name in self.attributes]

    # ------------------------------------------------------------------ update

    def _digest_column(self, kind: str, canonical: pl.Series) -> tuple[pl.Series, pl.Series]:
        """hi/lo u64 of the digest of each row's canonical value (null stays null)."""
        if self._hasher is None:
            raise ValueError("this identity state travelled without its key; attach_key() first")
        prefix = hmac_prefix(kind, FORMS[kind])
        if self._hasher.implementation != "python":
            # The kernel costs ~0.1 us a value and skips nulls: hashing every row is
            # cheaper than finding the distinct values and joining back.
            hi, lo = self._hasher.digest_words(prefix, canonical)
            return _nullable(hi, lo, canonical.is_null().to_numpy())
        # In Python each HMAC costs ~1 us: hash each distinct value once.
        distinct = canonical.drop_nulls().unique()
        hi, lo = self._hasher.digest_words(prefix, distinct)
        return (canonical.replace_strict(distinct, pl.Series(hi), default=None,
                                         return_dtype=pl.UInt64),
                canonical.replace_strict(distinct, pl.Series(lo), default=None,
                                         return_dtype=pl.UInt64))

    def _slot_digests(self, slot: str, kind: str,
                      batch: pl.DataFrame) -> tuple[pl.Series, pl.Series] | None:
        """hi/lo digests of a slot's canonical values, or None when the batch lacks it."""
        native = self._hasher is not None and self._hasher.implementation != "python"
        if slot == COMPOSITE_SLOT and native and FORMS[kind] == NAME_BIRTH_NATIVE_VERSION:
            return self._native_composite(batch)
        if (kind == "phone" and native and slot in batch.columns
                and FORMS[kind] == PHONE_NATIVE_VERSION and phone_rules(self.region)):
            return self._native_phones(self._slot_values(slot, batch))
        form = NATIVE_FORMS.get((kind, FORMS[kind]))
        if form is None or slot not in batch.columns or not native:
            canonical = self._canonical(slot, batch)
            return None if canonical is None else self._digest_column(kind, canonical)
        # The kernel canonicalises and hashes the plain values in one pass (~3 ms per
        # 28k-row column instead of ~12); the rest go through the reference path.
        values = self._slot_values(slot, batch)
        hi, lo, status = self._hasher.canonical_digest_words(
            form, hmac_prefix(kind, FORMS[kind]), values)
        rest = np.flatnonzero(status == 2)
        if len(rest):
            canonical = Canonicaliser(kind, self.region).series(values.gather(rest))
            hi[rest], lo[rest] = self._hasher.digest_words(hmac_prefix(kind, FORMS[kind]),
                                                           canonical)
            status[rest] = canonical.is_not_null().to_numpy()
        return _nullable(hi, lo, status != 1)

    def _native_phones(self, values: pl.Series) -> tuple[pl.Series, pl.Series]:
        # The kernel strips separators and the written prefix and hashes the E.164
        # form; polars then checks each national number against the region's pattern
        # (a regex), on short digit strings only. The rest go to the reference path.
        assert self._hasher is not None
        rules = phone_rules(self.region)
        assert rules is not None
        prefix = hmac_prefix("phone", FORMS["phone"])
        hi, lo, status, nsn = self._hasher.phone_digest_words(
            prefix, values, rules.country_code, rules.international_prefix,
            rules.national_prefix)
        ok = pl.select(rules.nsn_ok(pl.lit(nsn))).to_series().fill_null(False).to_numpy()
        status[(status == 1) & ~ok] = 2
        rest = np.flatnonzero(status == 2)
        if len(rest):
            canonical = Canonicaliser("phone", self.region).series(values.gather(rest))
            hi[rest], lo[rest] = self._hasher.digest_words(prefix, canonical)
            status[rest] = canonical.is_not_null().to_numpy()
        return _nullable(hi, lo, status != 1)

    def _composite_columns(self, batch: pl.DataFrame) -> tuple[list[str], str] | None:
        """(name columns: a full name, else first and last names; the birth-date column),
        or None when the batch lacks them."""
        by_role = {spec.role: column for column, spec in self.plan.items()
                   if spec.kind == "name_birth"}
        birth = by_role[BIRTH_ROLE]
        if birth not in batch.columns:
            return None
        if by_role.get("full_name") in batch.columns:
            return [by_role["full_name"]], birth
        if by_role.get("first_name") in batch.columns and by_role.get("last_name") in batch.columns:
            return [by_role["first_name"], by_role["last_name"]], birth
        return None

    def _native_composite(self, batch: pl.DataFrame) -> tuple[pl.Series, pl.Series] | None:
        # The name form and the composite are made and hashed in one kernel pass; the
        # birth dates are parsed by polars first (once per distinct value).
        assert self._hasher is not None
        columns = self._composite_columns(batch)
        if columns is None:
            return None
        names, birth = columns
        born = birth_iso(batch[birth], self.region, self.plan[birth].date_format,
                         self.plan[birth].month_first)
        prefix = hmac_prefix("name_birth", FORMS["name_birth"])
        name_values = [batch[n].cast(pl.String) for n in names]
        hi, lo, status = self._hasher.name_birth_digest_words(prefix, name_values, born,
                                                              name_letters_table())
        rest = np.flatnonzero(status == 2)
        if len(rest):
            composite = name_birth_series(_joined([v.gather(rest) for v in name_values]),
                                          batch[birth].gather(rest), self.region,
                                          self.plan[birth].date_format,
                                          self.plan[birth].month_first)
            hi[rest], lo[rest] = self._hasher.digest_words(prefix, composite)
            status[rest] = composite.is_not_null().to_numpy()
        return _nullable(hi, lo, status != 1)

    def _canonical(self, slot: str, batch: pl.DataFrame) -> pl.Series | None:
        if slot == COMPOSITE_SLOT:
            return self._composite(batch)
        if slot not in batch.columns:
            return None
        # Identifier columns are mostly distinct within a batch, so the vectorised path
        # runs over every row; the Python reference still sees each distinct value once.
        return Canonicaliser(self._slots[slot], self.region).series(
            self._slot_values(slot, batch))

    def _slot_values(self, slot: str, batch: pl.DataFrame) -> pl.Series:
        """A single-column slot's values as its canonical form takes them: completed
        first where the plan asks (:mod:`triage.identity.completion`)."""
        values = batch[slot].cast(pl.String)
        completion = self.plan[slot].completion if slot in self.plan else None
        return values if completion is None else complete(completion, values)

    def _composite(self, batch: pl.DataFrame) -> pl.Series | None:
        columns = self._composite_columns(batch)
        if columns is None:
            return None
        names, birth = columns
        return name_birth_series(_joined([batch[n] for n in names]), batch[birth], self.region,
                                 self.plan[birth].date_format, self.plan[birth].month_first)

    def _row_masks(self, batch: pl.DataFrame) -> dict[str, np.ndarray]:
        """Per row, one bit per flagged column that holds something (see :func:`filled`)."""
        columns = [(bit, batch[column]) for bit, column in enumerate(self.flag_columns)
                   if column in batch.columns]
        words = exposure_words(columns, batch.height, self._words)
        return dict(zip(self._mask_columns(), words, strict=True))

    def update(self, batch: pl.DataFrame,
               dates: tuple[pl.Series, pl.Series] | None = None) -> None:
        """Consume one batch of String columns.

        ``dates``: each row's (earliest, latest) event date, when the caller has
        already parsed them (the scan does, for its month histogram too).
        """
        self.add(self.tuples_of(batch, dates), batch.height)

    def tuples_of(self, batch: pl.DataFrame,
                  dates: tuple[pl.Series, pl.Series] | None = None) -> pl.DataFrame | None:
        """The batch's identifier tuples, one per row with an identifier, for :meth:`add`.

        Reads the state's plan and key but changes nothing, so batches can be turned
        into tuples on several threads at once; :meth:`add` must be serialised.
        """
        if batch.height == 0 or not self._slots:
            return None
        columns: dict[str, pl.Series] = {}
        for slot, kind in self._slots.items():
            digests = self._slot_digests(slot, kind, batch)
            if digests is not None:
                columns[_hi(slot)], columns[_lo(slot)] = digests
        if not columns:
            return None
        first, last = dates or row_event_dates(batch, self.event_dates, self.region)
        # Attributes come as codes, or already packed (UInt64: the scan's region views).
        carried = [(batch[name] if batch[name].dtype == pl.UInt64 else pack_codes(batch[name]))
                   .alias(f"\0attr:{name}") for name in self.attributes if name in batch.columns]
        rows = (pl.DataFrame(self._row_masks(batch))
                .with_columns(*[s.alias(name) for name, s in columns.items()],
                              first.alias("\0first"), last.alias("\0last"), *carried))
        has_id = pl.any_horizontal([pl.col(c).is_not_null() for c in columns])
        # Not reduced here: within a batch rows rarely repeat a tuple, so grouping each
        # batch costs more than it saves; compaction groups many batches at once.
        return self._conform(rows.filter(has_id).with_columns(pl.lit(1, pl.UInt64).alias("\0rows")))

    def add(self, tuples: pl.DataFrame | None, rows: int) -> None:
        """Take in one batch's :meth:`tuples_of` (None: no identifier), made of ``rows`` rows."""
        self._counters.rows += rows
        if tuples is None:
            return
        self._counters.rows_with_identifier += tuples.height
        self._append(tuples)

    # --------------------------------------------------------------- reducing

    def _conform(self, tuples: pl.DataFrame) -> pl.DataFrame:
        """``tuples`` with exactly the state's columns and types, missing ones null."""
        return tuples.select([pl.col(name).cast(dtype) if name in tuples.columns
                              else pl.lit(None, dtype).alias(name)
                              for name, dtype in self._schema().items()])

    def _reduce(self, tuples: pl.DataFrame) -> pl.DataFrame:
        """Distinct identifier tuples, with exposures and dates aggregated over their rows."""
        schema = self._schema()
        tuples = self._conform(tuples)
        keys = [name for name in schema if name.endswith(("\0hi", "\0lo"))]
        aggs = [pl.col(m).bitwise_or() for m in self._mask_columns()]
        aggs += [pl.col("\0first").min(), pl.col("\0last").max(), pl.col("\0rows").sum()]
        aggs += [pl.col(name).min() for name in self._attribute_columns()]
        return tuples.group_by(keys).agg(aggs).select(list(schema))

    def _append(self, part: pl.DataFrame, *, compact: bool = True) -> None:
        self._resolved = None
        self._parts.append(part)
        self._held_bytes += part.estimated_size()
        if compact and self._held_bytes > self._compact_at:
            before = self._held_bytes
            after = self._compact().estimated_size()
            self._held_bytes = after
            # Compacting only pays when rows repeat across batches; when it barely
            # shrinks (mostly distinct people), wait for much more before trying again.
            growth = 2 if after < 0.8 * before else 4
            self._compact_at = growth * after + self.COMPACT_AFTER_BYTES

    def _compact(self) -> pl.DataFrame:
        if len(self._parts) != 1:
            merged = (pl.concat(self._parts, how="vertical") if self._parts
                      else pl.DataFrame(schema=self._schema()))
            self._parts = [self._reduce(merged)]
        return self._parts[0]

    def held(self) -> HeldDigests:
        """Its slots and tuples as they stand now, for :func:`resolve_early`."""
        return HeldDigests(tuple(self._slots.items()), tuple(self._parts))

    # ------------------------------------------------------------------ merge

    def merge(self, other: IdentityCollector, *, compact: bool = True) -> IdentityCollector:
        """The state of both inputs, exactly as one pass over them would give.

        ``compact=False`` keeps the tuples repeated across the two as they are (resolving
        takes them so), for a last merge whose people are resolved next: compacting
        there only adds a group_by of every tuple before the resolution's own sort."""
        if other.key_id != self.key_id:
            raise ValueError("cannot merge identity states made with different keys")
        if (self._slots != other._slots or self.flag_columns != other.flag_columns
                or self.region != other.region or self.attributes != other.attributes):
            raise ValueError("cannot merge identity states with different plans")
        # Built without __init__, so that states that travelled without their key merge too.
        merged = IdentityCollector.__new__(IdentityCollector)
        merged.key, merged.key_id, merged._hasher = self.key, self.key_id, self._hasher
        merged._layout(self.plan, self.region, self.column_categories, self.event_dates,
                       self.attributes)
        merged._counters = self._counters + other._counters
        for part in [*self._parts, *other._parts]:
            merged._append(part, compact=compact)
        return merged

    def restrict(self, columns_kept: Iterable[str],
                 categories: Mapping[str, str] | None = None) -> None:
        """Keep only confirmed columns (identifier digests and exposures); relabel if given."""
        kept = set(columns_kept)
        tuples = self.held().tuples()
        if tuples is None:
            tuples = pl.DataFrame(schema=self._schema())
        # A new dict, not this one changed: a held() state may be read on another thread.
        self._slots = {slot: kind for slot, kind in self._slots.items()
                       if self._slot_kept(slot, kept)}
        if categories:
            self.column_categories.update({c: cat for c, cat in categories.items()
                                           if c in self.column_categories})
        # Clear the exposure bits of unconfirmed columns; the bit layout itself stays.
        exprs = []
        for word, name in enumerate(self._mask_columns()):
            keep_bits = sum(1 << (bit % 64) for bit, column in enumerate(self.flag_columns)
                            if bit // 64 == word and column in kept)
            exprs.append((pl.col(name) & pl.lit(keep_bits, pl.UInt64)).alias(name))
        id_columns = [c for slot in self._slots for c in (_hi(slot), _lo(slot))]
        tuples = tuples.with_columns(exprs).select(*id_columns, *self._mask_columns(),
                                                   "\0first", "\0last", "\0rows",
                                                   *self._attribute_columns())
        if id_columns:
            tuples = tuples.filter(pl.any_horizontal([pl.col(c).is_not_null()
                                                      for c in id_columns]))
        else:
            tuples = tuples.clear()
        # Not grouped again: resolving takes repeated tuples as they come. Grouping the
        # 1.59M tuples of the 2M-row megabus scan cost ~0.8 s, their extra memberships
        # in resolving ~0.4 s.
        self._parts = [tuples]
        self._held_bytes = tuples.estimated_size()
        self._resolved = None

    def _slot_kept(self, slot: str, kept: set[str]) -> bool:
        if slot != COMPOSITE_SLOT:
            return slot in kept
        by_role = {spec.role: column for column, spec in self.plan.items()
                   if spec.kind == "name_birth"}
        names_kept = (by_role.get("full_name") in kept
                      or {by_role.get("first_name"), by_role.get("last_name")} <= kept)
        return by_role[BIRTH_ROLE] in kept and names_kept

    # ----------------------------------------------------------------- people

    def _resolve(self) -> LeakPeople:
        """This state's people (:func:`resolve_leak` of this one source), once."""
        if self._resolved is None:
            self._resolved = resolve_leak([self])
        return self._resolved

    def people(self) -> dict[str, Any]:
        """Distinct people, with the method stated and counts per identifier kind."""
        resolved = self._resolve()
        return {
            "distinct": resolved.distinct,
            "method": PEOPLE_METHOD,
            "rows": self._counters.rows,
            "rows_with_identifier": self._counters.rows_with_identifier,
            "by_identifier_kind": {kind: {"identifiers": resolved.by_kind_identifiers[kind],
                                          "people": holders}
                                   for kind, holders in resolved.by_kind.items()},
        }

    def to_dict(self) -> dict[str, Any]:
        return self.people()

    def categories_of_bits(self) -> list[tuple[int, str]]:
        """(column bit, category id) for the flagged columns."""
        return [(bit, self.column_categories[column])
                for bit, column in enumerate(self.flag_columns)]

    def write_index(self, index_dir: str, leak_id: str, leak_name: str,
                    inputs: list[dict[str, Any]], rows: int) -> dict[str, Any]:
        """Append this leak to the index at ``index_dir``; returns the manifest."""
        return write_leak_index([self], self.key_id, index_dir, leak_id, leak_name, inputs,
                                rows, resolved=self._resolve())

    def category_bits(self, leak_categories: list[str]) -> pl.Expr:
        """Per node: its person's exposed categories as bits over ``leak_categories``."""
        bits = pl.lit(0, pl.UInt64)
        for bit, category in self.categories_of_bits():
            word = pl.col(f"\0mask{bit // 64}")
            has = (word & pl.lit(1 << (bit % 64), pl.UInt64)) != 0
            bits = bits | pl.when(has).then(
                pl.lit(1 << leak_categories.index(category), pl.UInt64)).otherwise(
                pl.lit(0, pl.UInt64))
        return bits.fill_null(0)


@dataclass
class LeakPeople:
    """People of a whole leak, linked across its sources through shared digests.

    ``nodes``: one row per distinct digest: kind, hi, lo, person. ``persons``: one row
    per person, in person order: ``categories`` (bits over ``categories``),
    first_seen, last_seen, and one column per carried attribute (packed, see
    :func:`pack_codes`). ``by_category``, ``by_kind`` and ``attributes`` count people.
    """

    nodes: pl.DataFrame
    persons: pl.DataFrame
    distinct: int
    categories: list[str]
    by_kind: dict[str, int]
    by_kind_identifiers: dict[str, int]
    by_category: dict[str, int]
    attributes: dict[str, dict[str, int]]
    method: str = PEOPLE_METHOD


@dataclass(frozen=True)
class HeldDigests:
    """What a collector holds for resolving, as it stood when :meth:`IdentityCollector.held`
    took it: its slots (slot, kind) and its tuples' parts. Nothing changes a collector's
    parts or slots in place (batches and :meth:`~IdentityCollector.restrict` replace
    them), so one thread can resolve this while another goes on with the collector."""

    slots: tuple[tuple[str, str], ...]
    parts: tuple[pl.DataFrame, ...]

    def tuples(self) -> pl.DataFrame | None:
        """Every tuple held (None: none), possibly repeated across parts."""
        if not self.parts:
            return None
        return self.parts[0] if len(self.parts) == 1 else pl.concat(self.parts)


@dataclass(frozen=True)
class EarlyDigests:
    """:func:`resolve_members` of some collectors' digests, with the layout it read
    (per collector with tuples: its slots and its number of tuples)."""

    layout: tuple[tuple[tuple[str, ...], int], ...]
    digests: _Digests


def _digest_layout(states: Sequence[HeldDigests]
                   ) -> tuple[list[SlotDigests], list[str], int,
                              tuple[tuple[tuple[str, ...], int], ...],
                              list[tuple[int, pl.DataFrame]]]:
    """Each slot's digests, with tuples and slots numbered across the collectors' held
    states: (columns, each slot's kind, number of tuples, layout as in
    :class:`EarlyDigests`, the index of each state that holds tuples with them, in
    that order)."""
    columns, slot_kinds, n_tuples, layout, held = [], [], 0, [], []
    for index, state in enumerate(states):
        tuples = state.tuples()
        if tuples is None or tuples.height == 0:
            continue
        held.append((index, tuples))
        for slot, kind in state.slots:
            columns.append(SlotDigests(tuples[_hi(slot)], tuples[_lo(slot)], len(slot_kinds),
                                       n_tuples))
            slot_kinds.append(kind)
        layout.append((tuple(slot for slot, _kind in state.slots), tuples.height))
        n_tuples += tuples.height
    return columns, slot_kinds, n_tuples, tuple(layout), held


def _any_digest(columns: Sequence[SlotDigests]) -> bool:
    return any(column.hi.null_count() < len(column.hi) for column in columns)


def resolve_early(states: Sequence[HeldDigests]) -> EarlyDigests | None:
    """The union-find of :func:`resolve_leak`, which reads nothing but the digests, so
    that it can run before the verdicts are final (the scan runs it on its other core
    while they are made), over the collectors' :meth:`~IdentityCollector.held` states,
    taken on the thread that goes on to restrict them. A
    :meth:`~IdentityCollector.restrict` that keeps every slot leaves the tuples and
    their digests as they were, and resolve_leak then takes it. None when there is no
    digest to link."""
    columns, _kinds, n_tuples, layout, _held = _digest_layout(states)
    return EarlyDigests(layout, resolve_members(columns, n_tuples)) if _any_digest(
        columns) else None


def resolve_leak(collectors: Sequence[IdentityCollector],
                 early: EarlyDigests | None = None) -> LeakPeople:
    """People across several sources' collectors (one per file or table) of one leak.

    Every source's tuples are resolved together, in one union-find over their digests:
    a digest found in two sources is one node, so a person in two files is counted
    once. Categories are a person's union over all sources, an attribute their
    smallest value. People are numbered in the order of their smallest digest.
    ``early``: :func:`resolve_early` of the same collectors, used if their slots and
    tuples are still those it read.
    """
    leak_categories = sorted({category for collector in collectors
                              for _bit, category in collector.categories_of_bits()})
    if len(leak_categories) > 64:
        raise ValueError("more than 64 categories in one leak")
    attribute_names = sorted({a for c in collectors for a in c.attributes})
    columns, slot_kinds, n_tuples, layout, held = _digest_layout(
        [collector.held() for collector in collectors])
    # Each tuple's own facts, in the same order.
    facts = [tuples.select(
        collectors[index].category_bits(leak_categories).alias("categories"),
        pl.col("\0first").alias("first_seen"), pl.col("\0last").alias("last_seen"),
        *[pl.col(f"\0attr:{a}").alias(a) if a in collectors[index].attributes
          else pl.lit(None, pl.UInt64).alias(a) for a in attribute_names])
        for index, tuples in held]
    if not _any_digest(columns):
        return LeakPeople(
            pl.DataFrame(schema={"kind": pl.Enum([]), "hi": pl.UInt64, "lo": pl.UInt64,
                                 "person": pl.UInt64}),
            pl.DataFrame(schema={"person": pl.UInt64, "categories": pl.UInt64,
                                 "first_seen": pl.Date, "last_seen": pl.Date,
                                 **dict.fromkeys(attribute_names, pl.UInt64)}),
            0, leak_categories, {}, {}, {}, {name: {} for name in attribute_names})
    digests = (early.digests if early is not None and early.layout == layout
               else resolve_members(columns, n_tuples))
    persons = _reduce_by_person(pl.concat(facts), digests.tuple_person, digests.people,
                                ors=["categories"], mins=["first_seen", *attribute_names],
                                maxs=["last_seen"])
    kinds = sorted(set(slot_kinds))
    node_kinds = np.array([kinds.index(kind) for kind in slot_kinds],
                          dtype=np.int64)[digests.slot]
    # Kinds as an Enum: gathering its codes cost a third of gathering the strings, and
    # the index writes the codes as they are instead of encoding the strings again.
    nodes = pl.DataFrame({"kind": pl.Series(kinds, dtype=pl.Enum(kinds)).gather(node_kinds),
                          "hi": digests.hi, "lo": digests.lo,
                          "person": digests.person.astype(np.uint64)})
    exposed = persons.select([((pl.col("categories") & (1 << index)) != 0).sum().alias(c)
                              for index, c in enumerate(leak_categories)])
    by_category = {c: int(n) for c, n in zip(leak_categories, exposed.row(0), strict=True)
                   if n} if leak_categories else {}
    # Counted on the kind numbers: comparing millions of kind strings cost more.
    counts = _kind_counts(node_kinds, kinds, digests.person, digests.people)
    attributes = {}
    for name in attribute_names:
        counted = persons.drop_nulls(name).group_by(name).len()
        attributes[name] = dict(sorted((unpack_code(k), int(v)) for k, v in counted.iter_rows()))
    return LeakPeople(nodes, persons, digests.people, leak_categories,
                      {kind: holders for kind, (_n, holders) in counts.items()},
                      {kind: n for kind, (n, _holders) in counts.items()}, by_category,
                      attributes)


def write_leak_index(collectors: Sequence[IdentityCollector], key_id: str,
                     index_dir: str | Any, leak_id: str, leak_name: str,
                     inputs: list[dict[str, Any]], rows: int,
                     resolved: LeakPeople | None = None) -> dict[str, Any]:
    """Append one leak, made of zero or more sources, to the index; returns the manifest.

    A leak with no source (nothing parsed) or no identifier is still recorded, with no
    entries: "we indexed it and nobody is in it" is an answer too. ``resolved``: the
    collectors' :func:`resolve_leak`, when the caller already has it.
    """
    if any(c.key_id != key_id for c in collectors):
        raise ValueError("cannot index identity states made with different keys")
    if resolved is None:
        resolved = resolve_leak(collectors)
    entries = _with_person_columns(resolved.nodes, resolved.persons).select(
        "kind", "hi", "lo", "person", "categories", "first_seen", "last_seen")
    leak = {
        "leak_id": leak_id,
        "name": leak_name,
        "inputs": inputs,
        "rows": rows,
        "people": resolved.distinct,
        "people_method": PEOPLE_METHOD,
        "by_identifier_kind": {kind: {"identifiers": resolved.by_kind_identifiers[kind],
                                      "people": people}
                               for kind, people in resolved.by_kind.items()},
        "categories": resolved.categories,
        "region": collectors[0].region if collectors else None,
    }
    return index_store.add_leak(index_dir, key_id, leak, entries)
