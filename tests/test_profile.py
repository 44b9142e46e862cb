"""Profile accumulators: the merge law, sketch accuracy, the type lattice, no raw values."""

from __future__ import annotations

import datetime as dt
import json
import string
import subprocess
import sys
from pathlib import Path

import jsonschema
import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_identity_support import written_times

from triage.native import native_kernel
from triage.pipeline import profile_document, run
from triage.profile import TableProfile, types
from triage.profile.column import SHAPE_LENGTH
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
    assert columns["visit"]["range"] == {"min": "2015-01", "max": "2020-10"}


@pytest.mark.parametrize("where", ["first batch", "later batch"])
@pytest.mark.parametrize("values", [
    ["2.60037512345602E+14", "1.85037512345641E+14"],   # NIRs Excel wrote in scientific notation
    ["33600000001.0", "33612345678.0"],                 # phones exported as floats
    ["0612345678,0", "1,5"],                            # a decimal comma, a leading zero
    ["-1234567.25", "2.5"],                             # negative: the integer part counts
    ["1.5", "inf"],                                     # infinity hides the values beside it
])
def test_decimal_columns_withhold_identifier_like_numbers(values, where):
    """A value of 7 or more integer digits withholds a decimal column's range, as it does
    an integer column's, whether its batch is classified (first) or checked (later)."""
    batches = [pl.DataFrame({"v": ["1.5", "2.25"] * 20}), pl.DataFrame({"v": values * 20})]
    if where == "first batch":
        batches.reverse()
    column = profile_of(*batches).to_dict()["columns"][0]
    assert column["type"]["kind"] == "decimal"
    assert column["range"] == {"withheld": "identifier-like numbers"}


def test_decimal_columns_below_seven_integer_digits_keep_their_range():
    frame = pl.DataFrame({"v": ["999999.99", "-999999.5", "1.5"]})
    column = profile_of(frame).to_dict()["columns"][0]
    assert column["range"] == {"min": -999999.5, "max": 999999.99}


@pytest.mark.parametrize("reader", ["kernel", "polars"])
def test_date_ranges_are_months_whichever_path_read_them(reader, monkeypatch):
    """Birth dates and timestamps give months, never a day: the later batches' dates are
    read by the native kernel, or by polars (TRIAGE_NATIVE=0), to the same document."""
    if reader == "polars":
        monkeypatch.setattr(types, "parse_times", lambda values, fmt: None)
    elif native_kernel() is None:
        pytest.skip("no C compiler here")
    first = pl.DataFrame({"born": ["14/03/1931", "02/07/2004"] * 10,
                          "seen": ["2021-05-06 07:08:09", "2023-11-30 23:59:59"] * 10,
                          "old": ["05/03/0999", "06/04/1005"] * 10})
    later = pl.DataFrame({"born": ["29/02/1928", "31/12/2009"] * 10,
                          "seen": ["2020-01-01 00:00:01", "2024-02-03 04:05:06"] * 10,
                          "old": ["07/08/0998", "01/01/1000"] * 10})
    doc = profile_of(first, later).to_dict()
    columns = {c["name"]: c for c in doc["columns"]}
    assert columns["born"]["range"] == {"min": "1928-02", "max": "2009-12"}
    assert columns["seen"]["type"]["kind"] == "datetime"
    assert columns["seen"]["range"] == {"min": "2020-01", "max": "2024-02"}
    assert columns["old"]["range"] == {"min": "0998-08", "max": "1005-04"}  # zero-padded
    for column in doc["columns"]:
        jsonschema.validate(column, column_schema())


def column_schema() -> dict:
    schema = load_schema("profile.schema.json")
    return {"$ref": "#/$defs/column", "$defs": schema["$defs"]}


@pytest.mark.parametrize(("kind", "field", "value"), [
    ("date", "range", {"min": "1931-03-14", "max": "2004-07-02"}),
    ("datetime", "range", {"min": "2021-05-06T07:08:09", "max": "2023-11-30T23:59:59"}),
    ("decimal", "range", {"min": "2021-05", "max": "2023-11"}),
    ("text", "range", {"min": 1, "max": 2}),
    ("text", "shapes", [{"shape": "Ⓩⓔⓑⓤⓛⓞⓝ", "share": 1.0}]),
    ("text", "shapes", [{"shape": "Zeb", "share": 1.0}]),
    ("text", "shapes", [{"shape": "06", "share": 1.0}]),
])
def test_schema_refuses_days_and_raw_characters(kind, field, value):
    column = {"name": "c", "type": {"kind": kind}, "count": 2, "nulls": 0, "empty": 0,
              "distinct": 2, "length": {"min": 1, "max": 9, "mean": 5.0}, "shapes": []}
    column[field] = value
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(column, column_schema())


@pytest.mark.parametrize(("value", "shape"), [
    ("Ⓩⓔⓑⓤⓛⓞⓝ", "Aa"),                   # circled letters (symbols, not letters)
    ("🅩🅔🅑🅤🅛🅞🅝", "A"),                    # negative circled capitals
    ("🆉🅴🅱🆄🅻🅾🅽", "A"),                    # negative squared capitals
    ("🇿🇪🇧", "A"),                          # regional indicators
    ("⒵⒠⒝", "(a)(a)(a)"),                  # parenthesised letters
    ("𝐙𝐞𝐛𝐮𝐥𝐨𝐧", "Aa"),                      # mathematical bold
    ("Ｚｅｂｕｌｏｎ", "Aa"),                 # fullwidth
    ("Ze\u0301bulon", "Aa"),               # a combining accent joins its letter
    ("०६१२३४", "999999"),                  # Devanagari digits
    ("①②", "99"),                           # circled digits
    ("06\u00a012\u202f34", "99 99 99"),     # no-break spaces are spaces
    ("Zébulon ♥ 👍🏽", "Aa ~ ~"),             # symbols and emoji are one class
    ("\u202eZeb", "~Aa"),                   # a bidi control is no letter
])
def test_shapes_classify_every_character(value, shape):
    column = profile_of(pl.DataFrame({"v": [value]})).to_dict()["columns"][0]
    assert column["shapes"] == [{"shape": shape, "share": 1.0}]


#: What a shape may hold: the class symbols and ASCII punctuation and white space.
SHAPE_ALPHABET = set("Aa9~") | set(string.punctuation) | set(" \t\n\r")


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.text(min_size=1, max_size=2 * SHAPE_LENGTH), min_size=1, max_size=16))
def test_shapes_keep_no_character_outside_the_shape_alphabet(values):
    """Any text, of any script or symbol block: no character of a value outside ASCII
    punctuation and white space comes out, and the schema accepts the shape."""
    column = profile_of(pl.DataFrame({"v": values})).to_dict()["columns"][0]
    for entry in column["shapes"]:
        assert set(entry["shape"]) <= SHAPE_ALPHABET, entry["shape"]
        assert len(entry["shape"]) <= SHAPE_LENGTH
    jsonschema.validate(column, column_schema())


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


_EVERY_REASON = {
    "t.csv": ("Export du 12/03/2019\nid;nom;email\n1;Dupont;a@x.fr\n2;Martin\n"
              '3;Durand;c@x.fr;extra\nid;nom;email\n4;"never closed\n'),
    "t.jsonl": ('{"a": 1}\n[1]\n' + '{"a": ' * 600 + "1" + "}" * 600 + '\n{"a": ' + "9" * 5000
                + '}\n{"by": {"x@y.fr": 1, "z@y.fr": 2}}\n{"a": 1, "a": 2}\nnot json\n'),
    "t.sql": ("CREATE TABLE patients (id INT, nom VARCHAR(50), email VARCHAR(100));\n"
              "CREATE TABLE rdv (id INT);\nINSERT INTO rdv VALUES (1),(2,3);\n"),
}


def test_every_reason_a_reader_gives_is_in_the_profile_schema(tmp_path):
    # The readers' rejection and repair reasons once outgrew the schema's lists.
    schema = load_schema("profile.schema.json")
    reasons: set[str] = set()
    for name, text in _EVERY_REASON.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        doc = profile_document(run([path]))
        for source in doc.get("sources", [doc]):
            jsonschema.validate({"triage_version": doc["triage_version"], **source}, schema)
            reasons |= set(source["rows"]["reasons"]) | set(source["rows"]["repaired"])
    assert {"preamble", "repeated_header", "unterminated_quote", "too_few_fields",
            "too_many_fields", "not_an_object", "too_deep", "number_too_long", "invalid_json",
            "data_keys", "duplicate_key"} <= reasons


def test_a_table_with_no_rows_still_lists_the_columns_its_header_names(tmp_path):
    csv_path, sql_path = tmp_path / "header_only.csv", tmp_path / "t.sql"
    csv_path.write_text("nom;prenom;email\n")
    sql_path.write_text(_EVERY_REASON["t.sql"])
    (only_header,) = run([csv_path])
    assert list(only_header.profile.columns) == ["nom", "prenom", "email"]
    assert only_header.accounting.read == 0
    tables = {Path(r.info.name).name: r for r in run([sql_path])}
    assert list(tables["t.sql#patients"].profile.columns) == ["id", "nom", "email"]
    doc = tables["t.sql#patients"].profile_document()
    assert [c["count"] for c in doc["columns"]] == [0, 0, 0]


def test_a_filled_table_lists_only_the_columns_its_rows_have(tmp_path):
    # CREATE TABLE names a column "Email", the INSERTs "email": one column, not two.
    path = tmp_path / "t.sql"
    path.write_text("CREATE TABLE users (id INT, Email VARCHAR(100));\n"
                    "INSERT INTO users (id, email) VALUES (1, 'a@example.fr');\n")
    (table,) = run([path])
    assert list(table.profile.columns) == ["id", "email"]


#: Planted where a format stores numbers and dates as such: a NIR Excel turned into a
#: float, a phone exported as a float, a birth date, a name in circled letters.
PLANTED_NIR, PLANTED_PHONE, PLANTED_BIRTH = 2.60037512345602e14, 33612345678.0, dt.date(1931, 3, 14)
PLANTED_NAME = "Ⓩⓔⓑⓤⓛⓞⓝ"


def _planted_rows() -> list[dict]:
    rows = [{"nir": 1.85037512345641e14 + i, "telephone": 33600000001.5 + i,
             "naissance": dt.date(2004, 7, 2), "nom": "Martin"} for i in range(20)]
    rows[7] = {"nir": PLANTED_NIR, "telephone": PLANTED_PHONE, "naissance": PLANTED_BIRTH,
               "nom": PLANTED_NAME}
    return rows


def _write_planted(path, kind: str) -> None:
    rows = _planted_rows()
    if kind == "csv":
        path.write_text("nir,telephone,naissance,nom\n" + "".join(
            f"{r['nir']:.14E},{r['telephone']!r},{r['naissance']:%d/%m/%Y},{r['nom']}\n"
            for r in rows), encoding="utf-8")
    elif kind == "parquet":
        pl.DataFrame(rows).write_parquet(path)
    else:
        xlsxwriter = pytest.importorskip("xlsxwriter")
        book = xlsxwriter.Workbook(str(path))
        sheet, dates = book.add_worksheet("patients"), book.add_format({"num_format": "yyyy-mm-dd"})
        sheet.write_row(0, 0, list(rows[0]))
        for i, r in enumerate(rows, start=1):
            sheet.write_number(i, 0, r["nir"])
            sheet.write_number(i, 1, r["telephone"])
            sheet.write_datetime(i, 2, dt.datetime.combine(r["naissance"], dt.time()), dates)
            sheet.write_string(i, 3, r["nom"])
        book.close()


@pytest.mark.parametrize("kind", ["csv", "parquet", "xlsx"])
def test_planted_numbers_dates_and_fancy_names_stay_out_of_the_profile(tmp_path, kind):
    path = tmp_path / f"patients.{kind}"
    _write_planted(path, kind)
    result = subprocess.run([sys.executable, "-m", "triage", "profile", "-q", "--json", str(path)],
                            capture_output=True, text=True, timeout=120, check=True)
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, load_schema("profile.schema.json"))
    columns = {c["name"]: c for c in doc["columns"]}
    for name in ("nir", "telephone"):
        assert columns[name]["type"]["kind"] in ("integer", "decimal")
        assert columns[name]["range"] == {"withheld": "identifier-like numbers"}
    assert columns["naissance"]["range"] == {"min": "1931-03", "max": "2004-07"}
    # Digits as any writer may print them: plain, without the country code, scientific.
    planted = ["260037512345602", "2.60037512345602", "33612345678", "612345678",
               "1931-03-14", "14/03/1931", PLANTED_NAME, "Zebulon", "zebulon"]
    for text in planted:
        assert text not in result.stdout and text not in result.stderr


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
                                capture_output=True, text=True, timeout=120, check=False)
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
