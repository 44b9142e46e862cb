"""Synthetic dumps: the truth file agrees with the content, exactly, for every scenario."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import tomllib
from pathlib import Path

import jsonschema
import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner
from stdnum import ean, luhn
from stdnum.fr import nir
from stdnum.us import ssn

import synthetic
from synthetic.people import Population
from synthetic.pools import build
from triage.resources import load_schema, seeds_dir

ROWS = 3000
SCENARIOS = synthetic.scenarios()
PERSONAL = [s for s in SCENARIOS if synthetic.load(s).get("rows_per_person")]


def read_dump(path: Path, truth: dict) -> pl.DataFrame:
    if truth["format"] == "jsonl":
        return pl.read_ndjson(path, infer_schema_length=None).cast(pl.String)
    text = path.read_bytes().decode(truth["encoding"])
    return pl.read_csv(text.encode(), separator=truth["delimiter"], infer_schema=False)


@pytest.fixture(scope="module")
def dumps(tmp_path_factory) -> dict[str, tuple[pl.DataFrame, dict, Path]]:
    out = {}
    for name in SCENARIOS:
        path = tmp_path_factory.mktemp(name) / f"{name}.dump"
        truth = synthetic.generate(name, ROWS, path, seed=11)
        out[name] = (read_dump(path, truth), truth, path)
    return out


def person_key(name: str, truth: dict) -> str:
    """The header of the scenario's person number (one per person, never empty)."""
    spec = synthetic.load(name)
    key = next(
        c["key"]
        for c in spec["columns"]
        if c["generator"] == "person_number" and not c.get("null_rate")
    )
    native = next(c["headers"][spec["native_locale"]] for c in spec["columns"] if c["key"] == key)
    return next(h for h, original in truth["original_headers"].items() if original == native)


def test_seeds_validate_against_schema():
    schema = load_schema("seed.schema.json")
    for path in sorted(Path(seeds_dir()).glob("*.toml")):
        with path.open("rb") as f:
            jsonschema.validate(tomllib.load(f), schema)


def test_truth_files_validate_against_schema(dumps):
    schema = load_schema("truth.schema.json")
    for _, truth, path in dumps.values():
        jsonschema.validate(truth, schema)
        assert json.loads(Path(f"{path}.truth.json").read_text(encoding="utf-8")) == truth


def test_every_scenario_has_its_shape(dumps):
    assert len(dumps["megabus"][0].columns) >= 60
    for name, (frame, truth, _) in dumps.items():
        assert frame.height == truth["rows"] == ROWS, name
        assert list(frame.columns) == list(truth["columns"]), name
        assert set(truth["columns"].values()) - {None} <= synthetic.CATEGORY_IDS


@pytest.mark.parametrize("name", PERSONAL)
def test_people_and_category_counts_are_exact(dumps, name):
    frame, truth, _ = dumps[name]
    key = person_key(name, truth)
    assert frame[key].null_count() == 0
    assert frame[key].n_unique() == truth["people"]
    expected = {}
    for category in {c for c in truth["columns"].values() if c}:
        headers = [h for h, c in truth["columns"].items() if c == category]
        present = pl.any_horizontal([pl.col(h).is_not_null() & (pl.col(h) != "") for h in headers])
        expected[category] = frame.filter(present)[key].n_unique()
    assert truth["people_by_category"] == expected


@pytest.mark.parametrize("name", PERSONAL)
def test_identifiers_are_stable_per_person_and_never_shared(dumps, name):
    frame, truth, _ = dumps[name]
    key = person_key(name, truth)
    spec = {c["headers"][truth["header_locale"]]: c for c in synthetic.load(name)["columns"]}
    identifying = {"email", "phone", "national_id", "health_insurance_id"}
    for header, category in truth["columns"].items():
        if (
            category not in identifying
            or header == key
            or spec[header]["generator"] == "prescriber_id"
        ):
            continue
        pairs = frame.select(key, header).drop_nulls().unique()
        assert pairs[key].is_duplicated().sum() == 0, f"{name}.{header}: a person with two values"
        assert pairs[header].is_duplicated().sum() == 0, (
            f"{name}.{header}: two people share a value"
        )


def test_megabus_identifiers_are_valid_and_consistent(dumps):
    frame, truth, _ = dumps["megabus"]
    people = frame.unique("IPP")
    nirs = people.drop_nulls("NUM_SECU")
    assert nirs.height > 0.95 * people.height
    for number, sex, birth in nirs.select("NUM_SECU", "SEXE", "DT_NAISS").iter_rows():
        assert nir.is_valid(number), number
        assert number[0] == ("1" if sex == "M" else "2")
        assert number[1:3] == birth[8:10] and number[3:5] == birth[3:5]
    for header in ("FINESS_LABO", "RPPS_MT", "RPPS_PRESCRIPTEUR"):
        values = frame[header].drop_nulls().unique().to_list()
        assert values and all(luhn.is_valid(v) for v in values), header
    assert frame["FINESS_LABO"].str.len_chars().unique().to_list() == [9]
    assert frame["RPPS_MT"].drop_nulls().str.len_chars().unique().to_list() == [11]
    assert 20 <= frame["FINESS_LABO"].n_unique() <= 30
    visits = frame["DATE_PRELEVEMENT"].str.to_date("%d/%m/%Y")
    assert str(visits.min()) >= "2015-01-01" and str(visits.max()) <= "2020-10-31"
    # Several visits for many patients; the labs' départements dominate.
    assert frame.height / truth["people"] == pytest.approx(2.5, rel=0.01)
    depts = people["DEPT"].value_counts(normalize=True)
    main_share = depts.filter(pl.col("DEPT").is_in(["56", "27", "45", "22", "41"]))[
        "proportion"
    ].sum()
    assert 0.85 < main_share < 0.99
    assert (people["CP"].str.slice(0, 2) == people["DEPT"].str.replace("2A|2B", "20")).all()
    comments = frame["COMMENTAIRE"].drop_nulls().str.to_lowercase()
    for word in ("enceinte", "sourd", "vih", "diab", "cancer", "traitement"):
        assert comments.str.contains(word).any(), word
    health = comments.str.contains(
        "enceinte|grossesse|sourd|malentendant|vih|séropositif|diab|cancer|onco|avk|anticoag|lévothyrox|dépression"
    )
    assert 0.1 < health.mean() < 0.5
    # No man is pregnant.
    pregnant = frame.filter(pl.col("COMMENTAIRE").str.contains("nceinte|rossesse"))
    assert (pregnant["SEXE"] == "F").all()


def test_nir_corsica_and_dedupe_under_collision_pressure():
    spec = dict(synthetic.load("megabus"))
    # Everybody born the same day in a handful of communes: identical sex/year/month/
    # département for thousands of people, so only the dedupe keeps NIRs distinct.
    spec["births"] = {"start": "1990-06-15", "end": "1990-06-15"}
    population = Population(30_000, 5, spec, build(spec, 5))
    texts = population.nir_text(np.arange(30_000)).to_list()
    assert len(set(texts)) == 30_000
    assert all(nir.is_valid(t) for t in texts)
    corsican = [t for t in texts if t[5:7] in ("2A", "2B")]
    assert corsican, "no Corsican birth drawn"
    old = Population(
        20_000, 5, {**spec, "births": {"start": "1950-01-01", "end": "1960-12-31"}}, build(spec, 5)
    )
    old_texts = old.nir_text(np.arange(20_000)).to_list()
    assert not [t for t in old_texts if t[5:7] in ("2A", "2B")], "Corsica was 20 before 1976"
    assert any(t[5:7] == "20" for t in old_texts)


def test_other_identifier_checks(dumps):
    us, _, _ = dumps["us_patients"]
    assert all(ssn.is_valid(v) for v in us["ssn"].drop_nulls())
    assert all(luhn.is_valid("80840" + v) for v in us["provider_npi"].unique())
    de, _, _ = dumps["de_practice"]
    assert de["Versichertennummer"].str.contains(r"^[A-Z]\d{9}$").all()
    pixel, _, _ = dumps["pixel_events"]
    assert pixel["hashed_email"].drop_nulls().str.contains(r"^[0-9a-f]{64}$").all()
    addresses = [ipaddress.ip_address(v) for v in pixel["ip_address"]]
    assert {a.version for a in addresses} == {4, 6}
    assert not any(a.is_private or a.is_reserved for a in addresses)
    assert pixel["page_url"].str.contains(r"\?q=").any()


def test_control_has_nothing_personal(dumps):
    frame, truth, _ = dumps["control"]
    assert set(truth["columns"].values()) == {None}
    assert truth["people"] == 0 and truth["people_by_category"] == {} and truth["canaries"] == []
    batches = frame["batch_number"].to_list()
    assert all(len(b) == 15 and b.isdigit() and b[0] in "12" for b in batches)
    assert not any(nir.is_valid(b) for b in batches)
    assert all(ean.is_valid(v) for v in frame["ean13"])
    assert frame["firmware_version"].str.contains(r"^\d+\.\d+\.\d+\.\d+$").all()


def test_canaries_are_written_verbatim_and_distinctive(dumps):
    for name in PERSONAL:
        frame, truth, path = dumps[name]
        assert truth["canaries"], name
        text = path.read_bytes().decode(truth["encoding"])
        for canary in truth["canaries"]:
            rows = frame
            for category, header in canary["columns"].items():
                rows = rows.filter(pl.col(header) == canary[category])
            assert rows.height == canary["rows"], (name, canary)
            if "email" in canary:
                assert text.count(canary["email"]) == canary["rows"]
                assert canary["email"].startswith("canari.")


def test_deterministic_bytes(tmp_path):
    for name in ("megabus", "pixel_events"):
        a, b, c = tmp_path / f"{name}.a", tmp_path / f"{name}.b", tmp_path / f"{name}.c"
        synthetic.generate(name, 1500, a, seed=3, messy=True, chunk_rows=500)
        synthetic.generate(name, 1500, b, seed=3, messy=True, chunk_rows=500)
        synthetic.generate(name, 1500, c, seed=4, messy=True, chunk_rows=500)
        assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()
        assert Path(f"{a}.truth.json").read_bytes() == Path(f"{b}.truth.json").read_bytes()
        assert a.read_bytes() != c.read_bytes()


@pytest.mark.parametrize("locale", synthetic.HEADER_LOCALES)
def test_header_locales(tmp_path, locale):
    for name in SCENARIOS:
        path = tmp_path / name
        truth = synthetic.generate(name, 50, path, seed=1, locale=locale)
        expected = [c["headers"][locale] for c in synthetic.load(name)["columns"]]
        assert list(truth["columns"]) == expected
        assert truth["header_locale"] == locale
        frame = read_dump(path, truth)
        assert frame.columns == expected


def test_obfuscated_headers(tmp_path):
    path = tmp_path / "mb.csv"
    truth = synthetic.generate("megabus", 200, path, seed=1, obfuscate_headers=True)
    n = len(synthetic.load("megabus")["columns"])
    names = [f"C{i:02d}" for i in range(1, n + 1)]
    assert list(truth["columns"]) == names
    assert path.read_bytes().decode("cp1252").split("\r\n", 1)[0] == ";".join(names)
    assert truth["original_headers"]["C10"] == "NUM_SECU"
    assert truth["columns"]["C10"] == "national_id" and truth["subtypes"]["C10"] == "fr_nir"


def test_zero_rows(tmp_path):
    truth = synthetic.generate("megabus", 0, tmp_path / "empty.csv")
    assert truth["people"] == 0 and truth["rows"] == 0
    assert (tmp_path / "empty.csv").read_bytes().count(b"\r\n") == 1


def test_cli_writes_dump_and_truth_only(tmp_path):
    # The whole CLI is imported here, so that a broken sibling command fails only this test.
    from triage.cli import main

    out = tmp_path / "a.jsonl"
    result = CliRunner().invoke(
        main,
        [
            "synth",
            "pixel_events",
            "--rows",
            "300",
            "-o",
            str(out),
            "--seed",
            "9",
            "--locale",
            "fr",
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jsonl", "a.jsonl.truth.json"]
    truth = json.loads((tmp_path / "a.jsonl.truth.json").read_text(encoding="utf-8"))
    assert truth["rows"] == 300 and truth["header_locale"] == "fr" and truth["seed"] == 9
    assert "horodatage" in truth["columns"]
    bad = CliRunner().invoke(main, ["synth", "nope", "--rows", "1", "-o", str(out)])
    assert bad.exit_code == 2


def test_cp1252_writer_handles_characters_beyond_latin1():
    import io

    from synthetic.writer import DumpWriter

    frame = pl.DataFrame({"a": ["Cœur", "é"], "b": ["12 €", "µg"]})
    for values, expected in ((frame, "Cœur;12 €\r\né;µg\r\n"), (frame.slice(1), "é;µg\r\n")):
        out = io.BytesIO()
        writer = DumpWriter(
            out,
            fmt="csv",
            encoding="cp1252",
            delimiter=";",
            line_terminator="\r\n",
            headers=["A", "B"],
        )
        writer.write_chunk(values)
        assert out.getvalue() == expected.encode("cp1252")


@pytest.mark.slow
def test_megabus_at_scale_stays_exact(tmp_path):
    path = tmp_path / "mb.csv"
    truth = synthetic.generate("megabus", 500_000, path, seed=8)
    frame = read_dump(path, truth).select("IPP", "NUM_SECU", "MAIL", "TEL_PORT")
    assert frame.height == 500_000
    assert frame["IPP"].n_unique() == truth["people"] == 200_000
    per_person = frame.unique()
    assert per_person["IPP"].n_unique() == per_person.height, "a person with two identities"
    nirs = per_person["NUM_SECU"].drop_nulls()
    assert nirs.n_unique() == nirs.len() == truth["people_by_category"]["national_id"]
    assert all(nir.is_valid(v) for v in nirs)


def test_same_bytes_across_processes(tmp_path):
    """No hash randomisation or process state leaks into the output."""
    import os
    import subprocess
    import sys

    digests = set()
    for hash_seed in ("1", "2"):
        out = tmp_path / f"mb{hash_seed}.csv"
        call = f"generate('megabus', 400, {str(out)!r}, seed=6, messy=True)"
        code = f"from synthetic import generate; {call}"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run(
            [sys.executable, "-c", code], check=True, env=env, cwd=Path(__file__).parent.parent
        )
        digests.add(hashlib.sha256(out.read_bytes()).hexdigest())
    assert len(digests) == 1


def test_categories_match_the_taxonomy():
    from triage.resources import categories

    taxonomy = set(categories()["categories"])
    for name in SCENARIOS:
        used = {c["category"] for c in synthetic.load(name)["columns"] if c.get("category")}
        assert used <= taxonomy, name


def test_no_event_before_birth(dumps):
    frame, _, _ = dumps["megabus"]
    born = frame["DT_NAISS"].str.to_date("%d/%m/%Y")
    visited = frame["DATE_PRELEVEMENT"].str.to_date("%d/%m/%Y")
    assert (visited >= born).all()
    ages = frame["AGE"].cast(pl.Int64)
    assert ages.min() >= 0 and ages.max() <= 96
