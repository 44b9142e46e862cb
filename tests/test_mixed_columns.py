"""A column that holds e-mail addresses on some rows and phone numbers on others.

Sign-up forms that take either write one ``contact`` column. Detection gives it the
larger part's category and lists the other (``mixed_with``); the scan hashes each row
as its own kind, so both are in the index, each person's categories are their own
rows', and the summary counts each part's rows.
"""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from pathlib import Path

import jsonschema
import polars as pl
import pytest

from triage.detect import TableDetector, findings_document
from triage.detect.findings import ColumnFinding
from triage.identity.keys import HmacKey
from triage.identity.lookup import LookupIndex
from triage.profile import TableProfile
from triage.resources import load_schema
from triage.scan import (
    SourcePlan,
    SourceScan,
    confirmed_columns,
    scan,
    summary_facts,
    write_index,
)

KEY = HmacKey(bytes(range(32)))


def people(n: int, seed: int = 7) -> list[dict[str, str]]:
    rng = random.Random(seed)
    given = ["Jeanne", "Louis", "Camille", "Hugo", "Lea", "Arthur", "Manon", "Jules"]
    family = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand"]
    # Each person's own birth date: a name and a birth date link their rows.
    return [{"nom": rng.choice(family), "prenom": rng.choice(given),
             "naissance": (date(1930, 1, 1) + timedelta(days=9 * i)).strftime("%d/%m/%Y"),
             "email": f"{rng.choice(given).lower()}.{i}@exemple.fr",
             "phone": f"06 {i // 10000 % 100:02d} {i // 100 % 100:02d} {i % 100:02d} "
                      f"{rng.randint(10, 99)}"}
            for i in range(n)]


def detect(values: list[str], header: str) -> ColumnFinding:
    detector = TableDetector()
    detector.update(pl.DataFrame({header: values}))
    (finding,) = detector.finish()
    return finding


def mixed_values(n: int, email_share: float, seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    return [person["email"] if rng.random() < email_share else person["phone"]
            for person in people(n, seed)]


# -- detection ------------------------------------------------------------------


@pytest.mark.parametrize("header", ["contact", "Kontakt", "coordonnées", "C07"])
def test_a_contact_column_of_emails_and_phones_is_both(header):
    finding = detect(mixed_values(600, 0.55), header)
    assert finding.category == "email" and finding.mixed_with == ("phone",)
    assert finding.categories == ("email", "phone")
    values = finding.evidence["values"]
    assert 0.45 < values["email_share"] < 0.65 and 0.35 < values["phone_share"] < 0.55
    assert values["valid_share"] == pytest.approx(values["email_share"] + values["phone_share"],
                                                  abs=1e-3)
    assert finding.confidence >= 0.9
    assert finding.detector == "email+phone"


def test_the_larger_part_names_the_column():
    finding = detect(mixed_values(600, 0.25), "contact")
    assert finding.category == "phone" and finding.mixed_with == ("email",)


def test_an_email_header_over_a_quarter_of_phones_keeps_the_phones():
    finding = detect(mixed_values(600, 0.75), "email")
    assert finding.categories == ("email", "phone")


def test_one_kind_is_not_mixed():
    emails = detect(mixed_values(600, 1.0), "email")
    assert emails.category == "email" and emails.mixed_with == ()
    assert "mixed_with" not in emails.to_dict()
    # A few phones typed into an e-mail field are noise, not a kind of row.
    noisy = detect(mixed_values(600, 0.98), "email")
    assert noisy.category == "email" and noisy.mixed_with == ()


def test_a_minority_of_contacts_in_free_text_claims_nothing_without_a_header():
    rng = random.Random(5)
    contacts = mixed_values(600, 0.5)
    values = [value if rng.random() < 0.4 else f"rappeler lundi, dossier {i} incomplet"
              for i, value in enumerate(contacts)]
    finding = detect(values, "C12")
    assert finding.category is None


def test_the_findings_document_with_a_mixed_column_meets_its_schema():
    finding = detect(mixed_values(400, 0.5), "contact")
    document = findings_document("dump.csv", [finding], rows=400)
    jsonschema.validate(document, load_schema("findings.schema.json"))
    column = document["columns"][0]
    assert sorted([column["category"], *column["mixed_with"]]) == ["email", "phone"]


# -- the scan -------------------------------------------------------------------


@pytest.fixture(scope="module")
def leak(tmp_path_factory) -> tuple[Path, list[dict[str, str]], list[dict[str, str]]]:
    """A lab export whose ``contact`` holds an e-mail on about 60 % of rows, a phone on
    the others; each person has two to four rows, all with their name and birth date."""
    folder = tmp_path_factory.mktemp("mixed")
    everyone = people(1500)
    rng = random.Random(11)
    rows = []
    for person in everyone:
        for _ in range(rng.randint(2, 4)):
            contact = person["email"] if rng.random() < 0.6 else person["phone"]
            rows.append({"nom": person["nom"], "prenom": person["prenom"],
                         "date_naissance": person["naissance"], "contact": contact,
                         "resultat": f"{rng.uniform(3, 9):.1f}"})
    rng.shuffle(rows)
    path = folder / "export.csv"
    pl.DataFrame(rows).write_csv(path, separator=";")
    return path, everyone, rows


def test_each_row_is_hashed_indexed_and_counted_as_its_own_kind(leak, tmp_path):
    path, everyone, rows = leak
    result = scan([path], key=KEY)
    (state,) = result.scans.values()
    (finding,) = [f for f in state.findings if f.name == "contact"]
    assert finding.categories == ("email", "phone")
    facts = summary_facts(result, leak_id="mixed", leak_name="mixed")
    assert facts["people"]["distinct"] == len(everyone)
    emails = {row["contact"] for row in rows if "@" in row["contact"]}
    phones = {row["contact"] for row in rows if "@" not in row["contact"]}
    # Each person has one address and one number: people holding a kind = its values.
    by_kind = facts["people"]["by_identifier_kind"]
    assert by_kind["email"] == len(emails) and by_kind["phone"] == len(phones)
    categories = {c["id"]: c for c in facts["categories"]}
    email_rows = sum("@" in row["contact"] for row in rows)
    assert categories["email"]["rows"] == email_rows
    assert categories["phone"]["rows"] == len(rows) - email_rows
    assert categories["email"]["columns"] == categories["phone"]["columns"] == ["contact"]

    index = tmp_path / "index"
    write_index(result, index, leak_id="mixed", leak_name="mixed")
    lookup = LookupIndex(index, KEY)
    shown = {"email": {r["contact"] for r in rows if "@" in r["contact"]},
             "phone": {r["contact"] for r in rows if "@" not in r["contact"]}}
    checked = 0
    for person in everyone[:200]:
        has_email, has_phone = person["email"] in shown["email"], person["phone"] in shown["phone"]
        for kind, value, present in (("email", person["email"], has_email),
                                     ("phone", person["phone"], has_phone)):
            answer = lookup.lookup(kind, value)
            assert answer["found"] is present, (kind, checked)
            if present:
                exposed = set(answer["leaks"][0]["categories"])
                # A person's categories are those of their own rows.
                assert ("email" in exposed) is has_email and ("phone" in exposed) is has_phone
            checked += 1
    for file in [*index.rglob("*"), *tmp_path.rglob("*.json")]:
        if file.is_file():
            data = file.read_bytes()
            assert not any(value.encode() in data for value in shown["email"] | shown["phone"])


def test_a_plan_made_mixed_keeps_what_the_final_verdict_confirms():
    """The first batch's verdict planned the split; the whole file's verdict is plain
    e-mail: the e-mail rows' digests stay, the phone part goes."""
    sample = pl.DataFrame({"contact": mixed_values(400, 0.6)})
    detector = TableDetector()
    detector.update(sample)
    provisional = detector.provisional()
    assert provisional["contact"].categories == ("email", "phone")
    state = SourceScan(detector=detector)
    state.begin(SourcePlan.from_first_batch(provisional, TableProfile()), KEY, "FR")
    state.commit(state.prepare(sample))
    assert sum(state.part_rows.values()) == sample.height
    final = ColumnFinding("contact", "email", None, 0.9, False)
    confirmed = confirmed_columns([final], state.identity.column_categories)
    state.identity.restrict(set(confirmed), confirmed)
    kinds = state.identity.people()["by_identifier_kind"]
    assert set(kinds) == {"email"}
    assert kinds["email"]["identifiers"] == sum("@" in v for v in sample["contact"])


@pytest.mark.parametrize("first", ["email", "phone"])
def test_a_plan_made_plain_keeps_its_column_and_kind_when_the_verdict_turns_mixed(first):
    """The first batch showed one kind; the whole file's verdict is mixed, its larger
    part maybe the other kind. The column keeps the kind it was hashed as: relabelled
    to the larger part, phone digests were indexed as e-mail exposures."""
    batch = pl.DataFrame({"contact": mixed_values(400, 1.0 if first == "email" else 0.0)})
    detector = TableDetector()
    detector.update(batch)
    provisional = detector.provisional()
    assert provisional["contact"].category == first and provisional["contact"].mixed_with == ()
    state = SourceScan(detector=detector)
    state.begin(SourcePlan.from_first_batch(provisional, TableProfile()), KEY, "FR")
    state.commit(state.prepare(batch))
    other = "phone" if first == "email" else "email"
    final = ColumnFinding("contact", other, None, 0.9, False, mixed_with=(first,))
    confirmed = confirmed_columns([final], state.identity.column_categories)
    assert confirmed["contact"] == first
    state.identity.restrict(set(confirmed), confirmed)
    people = state.identity.people()
    assert people["by_identifier_kind"][first]["identifiers"] == 400
    resolved = state.identity._resolve()
    assert resolved.by_category == {first: people["distinct"]}


def test_rows_that_are_neither_kind_are_in_no_part(tmp_path):
    """Placeholders and notes in a contact column are neither phones nor addresses:
    they are not counted as phone rows, and nobody's categories gain a phone for them."""
    rng = random.Random(4)
    everyone = people(300)
    rows = []
    for person in everyone:
        contact = rng.choice([person["email"], person["phone"], "N/A", "-", "inconnu"])
        rows.append({"nom": person["nom"], "prenom": person["prenom"],
                     "date_naissance": person["naissance"], "contact": contact})
    path = tmp_path / "contacts.csv"
    pl.DataFrame(rows).write_csv(path, separator=";")
    result = scan([path], key=KEY)
    (state,) = result.scans.values()
    (finding,) = [f for f in state.findings if f.name == "contact"]
    assert set(finding.categories) == {"email", "phone"}
    facts = summary_facts(result, leak_id="l", leak_name="l")
    categories = {c["id"]: c for c in facts["categories"]}
    assert categories["email"]["rows"] == sum("@" in r["contact"] for r in rows)
    assert categories["phone"]["rows"] == sum(r["contact"].startswith("06") for r in rows)
    assert categories["phone"]["people"] == categories["phone"]["rows"]


@pytest.mark.parametrize("header", ["email", "login", "C03", "order_no"])
def test_numbers_that_are_phones_only_if_a_header_says_so_make_no_mixture(header):
    """Bare ten-digit numbers (customer or member numbers) beside e-mail addresses:
    only a phone or contact header makes them phones."""
    rng = random.Random(8)
    values = [f"client.{i}@exemple.fr" if rng.random() < 0.8 else f"{rng.randint(1, 9)}"
              f"{rng.randrange(10 ** 9):09d}" for i in range(600)]
    finding = detect(values, header)
    assert finding.mixed_with == ()
    assert detect(values, "contact").categories[1:] == ("phone",)


def test_the_detect_command_shows_both_parts(leak):
    from click.testing import CliRunner

    from triage.cli import main

    path, _, _ = leak
    result = CliRunner().invoke(main, ["detect", str(path)])
    assert result.exit_code == 0
    (line,) = [line for line in result.output.splitlines() if line.startswith("contact ")]
    assert "email+phone" in line and "% email / " in line and "% phone" in line
    document = json.loads(CliRunner().invoke(main, ["detect", str(path), "--json"]).output)
    (column,) = [c for c in document["columns"] if c["name"] == "contact"]
    assert column["category"] == "email" and column["mixed_with"] == ["phone"]
