"""Addresses and numbers written as mail headers and links write them:
``"Dupont, Jean" <jean@x.fr>``, ``mailto:jean@x.fr``, ``tel:+33612345678``, an
extension. Detection reads them, and the index holds the digest of the bare address
or number a victim looks up."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import keyed_scan, triage_in
from triage.detect import TableDetector
from triage.detect.detectors.phone import phone_valid
from triage.identity.collector import IdentifierPlan
from triage.identity.completion import complete

N = 300


def _written(i: int) -> dict[str, str]:
    address = f"jean.dupont{i}@orange.fr"
    number = f"06 12 {i // 100 + 10:02d} {i % 100:02d} {i % 90 + 10:02d}"
    forms = [f'"Dupont{i}, Jean" <{address}>', f"mailto:{address}?subject=RDV",
             f"<{address.upper()}>", f"Jean Dupont{i} <mailto:{address}>", address]
    phones = [f"tel:+33-{number[1:].replace(' ', '-')}", f"{number} ext. {i % 40}",
              f"{number};ext=5", f"{number} x12", number]
    return {"contact": forms[i % 5], "telephone": phones[i % 5], "bare_mail": address,
            "bare_tel": number}


def _frame(n: int = N) -> pl.DataFrame:
    return pl.DataFrame([_written(i) for i in range(n)])


def test_written_addresses_and_numbers_are_detected_without_a_header() -> None:
    frame = _frame().select(pl.col("contact").alias("C1"), pl.col("telephone").alias("C2"))
    detector = TableDetector()
    detector.update(frame)
    found = {f.name: (f.category, f.confidence) for f in detector.finish()}
    assert found["C1"][0] == "email" and found["C1"][1] > 0.9
    assert found["C2"][0] == "phone" and found["C2"][1] > 0.9


@pytest.mark.parametrize("written, bare", [
    ("tel:+33-6-12-34-56-78", "0612345678"), ("06 12 34 56 78 ext. 12", "0612345678"),
    ("+33 6 12 34 56 78;ext=4", "0612345678"), ("06 12 34 56 78 x12", "0612345678")])
def test_a_written_number_is_valid_as_its_number_is(written: str, bare: str) -> None:
    assert phone_valid(written) and phone_valid(bare)
    # The extension's digits are not read as part of the number, which they would spoil.
    assert phone_valid("+33 6 12 34 56 78 x12") and not phone_valid("+3361234567812")


def test_an_email_column_is_completed_to_its_addresses() -> None:
    plan = IdentifierPlan.single("email", "email")
    assert plan.completion == "email_address"
    values = pl.Series(["mailto:Jean@X.fr?subject=a b", '"Dupont, Jean" <jean@x.fr>',
                        "Jean <mailto:jean@x.fr>", "jean@x.fr", None, "not <an address"])
    assert complete(plan.completion, values).to_list() == [
        "Jean@X.fr", "jean@x.fr", "jean@x.fr", "jean@x.fr", None, "not <an address"]


def test_scan_indexes_the_bare_address_and_number_and_writes_neither(tmp_path: Path) -> None:
    dump = tmp_path / "mailbox.csv"
    frame = _frame().select("contact", "telephone")
    frame.write_csv(dump, separator=";")
    out, key, scanned = keyed_scan(tmp_path, dump, "mails")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["people"]["distinct"] == N

    def found(*query: str) -> bool:
        result = triage_in(tmp_path, "lookup", str(out / "index"), "--key", str(key), *query,
                         "--json")
        return json.loads(result.stdout)["found"]

    for i in range(5):  # each written form once
        bare = _written(i)
        assert found("--email", bare["bare_mail"]), frame["contact"][i]
        assert found("--phone", bare["bare_tel"]), frame["telephone"][i]
    assert not found("--email", "jean.dupont9999@orange.fr")

    texts = [scanned.stdout, scanned.stderr] + [p.read_bytes() for p in out.rglob("*")
                                                 if p.is_file()]
    planted = [_written(i)["bare_mail"] for i in range(N)]
    for blob in texts:
        text = blob.decode("latin-1").lower()
        assert not [address for address in planted if address in text]
