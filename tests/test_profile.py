"""Profile accumulators: the merge law, sketch accuracy, the type lattice, no raw values."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema
import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_identity_support import written_times

from triage.native import native_kernel
from triage.profile import TableProfile
from triage.profile.hll import HyperLogLog
from triage.profile.types import TEXT, InferredType
from triage.resources import load_schema


def profile_of(*frames: pl.DataFrame) -> TableProfile:
    profile = TableProfile()
    for frame in frames:
        profile.update(frame)
    return profile


def comparable(profile: TableProfile) -> dict:
    """Everything that must merge exactly (shapes are sampled shares: excluded)."""
    doc = profile.to_dict()
    for column in doc["columns"]:
        column.pop("shapes")
    return doc


_values = st.one_of(
    st.none(), st.just(""), st.integers(-10**6, 10**6).map(str),
    st.floats(-1e6, 1e6, allow_nan=False).map(lambda f: f"{f:.3f}"),
    st.dates().map(lambda d: d.strftime("%d/%m/%Y")),
    st.sampled_from(["oui", "non", "Jean", "jean.dupont@mail.fr", "06 12 34 56 78"]),
    st.text(max_size=8),
)
_column = st.sampled_from(["a", "b", "c"])


@settings(max_examples=80, deadline=None)
@given(rows=st.lists(st.fixed_dictionaries({"a": _values, "b": _values, "c": _values}),
                     min_size=2, max_size=300),
       cut=st.floats(0, 1))
def test_merge_law_profile_of_a_plus_b_is_merge_of_profiles(rows, cut):
    frame = pl.DataFrame(rows, schema=dict.fromkeys("abc", pl.String))
    split = int(len(rows) * cut)
    head, tail = frame.head(split), frame.tail(len(rows) - split)
    whole = profile_of(frame)
    merged = profile_of(head).merge(profile_of(tail))
    assert comparable(merged) == comparable(whole)
    for name in "abc":
        assert (merged.columns[name].hll.registers == whole.columns[name].hll.registers).all()


@settings(max_examples=80, deadline=None)
@given(rows=st.lists(st.fixed_dictionaries({"a": _values, "b": _values, "c": _values}),
                     min_size=3, max_size=300),
       cuts=st.tuples(st.floats(0, 1), st.floats(0, 1)))
def test_parts_seeded_with_the_first_rows_types_merge_to_the_whole(rows, cuts):
    """A split file's parts start from the types of its first batch (the cluster's plan):
    the merged profile is still exactly the one-pass profile. (Dates here have one
    format: a date that reads both day-first and month-first depends on the order
    the formats come in, in one pass as in parts; docs/cluster.md says so.)"""
    frame = pl.DataFrame(rows, schema=dict.fromkeys("abc", pl.String))
    first = max(1, int(len(rows) * min(cuts)))
    split = max(first, int(len(rows) * max(cuts)))
    seed = {name: column.type for name, column in profile_of(frame.head(first)).columns.items()}
    parts = []
    for part in (frame.head(split), frame.tail(len(rows) - split)):
        profile = TableProfile(seed)
        profile.update(part)
        parts.append(profile)
    assert comparable(parts[0].merge(parts[1])) == comparable(profile_of(frame))


def test_columns_appearing_later_count_missing_rows_as_nulls():
    first = pl.DataFrame({"a": ["1", "2"]})
    second = pl.DataFrame({"a": ["3"], "b": ["x"]})
    doc = profile_of(first, second).to_dict()
    b = next(c for c in doc["columns"] if c["name"] == "b")
    assert (b["count"], b["nulls"]) == (1, 2)
    assert profile_of(first).merge(profile_of(second)).to_dict() == doc


def test_hll_is_within_two_percent_at_a_million_distinct():
    values = pl.DataFrame({"v": pl.int_range(0, 1_000_000, eager=True).cast(pl.String) + "x"})
    profile = profile_of(values)
    estimate = profile.to_dict()["columns"][0]["distinct"]
    assert abs(estimate - 1_000_000) / 1_000_000 <= 0.02


def test_hll_small_sets_are_exact_enough():
    sketch = profile_of(pl.DataFrame({"v": ["a", "b", "c", "a", "", None]}))
    assert sketch.to_dict()["columns"][0]["distinct"] == 3


@pytest.mark.parametrize("values,kind,formats", [
    (["1", "-2", "+3", "007"], "integer", None),
    (["1", "2.5", "3,25"], "decimal", [","]),
    (["oui", "NON", "true"], "boolean", None),
    (["01/02/2020", "31/12/1999"], "date", ["%d/%m/%Y"]),
    (["2020-01-02", "2020-01-03 10:00:00"], "datetime", ["%Y-%m-%d", "%Y-%m-%d %H:%M:%S"]),
    (["01/02/2020", "2020-03-04"], "date", ["%Y-%m-%d", "%d/%m/%Y"]),
    (["1", "x"], "text", None),
    (["2020-01-01", "12"], "text", None),
    (["", None], "null", None),
])
def test_type_lattice(values, kind, formats):
    doc = profile_of(pl.DataFrame({"v": values}, schema={"v": pl.String})).to_dict()
    inferred = doc["columns"][0]["type"]
    assert inferred["kind"] == kind
    assert inferred.get("formats") == formats


def test_type_is_exact_even_when_the_sample_misses_the_odd_value():
    values = [str(i) for i in range(100_000)]
    values[77_777] = "not a number"
    doc = profile_of(pl.DataFrame({"v": values})).to_dict()
    assert doc["columns"][0]["type"]["kind"] == "text"


@pytest.mark.parametrize(("later", "kind", "low", "high"), [
    (["2,5", "", None, "1,5"], "decimal", -3.0, 12.25),        # blanks are not misfits
    (["2,5", "", None, "1,5", "-40"], "decimal", -40.0, 12.25),  # an integer joins
    (["2,5", " 7,5 "], "decimal", -3.0, 12.25),                 # trimmed by the exact path
    (["2,5", "n/a"], "text", None, None),
    (["", None, "n/a"], "text", None, None),                   # blanks do not hide a misfit
    (["", None], "decimal", -3.0, 12.25),
])
def test_decimals_checked_per_distinct_value_in_later_batches(later, kind, low, high):
    profile = TableProfile()
    profile.update(pl.DataFrame({"v": ["1,5", "12,25", "-3,0", "1,5"] * 50}))
    assert profile.columns["v"].type.kind == "decimal"
    profile.update(pl.DataFrame({"v": (later * 50)[:200]}, schema={"v": pl.String}))
    column = profile.columns["v"]
    assert column.type.kind == kind
    if low is not None:
        assert (column.number_min, column.number_max) == (low, high)


def test_join_is_commutative_and_text_absorbs():
    a, b = InferredType("integer"), InferredType("date", frozenset({"%Y-%m-%d"}))
    assert a.join(b) == b.join(a) == TEXT
    assert InferredType("integer").join(InferredType("decimal")).kind == "decimal"


def test_ranges_and_withheld_identifiers():
    frame = pl.DataFrame({"age": ["34", "71", "5"], "tel": ["0612345678", "0698765432", "0700000000"],
                          "visit": ["03/01/2015", "30/10/2020", "12/06/2018"]})
    columns = {c["name"]: c for c in profile_of(frame).to_dict()["columns"]}
    assert columns["age"]["range"] == {"min": 5, "max": 71}
    assert columns["tel"]["range"] == {"withheld": "identifier-like numbers"}
    assert columns["visit"]["range"] == {"min": "2015-01-03", "max": "2020-10-30"}


def test_shapes_never_hold_letters_or_digits_of_values():
    frame = pl.DataFrame({"email": ["jean.dupont@mail.fr"] * 3, "tel": ["06 12 34 56 78"] * 3,
                          "nom": ["Dupont", "DUPONT", "de la Tour"]})
    columns = {c["name"]: c for c in profile_of(frame).to_dict()["columns"]}
    assert columns["email"]["shapes"] == [{"shape": "a.a@a.a", "share": 1.0}]
    assert columns["tel"]["shapes"] == [{"shape": "99 99 99 99 99", "share": 1.0}]
    assert {s["shape"] for s in columns["nom"]["shapes"]} == {"Aa", "A", "a a Aa"}


def test_profile_json_is_valid_and_holds_no_value(tmp_path):
    path = tmp_path / "patients.csv"
    canaries = ["canary.leak@example.org", "0611223344", "Zébulon"]
    path.write_text("email;tel;nom;naissance\n" + "".join(
        f"{canaries[0] if i == 7 else f'u{i}@x.fr'};{canaries[1] if i == 3 else f'06{i:08d}'};"
        f"{canaries[2] if i == 5 else 'Nom'};0{i % 9 + 1}/01/1980\n" for i in range(40)), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "triage", "profile", "--json", str(path)],
                            capture_output=True, text=True, timeout=120, check=True)
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, load_schema("profile.schema.json"))
    assert doc["rows"]["parsed"] == 40
    for canary in canaries:
        assert canary not in result.stdout and canary.lower() not in result.stdout.lower()
        assert canary not in result.stderr
    table = subprocess.run([sys.executable, "-m", "triage", "profile", str(path)],
                           capture_output=True, text=True, timeout=120, check=True)
    assert "email" in table.stdout
    assert not any(c in table.stdout for c in canaries)


def test_hll_merge_is_register_max():
    a, b = HyperLogLog(), HyperLogLog()
    a.registers[3], b.registers[3], b.registers[9] = 5, 2, 7
    merged = a.merge(b)
    assert merged.registers[3] == 5 and merged.registers[9] == 7


@pytest.mark.skipif(native_kernel() is None, reason="no C compiler here")
def test_hll_kernel_gives_numpy_registers(monkeypatch):
    from triage.profile import hll

    rng = np.random.default_rng(5)
    hashes = rng.integers(0, 2**64, size=50_000, dtype=np.uint64)
    # Ranks at both ends: no low bits set (the cap), the top bit alone, small values.
    hashes[:5] = [0, 1 << 63, 1, (1 << 50) - 1, 1 << 49]
    hashes[5:5000] >>= np.uint64(14)
    native = HyperLogLog()
    native.add_hashes(hashes)
    monkeypatch.setattr(hll, "native_kernel", lambda hold_gil=False: None)
    reference = HyperLogLog()
    reference.add_hashes(hashes)
    assert np.array_equal(native.registers, reference.registers)


@pytest.mark.skipif(native_kernel() is None, reason="no C compiler here")
@settings(max_examples=60, deadline=None)
@given(columns=st.lists(st.lists(st.one_of(st.none(), st.just(""), st.text(max_size=30)),
                                 min_size=1, max_size=60).filter(lambda c: len(c) > 0),
                        min_size=1, max_size=4),
       start=st.integers(0, 5))
def test_length_kernel_gives_polars_counts(columns, start):
    from triage.native import length_stats

    height = min(len(c) for c in columns)
    frame = pl.DataFrame({f"c{k}": c[:height] for k, c in enumerate(columns)},
                         schema={f"c{k}": pl.String for k in range(len(columns))})
    # A slice starts the views part-way in: the kernel must honour the offset.
    frame = frame.slice(min(start, height - 1))
    native = length_stats(frame.get_columns())
    reference = TableProfile._polars_length_stats(frame)
    assert native.tolist() == reference.tolist()


def test_columns_named_like_internal_ones_do_not_collide(tmp_path):
    path = tmp_path / "names.csv"
    path.write_text("name,v,column,value,shape,len,email\n"
                    "Jean,1,x,y,z,3,jean@example.org\nMarie,2,x,y,z,4,marie@example.org\n")
    for command in (["profile", "--json"], ["detect", "--json"]):
        result = subprocess.run([sys.executable, "-m", "triage", *command, str(path)],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert len(json.loads(result.stdout)["columns"]) == 7


def test_table_escapes_control_characters_in_shapes(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text('id,note\n1,"line\none\tx"\n2,"two\nlines"\n')
    table = subprocess.run([sys.executable, "-m", "triage", "profile", "-q", str(path)],
                           capture_output=True, text=True, timeout=120, check=True).stdout
    note = next(line for line in table.splitlines() if line.startswith("note"))
    assert "\\n" in note
    assert len(table.splitlines()) == 6


@pytest.mark.skipif(native_kernel() is None, reason="no C compiler here")
@settings(max_examples=300, deadline=None)
@given(case=written_times())
def test_kernel_reads_times_as_polars_strptime_does(case):
    # What the kernel reads, polars reads to the same instant; what it is unsure of
    # (status 2) it leaves to polars, so it may be stricter, never different.
    from triage.native import parse_times

    fmt, values = case
    series = pl.Series(values, dtype=pl.String)
    micros, status = parse_times(series, fmt)
    # Compared as microseconds from 1970: polars reads years that Python's datetime cannot hold.
    parsed = series.str.to_datetime(fmt, strict=False, time_unit="us")
    expected = parsed.cast(pl.Int64).to_list()
    # A value exactly as strftime writes what polars read (every field zero-padded)
    # is one the kernel must read itself: it is there to spare polars those.
    canonical = parsed.dt.strftime(fmt).to_list()
    for value, got, state, want, written in zip(values, micros, status, expected, canonical,
                                                strict=True):
        if state == 1:
            assert int(got) == want, value
        elif state == 0:
            assert not value
        else:
            assert value
            assert value != written, value


@pytest.mark.parametrize("odd", ["01/01/0000", "12/03/-020", "2020-13-01"])
@pytest.mark.parametrize("where", ["first batch", "later batch"])
def test_a_year_python_cannot_hold_makes_the_column_text_not_a_crash(odd, where):
    """polars reads the year 0 or -20 with %Y; its min could not be converted. Whether the
    value comes while the type is being decided or once it is established (the fast
    path, the native kernel's included), the column is text."""
    dates = [f"{1 + i % 28:02d}/{1 + i % 12:02d}/{1990 + i % 30}" for i in range(2000)]
    batches = [pl.DataFrame({"d": dates}), pl.DataFrame({"d": dates})]
    batches[0 if where == "first batch" else 1][1000, "d"] = odd
    profile = TableProfile()
    for batch in batches:
        profile.update(batch)
    column = profile.columns["d"].to_dict()
    assert column["type"]["kind"] == "text"
    assert column["count"] == 4000
