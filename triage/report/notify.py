"""Who may have to be told: hints from GDPR Art. 33/34 and the HIPAA breach rule.

These are reminders for the responder and the data-protection officer, not legal
advice: whether a rule applies depends on who controls the data and where, which a
dump does not say. Each hint states its condition, so the reader can check it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DISCLAIMER = ("Hints to check with the data-protection officer or counsel, not legal advice: "
              "whether a rule applies depends on the controller and the jurisdiction.")

HIPAA_THRESHOLD = 500


def notification_hints(*, people: int, severity_level: str, special_categories: list[str],
                       us_state_people: Mapping[str, int] | None = None) -> list[dict[str, Any]]:
    """Return notification hints ``[{"rule", "applies_if", "hint", "deadline"}…]``.

    ``people`` is the true number of distinct people (a count, never shown here);
    ``us_state_people`` the true people per US state, used only to compare with
    HIPAA's 500 threshold, so the hints never reveal a small count.
    """
    hints: list[dict[str, Any]] = []
    if people <= 0:
        return hints
    hints.append({
        "rule": "GDPR Art. 33",
        "applies_if": "the controller is subject to the GDPR",
        "hint": ("Notify the supervisory authority (e.g. CNIL) unless the breach is unlikely to "
                 "result in a risk to people; record it in the breach register in any case "
                 "(Art. 33(5))."),
        "deadline": "72 hours after becoming aware of the breach",
    })
    high_risk = severity_level in ("high", "very high")
    reasons = []
    if high_risk:
        reasons.append(f"ENISA severity is {severity_level}")
    if special_categories:
        reasons.append("special-category data is exposed (" + ", ".join(special_categories) + ")")
    if reasons:
        hints.append({
            "rule": "GDPR Art. 34",
            "applies_if": "the controller is subject to the GDPR and the risk to people is high",
            "hint": ("Likely high risk: " + "; ".join(reasons) + ". Inform the people concerned "
                     "in clear language, unless an Art. 34(3) exception holds (data unintelligible "
                     "to others, risk removed, or disproportionate effort: then a public notice)."),
            "deadline": "without undue delay",
        })
    if us_state_people:
        media_states = sorted(state for state, count in us_state_people.items()
                              if count >= HIPAA_THRESHOLD)
        us_people = sum(us_state_people.values())
        applies_if = ("the data is protected health information of a HIPAA covered entity "
                      "or business associate")
        hints.append({
            "rule": "HIPAA 45 CFR 164.404",
            "applies_if": applies_if,
            "hint": "Notify each affected individual.",
            "deadline": "without unreasonable delay, at most 60 days after discovery",
        })
        if us_people >= HIPAA_THRESHOLD:
            hints.append({
                "rule": "HIPAA 45 CFR 164.408",
                "applies_if": applies_if,
                "hint": ("500 or more people: notify the HHS Secretary at the same time as "
                         "the people."),
                "deadline": "at most 60 days after discovery",
            })
        else:
            hints.append({
                "rule": "HIPAA 45 CFR 164.408(c)",
                "applies_if": applies_if,
                "hint": "Fewer than 500 people: log the breach and report it to HHS annually.",
                "deadline": "within 60 days after the end of the calendar year",
            })
        if media_states:
            hints.append({
                "rule": "HIPAA 45 CFR 164.406",
                "applies_if": applies_if,
                "hint": ("500 or more residents of " + ", ".join(media_states) +
                         ": notify prominent media outlets serving each of these states."),
                "deadline": "at most 60 days after discovery",
            })
    return hints
