"""The impact summary: from the scan's aggregated facts to a document safe to send.

Input: the ``facts`` dict that the scan assembles after its single pass::

    facts = {
      "leak": {"id": str, "name": str, "scanned_at": ISO-8601 str, "triage_version": str,
               "files": [{"name": str, "size": int, "sha256": hex str}, ...]},
      "rows": {"read": int, "parsed": int, "rejected": int},
      "people": {"distinct": int, "method": str,
                 "by_identifier_kind": {"email": int, "phone": int, ...}},   # people per kind
      "categories": [{"id": category id, "people": int, "rows": int,
                      "special_category": bool, "gdpr_class": str,
                      "columns": [column names]}, ...],
      "geography": {"fr_departement_postcode": {"56": people, ...},   # each optional
                    "fr_departement_nir": {...}, "us_state": {...}, "country_phone": {...}},
      "time": {"first": "YYYY-MM-DD" | None, "last": ..., "by_month": {"2015-01": rows}},
      "sources": {"organisations": int, "practitioners": int},
      "circumstances": {"published": bool, ...},   # optional, see severity.assess_severity
    }

Output: a document valid against ``schemas/summary.schema.json`` that holds counts,
category ids, region codes and months, and nothing else that could name a person:
column names are reduced to a count (a JSON key can be an e-mail), event dates to
their month, counts from 1 to 10 to ``"<11"`` (suppression.py). Keys that do not look
like region codes, months or ids are refused rather than copied.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from triage.errors import TriageError
from triage.report.crypto import encrypt_to_file
from triage.report.geography import GEOGRAPHY_VIEWS
from triage.report.notify import DISCLAIMER, notification_hints
from triage.report.render import render_html, render_json, render_markdown, render_recap
from triage.report.severity import assess_severity
from triage.report.suppression import (
    COMPLEMENT,
    SMALL,
    THRESHOLD,
    WITHHELD,
    suppress_breakdown,
    suppress_count,
)

__all__ = ["build_summary", "render_html", "render_json", "render_markdown", "render_recap",
           "write_summary"]

SCHEMA_VERSION = 1

_REGION_KEY = {
    "fr_departement_postcode": re.compile(r"^(\d{2}|2A|2B|9[78]\d)$"),
    "fr_departement_nir": re.compile(r"^(\d{2}|2A|2B|9[78]\d)$"),
    "us_state": re.compile(r"^[A-Z]{2}$"),
    "country_phone": re.compile(r"^[A-Z]{2}$"),
}
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_DATE = re.compile(r"^(\d{4}-(0[1-9]|1[0-2]))(-\d{2})?")
_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def _checked_keys(counts: Mapping[str, int], pattern: re.Pattern[str],
                  where: str) -> dict[str, int]:
    """Copy a breakdown whose keys all match ``pattern``; never quote a bad key (it may be data)."""
    for key, value in counts.items():
        if not isinstance(key, str) or not pattern.match(key):
            raise ValueError(f"{where}: a key is not of the expected form (not shown)")
        if not isinstance(value, int) or value < 0:
            raise ValueError(f"{where}: counts must be non-negative integers")
    return {key: value for key, value in counts.items() if value > 0}


def _month(date: str | None) -> str | None:
    if not date:
        return None
    match = _DATE.match(date)
    if not match:
        raise ValueError("time: first/last must be ISO dates (YYYY-MM-DD)")
    return match.group(1)


def _categories(categories: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    for category in categories:
        if not _ID.match(category["id"]):
            raise ValueError("categories: an id is not a category id (not shown)")
    # Special categories first, then the largest; suppressed people counts last by id,
    # since ranking them by their true size would reveal it.
    def order(category: Mapping[str, Any]) -> tuple[bool, bool, int, str]:
        small = category["people"] < THRESHOLD
        return (not category["special_category"], small,
                0 if small else -category["people"], category["id"])

    return [{"id": category["id"],
             "people": suppress_count(category["people"]),
             "rows": suppress_count(category["rows"]),
             "special_category": bool(category["special_category"]),
             "gdpr_class": category["gdpr_class"],
             "columns": len(category.get("columns", []))}
            for category in sorted(categories, key=order)]


def _method_notes(people_method: str) -> list[str]:
    return [
        f"People: {people_method}",
        (f"Small counts: any count from 1 to {THRESHOLD - 1} is shown as \"{SMALL}\". Where a "
         f"breakdown shows its total, more cells are hidden as \"{COMPLEMENT}\" (or the total "
         f"is \"{WITHHELD}\") so that no hidden count can be found by subtraction."),
        ("Categories overlap: one person is counted in every category of data exposed about "
         "them, so category counts do not add up to the number of people."),
        ("Geography: the département of birth (NIR) is where people were born, not where they "
         "live; a person with several addresses counts in each of their départements."),
        "Timeline: rows (events) per month of their event date, not people.",
        ("Severity: ENISA (2013) SE = DPC × EI + CB; the number of people is not part of "
         "the score and is reported beside it."),
        "This summary holds counts, category ids, region codes and months only.",
    ]


def build_summary(facts: Mapping[str, Any]) -> dict[str, Any]:
    """Turn the scan's aggregated facts into the summary document (see module docstring)."""
    leak = facts["leak"]
    people = facts["people"]
    by_kind = _checked_keys(people.get("by_identifier_kind", {}), _ID, "people.by_identifier_kind")
    categories = list(facts.get("categories", []))
    circumstances = dict(facts.get("circumstances") or {})

    regions = {}
    for view, counts in (facts.get("geography") or {}).items():
        if view not in GEOGRAPHY_VIEWS:
            raise ValueError(f"geography: unknown view {view!r}")
        checked = _checked_keys(counts or {}, _REGION_KEY[view], f"geography.{view}")
        if checked:
            regions[view] = checked

    time = facts.get("time") or {}
    by_month = _checked_keys(time.get("by_month") or {}, _MONTH, "time.by_month")

    severity = assess_severity(categories, by_kind, circumstances)
    special = [category["id"] for category in categories if category["special_category"]]
    hints = notification_hints(people=people["distinct"], severity_level=severity["level"],
                               special_categories=sorted(special),
                               us_state_people=regions.get("us_state"))
    sources = facts.get("sources") or {}

    return {
        "schema_version": SCHEMA_VERSION,
        "leak": {"id": leak["id"], "name": leak["name"],
                 "files": [{"name": f["name"], "size": f["size"], "sha256": f["sha256"]}
                           for f in leak["files"]],
                 "scanned_at": leak["scanned_at"], "triage_version": leak["triage_version"]},
        "rows": {key: facts["rows"][key] for key in ("read", "parsed", "rejected")},
        "people": {"distinct": suppress_count(people["distinct"]), "method": people["method"],
                   "by_identifier_kind": suppress_breakdown(by_kind, with_total=False)["cells"]},
        "categories": _categories(categories),
        "special_categories": sorted(special),
        "geography": {view: suppress_breakdown(counts, with_total=True)
                      for view, counts in regions.items()},
        "time": {"first": _month(time.get("first")), "last": _month(time.get("last")),
                 "by_month": suppress_breakdown(by_month, with_total=True, order="key")},
        "sources": {key: int(sources[key]) for key in ("organisations", "practitioners")
                    if key in sources},
        "severity": severity,
        "notification": {"disclaimer": DISCLAIMER, "hints": hints},
        "suppression": {"threshold": THRESHOLD, "small": SMALL, "complement": COMPLEMENT,
                        "withheld": WITHHELD},
        "method_notes": _method_notes(people["method"]),
    }


#: The files a scan writes, each with ``.age`` appended unless written in clear.
RENDERINGS = {"summary.json": render_json, "summary.html": render_html,
              "summary.md": render_markdown}


def write_summary(summary: dict[str, Any], outdir: str | os.PathLike[str],
                  recipients: Iterable[str], *, plaintext: bool = False) -> list[Path]:
    """Write the JSON, HTML and Markdown renderings into ``outdir`` (created); return their paths.

    Each is rendered in memory and written as ``summary.<ext>.age``, encrypted to every
    recipient, so no plaintext summary touches the disk. Only ``plaintext=True`` (the
    scan's explicit ``--plaintext``) also writes ``summary.<ext>`` in clear.
    """
    outdir = Path(outdir)
    recipients = list(recipients)
    if not plaintext and not recipients:
        raise TriageError("no recipient to encrypt the summary to")
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, render in RENDERINGS.items():
        data = render(summary).encode("utf-8")
        if recipients:
            written.append(encrypt_to_file(data, recipients, outdir / f"{name}.age"))
        if plaintext:
            path = outdir / name
            try:
                path.write_bytes(data)
            except OSError as exc:
                raise TriageError(f"cannot write summary ({exc.strerror})",
                                  path=str(path)) from None
            written.append(path)
    return written
