"""Shared tests telling free-text notes, visit reasons, diagnosis labels and
medical specialities apart: all of them mention health words."""

from __future__ import annotations

import polars as pl

from triage.detect.vocab import matches, words_pattern

#: Why someone booked or came: a note about the visit, not a coded diagnosis.
VISIT_REASON = words_pattern([
    "consultation", "teleconsultation", "controle", "certificat", "depistage", "suivi",
    "renouvellement", "bilan", "vaccination", "vaccin", "check up", "checkup", "follow up",
    "routine", "visit", "appointment", "screening", "renewal", "prescription refill",
    "kontrolle", "untersuchung", "vorsorge", "nachsorge", "impfung", "erstgesprach",
    "rezept", "ordonnance", "premiere", "first", "nouveau patient", "new patient",
    "*kontrolle", "*untersuchung",
])
#: The doctor's speciality ("Cardiologue") is about the doctor, not the patient.
SPECIALITY = words_pattern([
    "*logue", "*logiste", "*logist", "*ologe", "*ologin", "*iatre", "*iater", "*iatra",
    "dentiste", "dentist", "generaliste", "general practitioner", "medecin generaliste",
    "kinesitherapeute", "sage femme", "physiotherapist", "physiotherapeut", "osteopathe",
    "zahnarzt", "zahnarztin", "hausarzt", "hausarztin", "kinderarzt", "frauenarzt",
    "augenarzt", "hautarzt", "orthoptiste", "podologue", "infirmier", "infirmiere", "nurse",
])


def share(values: pl.Series, pattern: str) -> float:
    return float(matches(values, pattern).mean() or 0.0) if len(values) else 0.0


def sentence_share(values: pl.Series) -> float:
    """Share of values written as sentences: punctuation inside, or six words or more."""
    if len(values) == 0:
        return 0.0
    sentence = values.str.contains(r"[,;:.!?()]") | (values.str.count_matches(r"\S+") >= 6)
    return float(sentence.mean() or 0.0)
