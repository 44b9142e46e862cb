"""Detection by context: what a column's neighbours say when its own values cannot.

An insurer's member number has the shape of a record key, a NABM act code is four
bare digits, and a US ZIP code that no longer repeats in the sample is five: without
headers only the table around them types them (triage/detect/context.py). These tests build small tables shaped like real
exports (one row per lab visit, people coming back) and check both the claims and
the look-alikes that must not be claimed.
"""

from __future__ import annotations

import json
import random

import jsonschema
import polars as pl

from triage.detect import TableDetector, findings_document
from triage.detect.context import TableContext
from triage.detect.findings import ColumnFinding
from triage.resources import load_schema

LASTS = ["Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois",
         "Moreau", "Laurent", "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David"]
ICD10 = ["E11", "I10", "J45", "F32", "O80", "B20", "H91", "C50", "K21", "M54"]
#: (analysis code, NABM act code, tariff): lab software codes with their acts.
ANALYSES = [("GLY", "0552", "300"), ("HBA1C", "1577", "1100"), ("NFS", "1104", "800"),
            ("PLQ", "1104", "800"), ("CRP", "1804", "500"), ("TSH", "1208", "1400"),
            ("FERR", "1617", "1200"), ("VITD", "1139", "2000"), ("INR", "0126", "400"),
            ("PSA", "7318", "1600"), ("ASAT", "0516", "200"), ("ALAT", "0522", "200"),
            ("GGT", "0519", "200"), ("K", "1610", "600")]


def _nir(rng: random.Random) -> str:
    body = f"{rng.choice('12')}{rng.randint(40, 99):02d}{rng.randint(1, 12):02d}" \
           f"{rng.randint(1, 95):02d}{rng.randint(1, 999):03d}{rng.randint(1, 999):03d}"
    return body + f"{97 - int(body) % 97:02d}"


def _visits(people: int, visits: int, *, seed: int = 3, health: bool = True,
            member_missing: float = 0.2) -> pl.DataFrame:
    """A lab export: one row per visit, each person coming ``visits`` times."""
    rng = random.Random(seed)
    persons = []
    for _ in range(people):
        persons.append({
            "patient": f"{rng.randint(10 ** 7, 10 ** 8 - 1)}",
            "nir": _nir(rng),
            "born": f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1930, 2015)}",
            "last": rng.choice(LASTS),
            "member": "" if rng.random() < member_missing
            else f"MU{rng.randint(10 ** 8, 10 ** 9 - 1)}",
            "doctor": f"MED{rng.randint(0, 11):06d}",  # the treating doctor's code
        })
    rows = [p for p in persons for _ in range(visits)]
    rng.shuffle(rows)
    frame = {
        "C1": [p["patient"] for p in rows],  # the table's own keys lead it
        "C2": [f"D{rng.randint(10 ** 9, 10 ** 10 - 1)}" for _ in rows],
        "C3": [p["last"] for p in rows],
        "C4": [p["born"] for p in rows],
        "C5": [p["nir"] for p in rows],
        "C6": [p["member"] for p in rows],
        "C7": [p["doctor"] for p in rows],
        "C8": [f"F{rng.randint(10 ** 8, 10 ** 9 - 1)}" for _ in rows],  # invoice, per visit
    }
    if health:
        frame["C9"] = [rng.choice(ICD10) for _ in rows]
    return pl.DataFrame(frame)


def _judge(frame: pl.DataFrame, batch: int = 200) -> dict[str, ColumnFinding]:
    det = TableDetector()
    for start in range(0, frame.height, batch):
        det.update(frame.slice(start, batch))
    return {f.name: f for f in det.finish()}


def test_member_number_follows_the_person_and_the_keys_stay_keys() -> None:
    found = _judge(_visits(150, 4))
    assert found["C9"].category == "diagnosis"
    assert found["C6"].category == "health_insurance_id"
    assert found["C6"].special_category is True
    values = found["C6"].evidence["values"]
    assert values["context"] == "follows_the_person"
    assert values["context_share"] >= 0.9 and values["context_groups"] >= 5
    assert found["C6"].evidence["alternatives"][0]["category"] == "record_id"
    # The leading keys (a person's, a visit's), the per-visit invoice number and the
    # doctor's code shared by many patients are no member numbers.
    assert found["C1"].category == found["C2"].category == "record_id"
    assert found["C8"].category == "record_id"
    assert found["C7"].category != "health_insurance_id"


def test_without_health_data_a_person_number_stays_a_record_key() -> None:
    found = _judge(_visits(150, 4, health=False))
    assert found["C6"].category == "record_id"


def test_a_number_of_the_visit_is_not_one_of_the_person() -> None:
    # Two rows per visit (two analyses), several visits per person: the invoice number
    # repeats and points to one person, but changes between a person's visits.
    rng = random.Random(9)
    frame = _visits(120, 3, member_missing=0.0)
    frame = pl.concat([frame, frame]).sample(fraction=1.0, shuffle=True, seed=rng.randint(0, 99))
    found = _judge(frame)
    assert found["C8"].category == "record_id"
    assert found["C6"].category == "health_insurance_id"


def test_in_a_large_file_an_often_empty_key_beside_health_data_is_a_member_number() -> None:
    # People do not come back in the sample (one row each here): only what a key never
    # is, often empty, tells the member number apart, at a modest confidence.
    found = _judge(_visits(600, 1))
    assert found["C6"].category == "health_insurance_id"
    assert found["C6"].evidence["values"]["context"] == "optional_beside_person_data"
    assert found["C6"].confidence < 0.7
    assert found["C8"].category == "record_id"  # always filled: a key
    full = _judge(_visits(600, 1, member_missing=0.0))
    assert full["C6"].category == "record_id"


def _lab(rows: int, seed: int = 5) -> pl.DataFrame:
    rng = random.Random(seed)
    picked = [rng.choice(ANALYSES) for _ in range(rows)]
    return pl.DataFrame({
        "C1": [f"E{rng.randint(10 ** 8, 10 ** 9 - 1)}" for _ in picked],
        "C2": [code for code, _, _ in picked],
        "C3": [nabm for _, nabm, _ in picked],
        "C4": [tariff.rjust(4, "0") for _, _, tariff in picked],  # round amounts
        "C5": [f"{rng.randint(0, 9999):04d}" for _ in picked],  # any 4 digits
        "C6": [f"{rng.randint(1950, 2023)}" for _ in picked],  # years
    })


def test_nabm_codes_are_typed_by_the_analysis_beside_them() -> None:
    found = _judge(_lab(400))
    assert found["C2"].category == "medical_procedure"
    assert found["C3"].category == "medical_procedure"
    assert found["C3"].evidence["values"]["context"] == "codes_the_procedure"
    assert found["C3"].special_category is True
    assert found["C4"].category is None  # a tariff the act determines: round amounts
    assert found["C5"].category is None
    assert found["C6"].category is None
    without = _judge(_lab(400).drop("C2"))
    assert without["C3"].category is None  # nothing to code: only a header types them


#: A few states with the first digit of their ZIP codes (USPS national areas); none in
#: New England, whose leading zeros would tell ZIP codes by their values alone.
STATES = {"PA": "1", "NC": "2", "FL": "3", "OH": "4", "MN": "5", "IL": "6",
          "TX": "7", "AZ": "8", "CA": "9"}


def _us_addresses(rows: int, seed: int = 8) -> pl.DataFrame:
    rng = random.Random(seed)
    states = [rng.choice(sorted(STATES)) for _ in range(rows)]
    return pl.DataFrame({
        "C1": [f"MRN{rng.randint(10 ** 7, 10 ** 8 - 1)}" for _ in states],
        "C2": [f"{STATES[s]}{rng.randint(1000, 9999)}" for s in states],  # no two alike
        "C3": states,
        "C4": [f"{rng.randint(10000, 99999)}" for _ in states],  # any five digits
    })


def test_zip_codes_agree_with_the_state_beside_them() -> None:
    found = _judge(_us_addresses(600))
    assert found["C2"].category == "postcode"
    assert found["C2"].evidence["values"]["context"] == "zip_matches_state"
    assert found["C4"].category is None  # agrees about one time in ten
    alone = _judge(_us_addresses(600).drop("C3"))
    assert alone["C2"].category is None  # unique, no leading zero: nothing to tell by


def test_context_claims_hold_no_values_and_fit_the_findings_schema() -> None:
    frame = _visits(150, 4)
    det = TableDetector()
    det.update(frame)
    document = findings_document("dump.csv", det.finish(), rows=det.rows)
    jsonschema.validate(document, load_schema("findings.schema.json"))
    text = json.dumps(document)
    for column in ("C1", "C5", "C6"):
        for value in frame[column].unique().to_list():
            if value:
                assert value not in text


def test_provisional_and_final_agree_on_context_claims() -> None:
    frame = _visits(150, 4)
    det = TableDetector()
    det.update(frame.head(300))
    provisional = det.provisional()
    det.update(frame.slice(300))
    final = {f.name: f.category for f in det.finish()}
    assert provisional["C6"].category == final["C6"] == "health_insurance_id"


def test_dependencies_need_repeated_values() -> None:
    frame = pl.DataFrame({"a": ["1", "1", "2", "2", "3", "3", "4", "4", "5", "5", "6"],
                          "b": ["x", "x", "y", "y", "z", "z", "x", "x", "y", "w", ""]})
    findings = [ColumnFinding(name, None, None, 0.0, False) for name in frame.columns]
    context = TableContext(frame, findings)
    a_b = context.dependency("a", "b")
    assert (a_b.groups, round(a_b.share, 2)) == (5, 0.8)
    assert a_b.holds
    assert not context.dependency("b", "a").holds  # x, y, z: three groups only
    assert context.filled_share("b") == 10 / 11


def test_dependencies_match_a_plain_group_by() -> None:
    rng = random.Random(2)
    for _ in range(30):
        rows = rng.randint(0, 60)
        a = [rng.choice(["", " ", "1", "2", "3", "4", " 4", "5"]) for _ in range(rows)]
        b = [rng.choice(["", "x", "y", "x "]) for _ in range(rows)]
        frame = pl.DataFrame({"a": a, "b": b}, schema={"a": pl.String, "b": pl.String})
        context = TableContext(frame, [ColumnFinding(n, None, None, 0.0, False)
                                       for n in frame.columns])
        stripped = frame.select(pl.all().str.strip_chars().replace("", None)).drop_nulls()
        groups = stripped.group_by("a").agg(pl.len(), pl.col("b").n_unique()).filter(
            pl.col("len") >= 2)
        share = float((groups["b"] == 1).mean()) if groups.height else 0.0
        found = context.dependency("a", "b")
        assert (found.groups, round(found.share, 9)) == (groups.height, round(share, 9))
