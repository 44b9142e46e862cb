"""ENISA severity (SE = DPC × EI + CB) on the incidents triage is built for; notification hints."""

from __future__ import annotations

import pytest

from triage.report.notify import notification_hints
from triage.report.severity import assess_severity, severity_level


def _categories(*ids: str, special: tuple[str, ...] = ()) -> list[dict]:
    return [{"id": i, "special_category": i in special} for i in ids + special]


CASES = [
    # (name, categories, identifier kinds, circumstances, DPC, EI, CB, SE, level)
    ("lab file published: health data, NIR",
     _categories("last_name", "birth_date", "national_id", "phone", special=("health_note",)),
     ["national_id", "phone"], {"published": True}, 4, 1.0, 1.0, 5.0, "very high"),
    ("booking platform: simple data of 6,000 patients, taken on purpose",
     _categories("last_name", "first_name", "sex", "age", "email", "phone", "event_date"),
     ["email", "phone"], {"malicious": True}, 2, 0.75, 0.5, 2.0, "medium"),
    ("e-mail list, no circumstance stated",
     _categories("email"), ["email"], {}, 1, 0.75, 0.0, 0.75, "low"),
    ("bank details with names and addresses, published",
     _categories("full_name", "postal_address", "payment"), [], {"published": True},
     3, 1.0, 1.0, 4.0, "very high"),
    ("tracking pixels: IP and online ids sent to known advertisers",
     _categories("ip_address", "online_id"), ["ip_address"], {"known_recipients": True},
     2, 0.5, 0.25, 1.25, "low"),
    ("tracking pixels carrying health search terms, with names",
     _categories("full_name", "ip_address", special=("url",)), [], {"known_recipients": True},
     4, 0.75, 0.25, 3.25, "high"),
    ("nothing personal detected", [], [], {}, 1, 0.25, 0.0, 0.25, "low"),
    ("simple data of vulnerable people",
     _categories("first_name", "city"), [], {"vulnerable": True}, 2, 0.5, 0.0, 1.0, "low"),
    ("ransomware: data altered and unavailable, taken on purpose",
     _categories("last_name", "birth_date"), [],
     {"integrity": "unrecoverable", "availability": "permanent", "malicious": True},
     1, 1.0, 1.25, 2.25, "medium"),
    ("published by mistake, responder says not malicious",
     _categories("email"), ["email"], {"published": True, "malicious": False},
     1, 0.75, 0.5, 1.25, "low"),
]


@pytest.mark.parametrize(("name", "categories", "kinds", "circumstances", "dpc", "ei", "cb",
                          "score", "level"), CASES, ids=[case[0] for case in CASES])
def test_enisa_cases(name: str, categories: list[dict], kinds: list[str], circumstances: dict,
                     dpc: int, ei: float, cb: float, score: float, level: str) -> None:
    result = assess_severity(categories, kinds, circumstances)
    factors = result["factors"]
    assert [factors[name]["score"] for name in ("dpc", "ei", "cb")] == [dpc, ei, cb]
    assert result["score"] == score
    assert result["level"] == level
    assert result["score"] == pytest.approx(dpc * ei + cb)
    assert all(factors[f]["why"] for f in ("dpc", "ei", "cb"))
    assert all(part["why"] for part in factors["cb"]["parts"])


@pytest.mark.parametrize(("score", "level"), [(0.25, "low"), (1.99, "low"), (2.0, "medium"),
                                              (2.99, "medium"), (3.0, "high"), (3.99, "high"),
                                              (4.0, "very high"), (5.0, "very high")])
def test_levels(score: float, level: str) -> None:
    assert severity_level(score) == level


def test_publication_is_inferred_malicious_and_says_so() -> None:
    parts = assess_severity(_categories("email"), [], {"published": True})["factors"]["cb"]["parts"]
    malicious = next(p for p in parts if p["circumstance"] == "malicious intent")
    assert malicious["score"] == 0.5 and "inferred" in malicious["why"]


# -- notification hints ---------------------------------------------------------------------

def _rules(hints: list[dict]) -> list[str]:
    return [hint["rule"] for hint in hints]


def test_no_people_no_hint() -> None:
    assert notification_hints(people=0, severity_level="low", special_categories=[]) == []


def test_low_risk_is_only_the_authority() -> None:
    hints = notification_hints(people=1000, severity_level="low", special_categories=[])
    assert _rules(hints) == ["GDPR Art. 33"]
    assert "72 hours" in hints[0]["deadline"]


@pytest.mark.parametrize(("level", "special"), [("high", []), ("very high", []),
                                                ("low", ["health_note"])])
def test_high_risk_or_health_data_means_telling_the_people(level: str, special: list[str]) -> None:
    hints = notification_hints(people=1000, severity_level=level, special_categories=special)
    assert _rules(hints) == ["GDPR Art. 33", "GDPR Art. 34"]


def test_hipaa_500_people_means_hhs_and_media_per_state() -> None:
    hints = notification_hints(people=700, severity_level="high", special_categories=["diagnosis"],
                               us_state_people={"CA": 600, "NV": 100})
    assert _rules(hints)[2:] == ["HIPAA 45 CFR 164.404", "HIPAA 45 CFR 164.408",
                                 "HIPAA 45 CFR 164.406"]
    media = hints[-1]["hint"]
    assert "CA" in media and "NV" not in media


def test_hipaa_under_500_is_an_annual_log() -> None:
    hints = notification_hints(people=30, severity_level="high", special_categories=["diagnosis"],
                               us_state_people={"NV": 3, "CA": 27})
    assert _rules(hints)[2:] == ["HIPAA 45 CFR 164.404", "HIPAA 45 CFR 164.408(c)"]
    assert "annually" in hints[-1]["hint"]
    assert not any(" 3 " in hint["hint"] or "27" in hint["hint"] for hint in hints)
