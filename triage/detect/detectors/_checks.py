"""Check-digit helpers shared by detectors where python-stdnum has no module."""

from __future__ import annotations

from stdnum import luhn


def luhn_valid(number: str) -> bool:
    """ISO/IEC 7812-1 Luhn (RPPS, ADELI, FINESS, NPI with its prefix, cards)."""
    return luhn.is_valid(number)
