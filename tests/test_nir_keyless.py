"""Keyless NIRs (the 13 characters without the 2-digit key, as some lab exports store
them): detected as ``national_id``/``fr_nir`` under a header only, completed with their
computed key before hashing, so that a victim looking up the full 15-character NIR
finds themself, and never written out in plaintext."""

from __future__ import annotations

import base64
import datetime as dt
import json
import random
from pathlib import Path

import polars as pl
import pytest
from stdnum.fr import nir
from stdnum.ro import cnp

from tests.conftest import keyed_scan, triage_in
from triage.detect import TableDetector
from triage.detect.headers import lexicon_keys
from triage.detect.registry import detector, detectors
from triage.identity.canonical import FORMS, Canonicaliser
from triage.identity.collector import IdentifierPlan, IdentityCollector
from triage.identity.completion import complete
from triage.identity.digest import KeyedHasher, hmac_prefix
from triage.identity.keys import PURPOSE_IDENTIFIERS, HmacKey
from triage.native import native_kernel
from triage.profile import TableProfile
from triage.scan import identity_plan

ROWS = 300
KEY = HmacKey(bytes(range(32)))
#: The canary audit's NIR: its 13 characters, and its key (97 - 2840575123456 % 97).
CANARY_13, CANARY_KEY = "2840575123456", "72"


def _full(first13: str) -> str:
    """The 15-character NIR: python-stdnum's key, the reference this code must agree with."""
    return first13 + nir.calc_check_digits(first13.upper())


def _nir13(rng: random.Random) -> str:
    """A keyless NIR of someone born 1935-2015, in mainland France, Corsica, overseas
    or abroad."""
    year = rng.randint(1935, 2015)
    place = rng.choice(["56", "27", "45", "22", "41", "75", "2A", "2B", "971", "974", "99"])
    commune = f"{rng.randint(1, 90):02d}" if len(place) == 3 else f"{rng.randint(1, 989):03d}"
    return (f"{rng.choice('12')}{year % 100:02d}{rng.randint(1, 12):02d}{place}{commune}"
            f"{rng.randint(1, 999):03d}")


def _nirs(n: int = ROWS, seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    return [_nir13(rng) for _ in range(n)]


def _cnps(n: int = ROWS, seed: int = 5) -> list[str]:
    """Romanian CNPs of people born 1935-1999: sex digit 1/2, YYMMDD, county, serial, check."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        born = dt.date(1935, 1, 1) + dt.timedelta(days=rng.randint(0, 64 * 365))
        payload = f"{rng.choice('12')}{born:%y%m%d}{rng.randint(1, 46):02d}{rng.randint(1, 999):03d}"
        out.append(payload + cnp.calc_check_digit(payload))
    return out


def _verdicts(frame: pl.DataFrame) -> dict[str, tuple[str | None, str | None, str | None]]:
    table = TableDetector()
    table.update(frame)
    return {f.name: (f.category, f.subtype, f.detector) for f in table.finish()}


KEYLESS = ("national_id", "fr_nir", "fr_nir_keyless")

# -- detection ---------------------------------------------------------------------------


def test_further_header_keys_are_lexicon_keys() -> None:
    keyless = detector("fr_nir_keyless")
    assert keyless.more_headers and set(keyless.more_headers) <= lexicon_keys()
    assert all(set(d.more_headers) <= lexicon_keys() for d in detectors())


@pytest.mark.parametrize("header", [
    # French
    "NIR", "num_secu", "N° Sécu", "numero_securite_sociale", "Numéro INSEE", "nir_patient",
    # English
    "French SSN", "social_security_number", "SSN", "national_id", "Patient NIR",
])
def test_a_keyless_nir_column_is_an_fr_nir_under_its_header(header: str) -> None:
    values = _nirs()
    table = TableDetector()
    table.update(pl.DataFrame({header: values}))
    (finding,) = table.finish()
    assert (finding.category, finding.subtype, finding.detector) == KEYLESS
    evidence = finding.evidence["values"]
    assert evidence["nir_key"] == "absent"
    assert evidence["valid_share"] >= 0.9 and evidence["plausibility"] == 1.0
    # Shares and counts only: no value, whole or keyed, in the finding.
    text = json.dumps(finding.to_dict())
    assert not any(v in text or _full(v) in text for v in values)


def test_keyless_nirs_with_separators_and_lower_case_corsica_are_found() -> None:
    rng = random.Random(8)
    values = []
    for _ in range(ROWS):
        v = _nir13(rng).lower()
        values.append(f"{v[0]} {v[1:3]} {v[3:5]} {v[5:7]} {v[7:10]} {v[10:]}" if rng.random() < .5
                      else v)
    assert _verdicts(pl.DataFrame({"no_secu": values}))["no_secu"] == KEYLESS


def test_cnps_and_13_digit_record_numbers_are_not_keyless_nirs() -> None:
    """Values alone never make a keyless NIR, and under the same headers a keyless NIR
    column has, Romanian CNPs (13 digits, birth-coded: most have the NIR's structure)
    stay CNPs and random 13-digit record numbers stay what they were."""
    rng = random.Random(9)
    nirs, cnps = _nirs(), _cnps()
    records = [str(rng.randint(10 ** 12, 10 ** 13 - 1)) for _ in range(ROWS)]
    shaped = pl.DataFrame({"v": cnps}).select(detector("fr_nir_keyless").prefilter(pl.col("v")))
    assert shaped.to_series().mean() > 0.9  # the CNP check is what tells them apart
    verdicts = _verdicts(pl.DataFrame({
        "num_secu": nirs, "col_3": nirs,
        "CNP": cnps, "national_id": cnps, "ssn": cnps, "col_4": cnps,
        "NIR": records, "num_dossier": records, "numero_identite": records, "col_5": records,
    }))
    assert verdicts["num_secu"] == KEYLESS
    assert verdicts["col_3"][1] != "fr_nir"  # no header: 13 digits are not enough
    for name in ("CNP", "national_id", "ssn", "col_4"):
        assert verdicts[name][:2] == ("national_id", "ro_cnp"), name
    for name in ("NIR", "num_dossier", "numero_identite", "col_5"):
        assert verdicts[name][1] != "fr_nir", (name, verdicts[name])
    assert verdicts["num_dossier"][0] == "record_id"


@pytest.mark.parametrize("header", ["NIR", "num_secu", "SSN", "national_id", "col_9", "id"])
def test_full_nirs_keep_their_verdict_and_plan(header: str) -> None:
    values = [_full(v) for v in _nirs()]
    table = TableDetector()
    table.update(pl.DataFrame({header: values}))
    (finding,) = table.finish()
    assert (finding.category, finding.subtype, finding.detector) == (
        "national_id", "fr_nir", "fr_nir")
    assert "nir_key" not in finding.evidence["values"]
    plan, _, _ = identity_plan({header: finding}, TableProfile())
    assert plan[header] == IdentifierPlan("national_id", ("national_id",))
    assert plan[header].completion is None


def test_a_keyless_verdict_plans_the_key_completion() -> None:
    table = TableDetector()
    table.update(pl.DataFrame({"NIR": _nirs()}))
    findings = {f.name: f for f in table.finish()}
    plan, exposures, _ = identity_plan(findings, TableProfile())
    assert plan["NIR"] == IdentifierPlan("national_id", ("national_id",),
                                         completion="fr_nir_key")
    assert exposures == {"NIR": "national_id"}


# -- completion and digests --------------------------------------------------------------


def test_completion_appends_the_key_stdnum_computes() -> None:
    keyless = [*_nirs(2000, seed=4), "185052A012345", "285052B012345", "1850578006084"]
    full = [_full(v) for v in keyless]
    assert complete("fr_nir_key", pl.Series(keyless)).to_list() == full
    assert all(nir.is_valid(v) for v in full)
    # Corsica: 2A is read as 19 and 2B as 18 before the modulo, whatever the case.
    corsica = complete("fr_nir_key", pl.Series(["185052A012345", "185052b012345"])).to_list()
    assert corsica == ["185052A012345" + f"{97 - 1850519012345 % 97:02d}",
                       "185052B012345" + f"{97 - 1850518012345 % 97:02d}"]
    assert complete("fr_nir_key", pl.Series([CANARY_13])).item() == CANARY_13 + CANARY_KEY


def test_completion_leaves_full_nirs_and_other_values_alone() -> None:
    values = [_full(CANARY_13), "2 84 05 75 123 456 72", "12345", "", None, "abc", "185057800608",
              "38505780060843", "2840575123456 "]
    out = complete("fr_nir_key", pl.Series("nir", values))
    assert out.name == "nir"
    assert out.to_list()[:-1] == values[:-1]
    assert out.to_list()[-1] == CANARY_13 + CANARY_KEY  # trimmed, as the canonical form trims


def test_completions_fast_path_agrees_with_its_string_expression() -> None:
    """Bare digits take integer arithmetic, the rest a string expression: both the same."""
    from triage.identity.completion import _fr_nir_key_expr
    rng = random.Random(14)
    values = []
    for _ in range(3000):
        v = _nir13(rng)
        values.append(rng.choice([
            v, v.lower(), _full(v), f" {v}\t", f"{v[:5]}-{v[5:]}", v[:12], v + "9",
            str(rng.randint(0, 10 ** rng.randint(11, 16))), "", f"{v[:7]}.{v[7:]}:",
        ]))
    values.append(None)
    series = pl.Series(values, dtype=pl.String)
    by_expression = pl.DataFrame({"v": series}).select(_fr_nir_key_expr())["v"]
    assert complete("fr_nir_key", series).to_list() == by_expression.to_list()


@pytest.mark.parametrize("implementation", ["native", "python"])
def test_keyless_values_hash_to_the_full_nirs_digest(implementation: str) -> None:
    if implementation == "native" and native_kernel() is None:
        pytest.skip("no C compiler here")
    keyless = [*_nirs(200, seed=6), "185052A012345", "2 85 05 2b 012 345", CANARY_13]
    full = [_full(v.replace(" ", "").upper()) for v in keyless]
    written = keyless + [full[0], "2 84 05 75 123 456 72"]  # full NIRs may sit beside
    expected = full + [full[0], CANARY_13 + CANARY_KEY]
    collector = IdentityCollector(KEY, {"nir": IdentifierPlan(
        "national_id", ("national_id",), completion="fr_nir_key")})
    hasher = KeyedHasher(KEY.subkey(PURPOSE_IDENTIFIERS), native=implementation == "native")
    collector._hasher = hasher
    tuples = collector.tuples_of(pl.DataFrame({"nir": written}))
    assert tuples is not None
    # The digests of the full NIRs as a lookup makes them (one value at a time).
    prefix = hmac_prefix("national_id", FORMS["national_id"])
    digests = [hasher.digest_one(prefix, Canonicaliser("national_id").one(v)) for v in expected]
    assert tuples["nir\0hi"].to_list() == [int.from_bytes(d[:8], "big") for d in digests]
    assert tuples["nir\0lo"].to_list() == [int.from_bytes(d[8:16], "big") for d in digests]
    # Without the completion, the 13 characters hash to another digest: the silent miss.
    bare = IdentityCollector(KEY, {"nir": IdentifierPlan("national_id", ("national_id",))})
    bare._hasher = hasher
    plain = bare.tuples_of(pl.DataFrame({"nir": written}))
    assert plain is not None
    assert plain["nir\0hi"][0] != tuples["nir\0hi"][0]


def test_a_plan_with_a_completion_travels() -> None:
    import pickle
    plan = IdentifierPlan("national_id", ("national_id",), completion="fr_nir_key")
    assert pickle.loads(pickle.dumps(plan)) == plan
    with pytest.raises(ValueError, match="completion"):
        IdentifierPlan("national_id", ("national_id",), completion="no_such_thing")


# -- end to end --------------------------------------------------------------------------


def _lab_export(path: Path, rows: int = 600, seed: int = 12) -> list[str]:
    """A Mega-Bus-like export: ``;``-separated, latin-1, the NIR without its key; each
    person visits twice. Returns the people's keyless NIRs (the canary's and two
    Corsicans' among them)."""
    rng = random.Random(seed)
    people = list(dict.fromkeys([CANARY_13, "185052A012345", "292032B045012",
                                 *(_nir13(rng) for _ in range(rows // 2 - 3))]))
    lines = ["N° dossier;N° Sécu;Laboratoire;Date prélèvement;Commentaire"]
    for visit in range(2):
        for i, person in enumerate(people):
            lines.append(f"D{visit}{i:06d};{person};Biomed Vannes;"
                         f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/2019;"
                         f"{'Enceinte' if i % 2 else 'Diabétique'}, à jeun depuis {i % 12} h")
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("latin-1"))
    return people


def _found(tmp_path: Path, index: Path, key: Path, national_id: str) -> bool:
    result = triage_in(tmp_path, "lookup", str(index), "--key", str(key), "--national-id",
                     national_id, "--json")
    return json.loads(result.stdout)["found"]


def test_scan_indexes_keyless_nirs_under_the_full_nir_and_writes_none(tmp_path: Path) -> None:
    dump = tmp_path / "megabus_export.csv"
    people = _lab_export(dump)
    out, key, scanned = keyed_scan(tmp_path, dump, "lab")
    findings = json.loads((out / "findings.json").read_text())
    nir_column = next(c for c in findings["columns"] if c["name"] == "N° Sécu")
    assert (nir_column["category"], nir_column["subtype"], nir_column["detector"]) == KEYLESS
    assert nir_column["evidence"]["values"]["nir_key"] == "absent"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["people"]["distinct"] == len(people)

    index = out / "index"
    corsicans = people[1:3]
    assert [p[5:7] for p in corsicans] == ["2A", "2B"]
    for person in [CANARY_13, *corsicans, *people[10:13]]:
        full = _full(person)
        assert _found(tmp_path, index, key, full), "a victim's full NIR is not found"
        spaced = f"{full[0]} {full[1:3]} {full[3:5]} {full[5:7]} {full[7:10]} {full[10:13]} "
        assert _found(tmp_path, index, key, spaced + full[13:])
    assert _full(CANARY_13).endswith(CANARY_KEY)
    # A wrong key, a stranger's NIR, and the 13 characters themselves: not in the index.
    assert not _found(tmp_path, index, key, CANARY_13 + "73")
    stranger = _full("1770133123999")
    assert stranger[:13] not in people
    assert not _found(tmp_path, index, key, stranger)
    assert not _found(tmp_path, index, key, CANARY_13)

    # No NIR, keyless or full, in any byte the scan wrote or printed.
    planted = {form for person in people for form in (person, _full(person))}
    texts = [scanned.stdout, scanned.stderr]
    texts += [p.read_bytes() for p in out.rglob("*") if p.is_file()]
    texts += [p.read_bytes() for p in tmp_path.rglob("*")
              if p.is_file() and p.suffix != ".key" and p != dump and out not in p.parents]
    for blob in texts:
        text = blob.decode("latin-1")
        leaked = [form for form in planted if form in text or form.lower() in text]
        assert not leaked, f"{len(leaked)} NIRs in plaintext"
    assert "2 84 05 75 123 456" not in "".join(b.decode("latin-1") for b in texts)


def test_a_cluster_scan_indexes_keyless_nirs_as_one_pass_does(tmp_path: Path,
                                                               monkeypatch) -> None:
    pytest.importorskip("distributed")
    from test_cluster import same_as_one_pass

    from triage.cluster import connect
    from triage.identity import index
    from triage.identity.keys import KEY_ENV
    from triage.scan import scan

    monkeypatch.setattr(index, "PARTITION_ROWS", 256)  # several partitions, both workers
    dump = tmp_path / "megabus_export.csv"
    people = _lab_export(dump, rows=6000, seed=13)
    one = scan([str(dump)], key=KEY)
    assert one.scans and all(
        (f.category, f.subtype, f.detector) == KEYLESS
        for state in one.scans.values() for f in state.findings if f.name == "N° Sécu")
    secret = base64.b64encode(bytes(range(32))).decode()
    with connect("local:2", worker_env={KEY_ENV: secret}) as client:
        job = same_as_one_pass(client, tmp_path, [dump])
    assert len(job.inputs[0].parts) >= 3
    assert job.inputs[0].plan is not None
    assert job.inputs[0].plan.identifiers["N° Sécu"].completion == "fr_nir_key"
    # The index the workers wrote answers a victim's full NIR (and not its 13 characters).
    from triage.identity.lookup import LookupIndex
    written = LookupIndex(str(tmp_path / "cluster"), KEY)
    for person in people[:3]:
        assert written.lookup("national_id", _full(person))["found"] is True
        assert written.lookup("national_id", person)["found"] is False
