"""The identity accumulator: people by union-find, merge law, restrict, exposures and dates."""

from __future__ import annotations

import pickle
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_identity_support import collector, new_key, patients, written_times

from triage.identity.collector import (
    CODE_BYTES,
    EarlyDigests,
    IdentifierPlan,
    IdentityCollector,
    SlotDigests,
    _resolve_native,
    _with_person_columns,
    pack_codes,
    resolve_early,
    resolve_leak,
    unpack_code,
)
from triage.identity.keys import PURPOSE_IDENTIFIERS
from triage.identity.people import connected_components
from triage.native import native_kernel


def _entries(col: IdentityCollector) -> pl.DataFrame:
    people = resolve_leak([col])
    return _with_person_columns(people.nodes, people.persons)


def test_components():
    parent = connected_components(7, np.array([0, 2, 4, 5]), np.array([1, 3, 3, 1]))
    assert parent.tolist() == [0, 0, 2, 2, 2, 0, 6]


_codes = st.text(st.characters(codec="utf-8", exclude_characters="\0"), max_size=3).filter(
    lambda code: len(code.encode()) <= CODE_BYTES)


@given(st.lists(st.one_of(st.none(), _codes), min_size=1, max_size=30))
@settings(max_examples=200, deadline=None)
def test_packed_codes_order_as_their_strings_and_unpack(codes):
    # A person's attribute is the smallest over their rows: the packed numbers must
    # pick the same code as the strings would.
    packed = pack_codes(pl.Series(codes, dtype=pl.String)).to_list()
    assert [p is None for p in packed] == [c is None for c in codes]
    present = [(c, p) for c, p in zip(codes, packed, strict=True) if c is not None]
    assert sorted(present, key=lambda cp: cp[1]) == sorted(present, key=lambda cp: cp[0].encode())
    assert all(unpack_code(p) == c for c, p in present)


def test_codes_longer_than_a_packed_number_are_refused():
    with pytest.raises(ValueError, match="at most"):
        pack_codes(pl.Series(["x" * (CODE_BYTES + 1)]))


def test_rows_sharing_any_identifier_are_one_person():
    key = new_key()
    frame = patients(200, with_canary=False)
    col = collector(key)
    col.update(frame)
    people = col.people()
    # 100 people, each in two rows whose phones are written differently.
    assert people["distinct"] == 100
    assert people["rows"] == 200 and people["rows_with_identifier"] == 200
    assert people["by_identifier_kind"]["phone"] == {"identifiers": 100, "people": 100}
    assert "union-find" in people["method"]


def test_transitive_links_make_one_person():
    key = new_key()
    plan = {"email": IdentifierPlan("email"), "tel": IdentifierPlan("phone")}
    frame = pl.DataFrame({"email": ["a@x.fr", "b@x.fr", "b@x.fr", "c@x.fr"],
                          "tel": ["0611111111", "0611111111", "0622222222", None]})
    col = IdentityCollector(key, plan)
    col.update(frame)
    assert col.people()["distinct"] == 2


@pytest.mark.parametrize("cut", [1, 37, 100, 199])
def test_merge_of_halves_equals_one_pass(cut):
    key = new_key()
    frame = patients(200)
    whole = collector(key)
    whole.update(frame)
    left, right = collector(key), collector(key)
    left.update(frame[:cut])
    right.update(frame[cut:])
    merged = left.merge(right)
    assert merged.people() == whole.people()
    assert _entries(merged).equals(_entries(whole))


@pytest.mark.parametrize("compact", [True, False])
def test_a_last_merge_without_compaction_resolves_the_same(monkeypatch, compact):
    """The cluster client's merges keep the tuples both halves hold (each person of
    ``patients`` is in both) without compacting them; people and index entries are
    those of one pass either way."""
    key = new_key()
    frame = patients(200)
    whole = collector(key)
    whole.update(frame)
    left, right = collector(key), collector(key)
    left.update(frame[:100])
    right.update(frame[100:])
    held = sum(p.height for c in (left, right) for p in c._parts)
    # Past one and a half halves held: their merge is due for compacting.
    half = sum(p.estimated_size() for p in left._parts)
    monkeypatch.setattr(IdentityCollector, "COMPACT_AFTER_BYTES", half * 3 // 2)
    merged = left.merge(right, compact=compact)
    # Compacting folds the tuples the halves share; without it, every one is kept.
    assert (sum(p.height for p in merged._parts) < held) == compact
    assert merged.people() == whole.people()
    assert _entries(merged).equals(_entries(whole))


def test_a_state_travels_as_out_of_band_buffers_and_comes_back_whole():
    """Dask pickles with protocol 5 and sends the buffers it is handed as they are: the
    tuples must go that way, not as one byte string inside the pickle stream."""
    key = new_key()
    col = collector(key)
    col.update(patients(400))
    col.update(patients(200, with_canary=False))
    people = col.people()
    buffers: list[pickle.PickleBuffer] = []
    stream = pickle.dumps(col, protocol=5, buffer_callback=buffers.append)
    digests = sum(p.select(pl.col(f"{s}\0hi").drop_nulls().len()).item() for p in col._parts
                  for s in col._slots)
    assert sum(b.raw().nbytes for b in buffers) >= 16 * digests
    assert len(stream) < 16 * digests / 10
    travelled = pickle.loads(stream, buffers=buffers)
    assert [p.schema for p in travelled._parts] == [p.schema for p in col._parts]
    assert all(a.equals(b) for a, b in zip(travelled._parts, col._parts, strict=True))
    travelled.attach_key(key)
    assert travelled.people() == people
    assert _entries(travelled).equals(_entries(col))


def test_batches_with_absent_columns_and_growing_column_sets():
    key = new_key()
    frame = patients(40, with_canary=False)
    one = collector(key)
    one.update(frame)
    parts = collector(key)
    parts.update(frame[:20].drop("nir", "diagnostic"))
    parts.update(frame[20:])
    parts.update(pl.DataFrame({"unrelated": ["x"]}))
    assert parts.people()["rows"] == 41
    assert parts.people()["distinct"] == 20


def test_restrict_drops_unconfirmed_columns_and_their_links():
    key = new_key()
    plan = {"email": IdentifierPlan("email", ("email",)),
            "code": IdentifierPlan("national_id", ("national_id",))}
    # "code" links everyone (a constant), but detection will not confirm it.
    frame = pl.DataFrame({"email": ["a@x.fr", "b@x.fr", "c@x.fr"],
                          "code": ["ABCDE1"] * 3, "diag": ["J10", "", None]})
    col = IdentityCollector(key, plan, row_categories={"diag": "diagnosis"})
    col.update(frame)
    assert col.people()["distinct"] == 1
    col.restrict({"email", "diag"})
    people = col.people()
    assert people["distinct"] == 3
    assert set(people["by_identifier_kind"]) == {"email"}


def _restricted(keep: set[str], *, resolved_late: bool = False
                ) -> tuple[IdentityCollector, EarlyDigests]:
    """A state resolved early (before its verdicts), then restricted to ``keep``.
    ``resolved_late``: the state is held before the verdicts but resolved after them,
    as when the other thread is slow."""
    plan = {"email": IdentifierPlan("email", ("email",)),
            "code": IdentifierPlan("national_id", ("national_id",))}
    frame = pl.DataFrame({"email": ["a@x.fr", "b@x.fr", "c@x.fr", "a@x.fr", None],
                          "code": ["ABCDE1", "ABCDE1", "ZYXWV2", None, "ZYXWV2"],
                          "diag": ["J10", "", None, "K20", "J10"]})
    col = IdentityCollector(new_key(), plan, row_categories={"diag": "diagnosis"})
    col.update(frame[:2])
    col.update(frame[2:])
    held = col.held()
    early = None if resolved_late else resolve_early([held])
    col.restrict(keep, {"diag": "diagnosis"})
    if resolved_late:
        # What was held is what was there: restrict replaces, never changes, it.
        assert [slot for slot, _ in held.slots] == ["email", "code"]
        assert len(held.parts) == 2 and held.parts[0].height == 2
        early = resolve_early([held])
    assert early is not None
    return col, early


def test_people_resolved_before_the_verdicts_are_those_resolved_after():
    col, early = _restricted({"email", "code", "diag"})
    with_early, after = resolve_leak([col], early), resolve_leak([col])
    assert with_early.distinct == after.distinct == 2
    assert with_early.nodes.equals(after.nodes) and with_early.persons.equals(after.persons)
    assert with_early.by_category == after.by_category == {"diagnosis": 2, "email": 2,
                                                           "national_id": 2}


@pytest.mark.parametrize("resolved_late", [False, True])
def test_people_resolved_early_are_dropped_when_the_verdicts_drop_a_slot(resolved_late):
    # Early, "code" links a@ and b@, and c@ with the last row: two people. Without
    # it, a@, b@ and c@ are three (the last row has no identifier left); the early
    # answer must go, even when it was resolved after the verdicts from what was held
    # before them.
    col, early = _restricted({"email", "diag"}, resolved_late=resolved_late)
    assert early.digests.people == 2
    with_early, after = resolve_leak([col], early), resolve_leak([col])
    assert with_early.distinct == after.distinct == 3
    assert with_early.nodes.equals(after.nodes) and with_early.persons.equals(after.persons)


@pytest.mark.skipif(native_kernel() is None, reason="no C compiler here")
def test_event_dates_take_what_the_profile_read_with_the_same_format():
    from triage.identity.collector import row_event_dates
    from triage.native import parse_times
    from triage.profile import TableProfile

    dates = [f"{1 + i % 28:02d}/{1 + i % 12:02d}/{2000 + i % 20}" for i in range(300)]
    batch = pl.DataFrame({"seen": dates, "other": dates[::-1]})
    profile = TableProfile()
    profile.update(batch)  # the first batch types the columns
    profile.update(batch)  # a later one is checked by the kernel, and kept
    assert set(profile.batch_times) == {"seen", "other"}
    events = {"seen": "%d/%m/%Y", "other": "%d/%m/%Y"}
    alone = row_event_dates(batch, events, "FR")
    shared = row_event_dates(batch, events, "FR", profile.batch_times)
    assert shared[0].equals(alone[0]) and shared[1].equals(alone[1])
    # Taken as read, not read again: a reading planted under the same format shows;
    # one under another format is ignored.
    micros, status = parse_times(batch["seen"], "%d/%m/%Y")
    planted = {"seen": ("%d/%m/%Y", micros + 86_400_000_000, status),
               "other": ("%Y-%m-%d", micros, status)}
    first, _last = row_event_dates(batch, {"seen": "%d/%m/%Y"}, "FR", planted)
    assert first.to_list()[0] == _date_of(dates[0]) + timedelta(days=1)
    first, _last = row_event_dates(batch, {"other": "%d/%m/%Y"}, "FR", planted)
    assert first.to_list()[0] == _date_of(dates[-1])


def _date_of(text: str) -> date:
    day, month, year = map(int, text.split("/"))
    return date(year, month, day)


def test_exposures_are_unioned_per_person_and_dates_span_their_rows(tmp_path):
    key = new_key()
    plan = {"email": IdentifierPlan("email", ("email",)), "tel": IdentifierPlan("phone", ("phone",))}
    frame = pl.DataFrame({
        "email": ["a@x.fr", None, "b@x.fr"],
        "tel": ["0611111111", "06 11 11 11 11", None],
        "diag": ["", "J10", None],
        "seen": ["2020-05-01", "2019-01-02", "2022-03-04"],
    })
    col = IdentityCollector(key, plan, row_categories={"diag": "diagnosis"},
                            event_dates={"seen": None})
    col.update(frame)
    col.write_index(str(tmp_path), "l1", "L1", [], 3)
    from triage.identity.lookup import LookupIndex
    index = LookupIndex(tmp_path, key)
    hit = index.lookup("email", "a@x.fr")["leaks"][0]
    assert hit["categories"] == ["diagnosis", "email", "phone"]
    assert (hit["first_seen"], hit["last_seen"]) == ("2019-01-02", "2020-05-01")
    other = index.lookup("email", "b@x.fr")["leaks"][0]
    assert other["categories"] == ["email"] and other["first_seen"] == "2022-03-04"


def test_people_then_the_index_resolve_once_until_more_rows_come(monkeypatch, tmp_path):
    import triage.identity.collector as module

    calls = []

    def counted(collectors):
        calls.append(len(collectors))
        return resolve_leak(collectors)

    monkeypatch.setattr(module, "resolve_leak", counted)
    col = collector(new_key())
    col.update(patients(40, with_canary=False))
    people = col.people()["distinct"]
    manifest = col.write_index(str(tmp_path / "a"), "l1", "L1", [], 40)
    assert calls == [1] and manifest["leaks"][0]["people"] == people
    col.update(patients(40, with_canary=False))  # new rows: people are resolved again
    col.write_index(str(tmp_path / "b"), "l1", "L1", [], 80)
    assert calls == [1, 1]


def test_memory_follows_distinct_identifiers_not_rows():
    key = new_key()
    frame = patients(100, with_canary=False)
    col = collector(key)
    for _ in range(30):  # the same people again and again: 3,000 rows
        col.update(frame)
    tuples = col._compact()
    assert tuples.height <= 100  # distinct identifier tuples, not 3,000 rows
    assert col.people()["rows"] == 3000 and col.people()["distinct"] == 50


def test_merge_refuses_another_key():
    a, b = collector(new_key()), collector(new_key())
    with pytest.raises(ValueError, match="different keys"):
        a.merge(b)


def test_native_and_python_hashing_give_the_same_people_and_digests():
    from triage.identity.digest import KeyedHasher
    from triage.identity.keys import PURPOSE_IDENTIFIERS
    from triage.native import native_kernel
    if native_kernel() is None:
        pytest.skip("no C compiler here")
    key = new_key()
    frame = patients(300)
    native, python = collector(key), collector(key)
    python._hasher = KeyedHasher(key.subkey(PURPOSE_IDENTIFIERS), native=False)
    assert native._hasher.implementation != "python"
    native.update(frame)
    python.update(frame)
    assert native.people() == python.people()
    assert _entries(native).equals(_entries(python))


def test_digests_sharing_their_first_64_bits_stay_apart():
    from triage.identity.collector import _number_distinct
    hi = np.array([5, 5, 3, 5], dtype=np.uint64)
    lo = np.array([1, 2, 9, 1], dtype=np.uint64)
    first, numbers = _number_distinct(hi, lo)
    assert numbers.tolist() == [1, 2, 0, 1]
    assert [(int(hi[i]), int(lo[i])) for i in first] == [(3, 9), (5, 1), (5, 2)]


def test_native_union_find_equals_numpy():
    from triage.native import native_kernel
    if native_kernel() is None:
        pytest.skip("no C compiler here")
    rng = np.random.default_rng(4)
    for nodes, edges in ((1, 0), (10, 3), (1000, 900), (50_000, 60_000)):
        left, right = rng.integers(0, nodes, edges), rng.integers(0, nodes, edges)
        assert np.array_equal(connected_components(nodes, left, right),
                              connected_components(nodes, left, right, native=False))


@st.composite
def _memberships(draw):
    """Tuples holding digests drawn from a small pool, some pool digests sharing their
    first half (hi) so that sorting by hi alone leaves them out of (hi, lo) order, some
    differing only in the top bits the kernel's buckets and byte passes sort on, some
    tied on all of those (left to its last comparisons), and some anywhere."""
    pool_size = draw(st.integers(1, 40))
    top_bytes = st.builds(lambda a, b, c, low: a << 56 | b << 48 | c << 40 | low,
                          st.integers(0, 3), st.integers(0, 3), st.integers(0, 3),
                          st.integers(0, 2))
    his = draw(st.lists(st.one_of(st.integers(0, 4), top_bytes, st.integers(0, 2**64 - 1)),
                        min_size=pool_size, max_size=pool_size))
    los = draw(st.lists(st.integers(0, 2**64 - 1), min_size=pool_size, max_size=pool_size,
                        unique=True))
    tuples = draw(st.lists(st.lists(st.integers(0, pool_size - 1), min_size=1, max_size=4),
                           min_size=1, max_size=60))
    # Laid out as a collector holds them: per source (a run of tuples), one column per
    # digest position, null where a tuple has fewer digests; each column in two chunks
    # that start within their buffers, since the kernel reads polars' buffers in place
    # (validity bitmaps and offsets included).
    split = draw(st.integers(0, len(tuples)))
    columns = []
    for first, source in ((0, tuples[:split]), (split, tuples[split:])):
        for position in range(max((len(t) for t in source), default=0)):
            digests = [None] + [t[position] if position < len(t) else None for t in source]
            padded = pl.DataFrame({"hi": [None if d is None else his[d] for d in digests],
                                   "lo": [None if d is None else los[d] for d in digests]},
                                  schema={"hi": pl.UInt64, "lo": pl.UInt64})
            cut = draw(st.integers(1, padded.height))
            padded = pl.concat([padded.slice(1, cut - 1), padded.slice(cut)], rechunk=False)
            columns.append(SlotDigests(padded["hi"], padded["lo"], position % 3, first))
    return columns, len(tuples)


@given(_memberships())
@settings(max_examples=300, deadline=None)
def test_native_people_from_memberships_equal_numpy(case):
    from triage.identity.collector import resolve_members
    from triage.native import native_kernel
    if native_kernel() is None:
        pytest.skip("no C compiler here")
    columns, n_tuples = case
    numpy = resolve_members(columns, n_tuples, native=False)
    native = resolve_members(columns, n_tuples)
    # The kernel's layout for leaks over 16M members: 4,096 buckets.
    wide = _resolve_native(native_kernel(), columns, n_tuples, bucket_bits=12)
    for result in (native, wide):
        assert result.people == numpy.people
        for field in ("hi", "lo", "person", "tuple_person"):
            assert np.array_equal(getattr(result, field), getattr(numpy, field)), field
    # Digests come in (hi, lo) order, each once, and a tuple is its digests' person.
    pairs = list(zip(native.hi.tolist(), native.lo.tolist(), strict=True))
    assert pairs == sorted(set(pairs))
    person_of = dict(zip(pairs, native.person.tolist(), strict=True))
    for column in columns:
        for row, (hi, lo) in enumerate(zip(column.hi, column.lo, strict=True)):
            if hi is not None:
                assert person_of[(hi, lo)] == native.tuple_person[column.first_tuple + row]


def test_the_kernel_refuses_digests_of_tuples_outside_the_state():
    from triage.identity.collector import resolve_members
    if native_kernel() is None:
        pytest.skip("no C compiler here")
    digests = pl.Series([1, 2], dtype=pl.UInt64)
    assert resolve_members([SlotDigests(digests, digests, 0, first_tuple=0)], 2).people == 2
    with pytest.raises(ValueError, match="tuples"):  # tuples 1 and 2 of 0..1
        resolve_members([SlotDigests(digests, digests, 0, first_tuple=1)], 2)


def test_a_leak_without_valid_identifiers_still_makes_an_index(tmp_path):
    from triage.identity.lookup import LookupIndex
    key = new_key()
    col = IdentityCollector(key, {"e": IdentifierPlan("email", ("email",))})
    col.update(pl.DataFrame({"e": [None, "not an email"]}, schema={"e": pl.String}))
    assert col.people()["distinct"] == 0
    manifest = col.write_index(str(tmp_path), "empty", "empty", [], 2)
    assert manifest["leaks"][0]["identifiers"] == 0
    for preload in (False, True):
        assert LookupIndex(tmp_path, key, preload=preload).lookup("email", "a@b.fr") == {
            "found": False, "leaks": []}


def test_filled_matches_stripping_on_every_kind_of_blank():
    from triage.identity.collector import filled

    spaces = ["\t", "\n", "\x0b", "\x0c", "\r", " ", "\x85", "\xa0", "\u1680", "\u2000",
              "\u200a", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000"]
    values = [None, "", "x", " x", "x ", "é", "\u2003é", "\u200b", "\x1c", *spaces,
              *(s * 3 for s in spaces), *(s + "a" + s for s in spaces), "a" * 40, " " * 40]
    series = pl.Series(values * 3, dtype=pl.String)
    expected = series.str.strip_chars().str.len_bytes().fill_null(0) > 0
    assert filled(series).tolist() == expected.to_list()
    # A slice starts its offsets past the buffer's start.
    assert filled(series[5:40]).tolist() == expected[5:40].to_list()


@pytest.mark.skipif(native_kernel() is None, reason="no C compiler here")
@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.none() | st.text(alphabet=st.sampled_from(
           ["a", "é", " ", "\t", "\x85", "\xa0", "\u2003", "\u3000", "\u200b", "\x1c"]),
           max_size=20), min_size=1, max_size=40),
       bits=st.lists(st.integers(min_value=0, max_value=127), min_size=1, max_size=6,
                     unique=True),
       cut=st.integers(min_value=0, max_value=3))
def test_native_exposure_bits_agree_with_stripping(values, bits, cut):
    # Several columns, one kernel call: each one sliced, reversed or chunked differently,
    # values inline in their view (<= 12 bytes) or in a data buffer.
    import triage.identity.collector as collector_module
    from triage.identity.collector import exposure_words

    base = pl.Series(values * 2, dtype=pl.String)
    shapes = [base, base.reverse(), base[cut:].append(base[:cut])]
    columns = [(bit, shapes[i % len(shapes)]) for i, bit in enumerate(bits)]
    native = exposure_words(columns, len(base), 2)
    for bit, values_of in columns:
        expected = (values_of.str.strip_chars().str.len_bytes().fill_null(0) > 0).to_numpy()
        assert ((native[bit // 64] >> np.uint64(bit % 64)) & np.uint64(1)).astype(bool).tolist() \
            == expected.tolist()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(collector_module, "native_kernel", lambda: None)
        assert np.array_equal(exposure_words(columns, len(base), 2), native)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(st.integers(min_value=0, max_value=5),
                               st.integers(min_value=0, max_value=2**64 - 1),
                               st.none() | st.dates(),
                               st.none() | st.sampled_from(["2A", "2B", "75", "971", ""])),
                     min_size=1, max_size=40))
def test_person_reductions_equal_a_group_by(rows):
    from triage.identity.collector import _reduce_by_person

    # People must be numbered densely, each owning a row.
    numbers = {p: i for i, p in enumerate(sorted({r[0] for r in rows}))}
    frame = pl.DataFrame({"person": [numbers[r[0]] for r in rows],
                          "mask": [r[1] for r in rows],
                          "first": [r[2] for r in rows], "last": [r[2] for r in rows],
                          "attr": [r[3] for r in rows]},
                         schema={"person": pl.UInt64, "mask": pl.UInt64, "first": pl.Date,
                                 "last": pl.Date, "attr": pl.String})
    expected = (frame.group_by("person")
                .agg(pl.col("mask").bitwise_or(), pl.col("first").min(), pl.col("last").max(),
                     pl.col("attr").min()).sort("person"))
    got = _reduce_by_person(frame, frame["person"].to_numpy(), len(numbers), ors=["mask"],
                            mins=["first", "attr"], maxs=["last"])
    assert got.select(expected.columns).equals(expected)


# Mostly the plain subset, where the kernel makes the form itself, plus the characters
# that must leave it (control and non-Latin white space, letters with no ASCII form).
_NAME_TEXT = (st.text(alphabet="abcJEANÉéèçôÿÀÖØøĳĲžß -'.\t\x1c", max_size=12)
              | st.text(alphabet="abcÉé -'\x85\u00a0ﬁŁł\u0301", max_size=12))


@pytest.mark.skipif(native_kernel() is None, reason="no C compiler here")
@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.tuples(st.none() | _NAME_TEXT, st.none() | _NAME_TEXT,
                               st.none() | st.sampled_from(["12/03/1985", "31/12/1879",
                                                            "01/01/2100", "1985-03-12",
                                                            "garbage", "", "29/02/2001"])),
                     min_size=1, max_size=30),
       full_name=st.booleans())
def test_native_name_birth_composite_equals_the_polars_one(rows, full_name):
    # The kernel makes the name form and the composite itself: every row must get the
    # digest (or none) that the polars path and the reference give.
    from triage.identity.digest import KeyedHasher

    key = new_key()
    if full_name:
        plan = {"nom": IdentifierPlan("name_birth", ("full_name",), role="full_name"),
                "naiss": IdentifierPlan("name_birth", ("birth_date",), role="birth_date")}
    else:
        plan = {"prenom": IdentifierPlan("name_birth", ("first_name",), role="first_name"),
                "nom": IdentifierPlan("name_birth", ("last_name",), role="last_name"),
                "naiss": IdentifierPlan("name_birth", ("birth_date",), role="birth_date")}
    batch = pl.DataFrame({"prenom": [r[0] for r in rows], "nom": [r[1] for r in rows],
                          "naiss": [r[2] for r in rows]},
                         schema=dict.fromkeys(["prenom", "nom", "naiss"], pl.String))
    native = IdentityCollector(key, plan, "FR")._slot_digests("name_birth", "name_birth", batch)
    python = IdentityCollector(key, plan, "FR")
    python._hasher = KeyedHasher(python.key.subkey(PURPOSE_IDENTIFIERS), native=False)
    expected = python._slot_digests("name_birth", "name_birth", batch)
    assert native is not None and expected is not None
    assert native[0].to_list() == expected[0].to_list()
    assert native[1].to_list() == expected[1].to_list()


def test_a_leak_of_several_sources_without_identifiers_has_no_people():
    # Two sources (two tables of a dump), neither with an identifier value: the leak
    # is resolved from empty nodes.
    key = new_key()
    first, second = collector(key), collector(key)
    first.update(patients(4).with_columns(pl.lit(None, pl.String).alias(c) for c in
                                          ("email", "tel", "nir", "prenom", "nom")))
    leak = resolve_leak([first, second])
    assert (leak.distinct, leak.by_kind, leak.by_kind_identifiers) == (0, {}, {})


@pytest.mark.skipif(native_kernel() is None, reason="no C compiler here")
@settings(max_examples=100, deadline=None)
@given(first=written_times(), second=written_times())
def test_event_dates_read_by_the_kernel_equal_polars_ones(first, second):
    # Each row's earliest and latest event date over two columns of fixed formats:
    # the kernel reads what it can, polars the rows it left; the result must be what
    # polars alone gives.
    from triage.identity.collector import _parsed_event_dates, row_event_dates

    (format_a, a), (format_b, b) = first, second
    rows = min(len(a), len(b))
    batch = pl.DataFrame({"a": a[:rows], "b": b[:rows]}, schema={"a": pl.String, "b": pl.String})
    formats = {"a": format_a, "b": format_b}
    got = row_event_dates(batch, formats, "FR")
    expected = _parsed_event_dates(batch, formats, "FR")
    assert got[0].to_list() == expected[0].to_list()
    assert got[1].to_list() == expected[1].to_list()
