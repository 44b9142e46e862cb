"""The one registry of detectors: every module under ``triage/detect/detectors``.

Adding a detector is one module defining ``DETECTOR`` plus its name here (and, if
it has a new header key, entries in ``lexicons/headers.json``); a test fails when
a module is missing from this list or names an unknown category or header key.
"""

from __future__ import annotations

import importlib
from functools import cache

from triage.detect.base import Detector

#: Built-in detector modules, most specific checks first (order is not priority).
BUILTIN = [
    # national and health identifiers, check digits
    "fr_nir", "fr_nir_keyless", "us_ssn", "de_kvnr", "uk_nhs", "es_dni", "it_codice_fiscale",
    "nl_bsn", "pl_pesel", "dk_cpr", "cz_rc", "ro_cnp", "se_personnummer", "tr_tckimlik",
    "national_id", "health_insurance_id", "document_id",
    # practitioners and organisations
    "fr_rpps", "fr_adeli", "us_npi", "de_lanr", "practitioner_id", "practitioner",
    "de_ik",
    "fr_finess", "fr_siret", "organisation_id",
    # contact, payment, online
    "email", "phone", "iban", "payment_card", "ip_address", "online_id", "url", "media_ref",
    # people and places
    "first_name", "last_name", "full_name", "birth_date", "age", "sex", "ethnic_origin",
    "postal_address", "postcode", "city", "geolocation",
    # health
    "blood_type", "icd10", "snomed", "diagnosis", "medication", "lab_result", "medical_procedure",
    "health_note",
    # events and keys
    "event_date", "record_id",
]


@cache
def _load() -> tuple[Detector, ...]:
    return tuple(importlib.import_module(f"triage.detect.detectors.{name}").DETECTOR
                 for name in BUILTIN)


def detectors() -> list[Detector]:
    """Every registered detector (shared, stateless instances)."""
    return list(_load())


def detector(detector_id: str) -> Detector:
    """One detector by id."""
    for candidate in _load():
        if candidate.id == detector_id:
            return candidate
    raise KeyError(detector_id)
