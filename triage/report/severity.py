"""Severity of a personal data breach, after ENISA's 2013 methodology.

ENISA, *Recommendations for a methodology of the assessment of severity of personal
data breaches* (working document v1.0, December 2013)::

    SE = DPC × EI + CB

* **DPC**, data processing context (1–4): the basic score of the most serious type
  of data exposed (simple 1, behavioural 2, financial 3, sensitive 4), adjusted for
  what the data allows (profiling, fraud, vulnerable people).
* **EI**, ease of identification (0.25 negligible, 0.5 limited, 0.75 significant,
  1 maximum): how easily the exposed records lead to the people.
* **CB**, circumstances of breach (+0 to +0.5 each, added): loss of confidentiality
  (+0 exposed, +0.25 known recipients, +0.5 unknown recipients), loss of integrity,
  loss of availability, malicious intent (+0.5).

Levels: low SE < 2, medium 2 ≤ SE < 3, high 3 ≤ SE < 4, very high SE ≥ 4.

triage scores what it can observe (categories, identifier kinds) and what the
responder states (``circumstances``); every factor carries a ``why`` so a reader can
disagree with one input without redoing the rest. Adjustments that need human
judgement are not applied: lowering sensitive data that gives little insight, and
raising financial data that enables fraud (``payment`` covers IBANs and cards alike).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

BASIC_SCORE = {"simple": 1, "behavioural": 2, "financial": 3, "sensitive": 4}

# Category ids of schemas/categories.json that ENISA would class above "simple". A
# special category (GDPR Art. 9) is always "sensitive", whatever its id.
FINANCIAL_CATEGORIES = frozenset({"payment"})
BEHAVIOURAL_CATEGORIES = frozenset({"geolocation", "ip_address", "online_id", "url"})

# Identifier kinds (people.by_identifier_kind keys) and category ids, by how directly
# they lead to one person.
UNIQUE_OFFICIAL_IDS = frozenset({"national_id", "health_insurance_id", "document_id"})
FAMILY_NAME_KINDS = frozenset({"full_name", "last_name"})
CORROBORATING_KINDS = frozenset({"birth_date", "postal_address"})
DIRECT_KINDS = frozenset({"email", "phone", "postal_address", "media_ref"})
QUASI_IDENTIFIER_KINDS = frozenset({
    "first_name", "birth_date", "age", "sex", "postcode", "city", "geolocation", "ip_address",
    "online_id", "record_id"})

# Many categories about the same person allow profiling (ENISA's upward DPC adjustment).
PROFILING_MIN_CATEGORIES = 5

LEVELS = ((4.0, "very high"), (3.0, "high"), (2.0, "medium"), (float("-inf"), "low"))


def enisa_data_type(category: Mapping[str, Any]) -> str:
    """ENISA data type of one exposed category: simple, behavioural, financial or sensitive."""
    if category.get("special_category"):
        return "sensitive"
    if category["id"] in FINANCIAL_CATEGORIES:
        return "financial"
    if category["id"] in BEHAVIOURAL_CATEGORIES:
        return "behavioural"
    return "simple"


def _data_processing_context(categories: list[Mapping[str, Any]],
                             circumstances: Mapping[str, Any]) -> dict[str, Any]:
    if not categories:
        return {"score": 1, "data_type": "simple",
                "why": "no personal-data category was detected; basic score of simple data"}
    by_type: dict[str, list[str]] = {}
    for category in categories:
        by_type.setdefault(enisa_data_type(category), []).append(category["id"])
    profiling = len(categories) >= PROFILING_MIN_CATEGORIES
    scored = []
    for data_type, ids in by_type.items():
        score = BASIC_SCORE[data_type]
        reasons = [f"{data_type} data ({', '.join(sorted(ids))}): basic score {score}"]
        if data_type in ("simple", "behavioural") and profiling:
            score += 1
            reasons.append(f"+1: {len(categories)} categories about the same people "
                           "allow profiling")
        if data_type == "simple" and circumstances.get("vulnerable"):
            score += 1
            reasons.append("+1: the people are vulnerable (stated circumstance)")
        scored.append((min(score, 4), BASIC_SCORE[data_type], data_type, reasons))
    score, _, data_type, reasons = max(scored)
    why = "; ".join(reasons)
    if len(scored) > 1:
        why += " (the highest of the data types exposed)"
    return {"score": score, "data_type": data_type, "why": why}


def _ease_of_identification(kinds: set[str]) -> dict[str, Any]:
    official = sorted(kinds & UNIQUE_OFFICIAL_IDS)
    names = sorted(kinds & FAMILY_NAME_KINDS)
    corroborating = sorted(kinds & CORROBORATING_KINDS)
    direct = sorted(kinds & DIRECT_KINDS)
    quasi = sorted(kinds & QUASI_IDENTIFIER_KINDS)
    if official:
        return {"score": 1.0, "level": "maximum",
                "why": f"a unique official identifier is exposed ({', '.join(official)})"}
    if names and corroborating:
        return {"score": 1.0, "level": "maximum",
                "why": f"names with {', '.join(corroborating)} single out each person"}
    if names or direct:
        return {"score": 0.75, "level": "significant",
                "why": f"direct identifiers are exposed ({', '.join(sorted(set(names + direct)))})"}
    if quasi:
        return {"score": 0.5, "level": "limited",
                "why": f"only indirect identifiers are exposed ({', '.join(quasi)})"}
    return {"score": 0.25, "level": "negligible", "why": "no identifier of a person was detected"}


_INTEGRITY = {"recoverable": (0.0, "data altered but recoverable"),
              "unrecoverable": (0.25, "data altered without possibility of recovery"),
              "used": (0.5, "altered data was used")}
_AVAILABILITY = {"recoverable": (0.0, "data can be recovered without difficulty"),
                 "temporary": (0.25, "data temporarily unavailable"),
                 "permanent": (0.5, "data permanently unavailable")}


def _circumstances_of_breach(circumstances: Mapping[str, Any]) -> dict[str, Any]:
    parts = []
    if any(circumstances.get(flag) for flag in ("published", "sold", "unknown_recipients")):
        parts.append({"circumstance": "loss of confidentiality", "score": 0.5,
                      "why": "disclosed to an unknown number of recipients (published or traded)"})
    elif circumstances.get("known_recipients"):
        parts.append({"circumstance": "loss of confidentiality", "score": 0.25,
                      "why": "disclosed to a number of known recipients"})
    else:
        parts.append({"circumstance": "loss of confidentiality", "score": 0.0,
                      "why": ("exposed to confidentiality risks, no evidence of further "
                              "processing stated")})
    for name, table, key in (("loss of integrity", _INTEGRITY, "integrity"),
                             ("loss of availability", _AVAILABILITY, "availability")):
        if circumstances.get(key) in table:
            score, why = table[circumstances[key]]
            parts.append({"circumstance": name, "score": score, "why": why})
    # A dump that was published or sold was put out on purpose, unless the responder says not.
    if "malicious" in circumstances:
        malicious = bool(circumstances["malicious"])
        malicious_why = "stated by the responder"
    else:
        malicious = bool(circumstances.get("published") or circumstances.get("sold"))
        malicious_why = ("inferred: the data was published or sold" if malicious
                         else "no malicious intent stated")
    parts.append({"circumstance": "malicious intent", "score": 0.5 if malicious else 0.0,
                  "why": malicious_why})
    score = sum(part["score"] for part in parts)
    why = "; ".join(f"{p['circumstance']} +{p['score']:g}" for p in parts if p["score"]) or \
        "no aggravating circumstance"
    return {"score": score, "why": why, "parts": parts}


def severity_level(score: float) -> str:
    """ENISA level of a severity score."""
    return next(level for bound, level in LEVELS if score >= bound)


def assess_severity(categories: Iterable[Mapping[str, Any]], identifier_kinds: Iterable[str],
                    circumstances: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Score a breach: ``{"score", "level", "formula", "factors": {"dpc", "ei", "cb"}}``.

    ``categories`` are the exposed categories (``id``, ``special_category``);
    ``identifier_kinds`` the kinds of identifiers present (from people counting and
    category ids); ``circumstances`` the responder's flags: ``published``,
    ``unknown_recipients``, ``known_recipients``, ``sold``, ``malicious``,
    ``vulnerable``, ``integrity`` and ``availability`` (see ``docs/report.md``).
    """
    circumstances = circumstances or {}
    categories = list(categories)
    kinds = set(identifier_kinds) | {category["id"] for category in categories}
    dpc = _data_processing_context(categories, circumstances)
    ei = _ease_of_identification(kinds)
    cb = _circumstances_of_breach(circumstances)
    score = round(dpc["score"] * ei["score"] + cb["score"], 2)
    return {"score": score, "level": severity_level(score), "formula": "SE = DPC × EI + CB",
            "factors": {"dpc": dpc, "ei": ei, "cb": cb}}
