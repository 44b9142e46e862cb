"""Shared builders for the identity tests (no tests here): keys, synthetic leaks, indexes."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
from hypothesis import strategies as st

from triage.identity.collector import IdentifierPlan, IdentityCollector
from triage.identity.keys import HmacKey

PLAN = {
    "email": IdentifierPlan("email", ("email",)),
    "tel": IdentifierPlan("phone", ("phone",)),
    "nir": IdentifierPlan("national_id", ("national_id",)),
    "prenom": IdentifierPlan("name_birth", ("first_name",), role="first_name"),
    "nom": IdentifierPlan("name_birth", ("last_name",), role="last_name"),
    "ddn": IdentifierPlan("name_birth", ("birth_date",), role="birth_date"),
}
ROW_CATEGORIES = {"diagnostic": "diagnosis", "ville": "city"}
EVENT_DATES = {"date_visite": "%d/%m/%Y"}
#: A value that must never appear in an index file, a log line or an HTTP answer.
CANARY_EMAIL = "canary.zx81q@leak-canary.example"
CANARY_PHONE = "06 98 76 54 32"


def new_key() -> HmacKey:
    return HmacKey(os.urandom(32))


def patients(n: int, *, seed: int = 0, with_canary: bool = True) -> pl.DataFrame:
    """``n`` rows of a toy patient table; person i appears in rows i and i + n//2 (visits)."""
    people = max(1, n // 2)
    rows = []
    for r in range(n):
        i = (r % people) + seed * 1_000_000
        rows.append({
            "email": f"patient{i}@example.fr" if r % 7 else f"  PATIENT{i}@Example.FR ",
            # The second visit gives the phone in another format: one person, one digest.
            "tel": (f"06{i:08d}" if r < people else f"+33 6 {i // 10**6 % 100:02d} "
                    f"{i // 10**4 % 100:02d} {i // 100 % 100:02d} {i % 100:02d}"),
            "nir": f"1 85 03 75 {i:09d}" if r % 3 == 0 else None,
            "prenom": "Hélène" if i % 2 else "Jean",
            "nom": f"Nom{i}",
            "ddn": f"{1 + i % 28:02d}/03/1985",
            "diagnostic": "J10" if i % 5 == 0 else "",
            "ville": "Lyon",
            "date_visite": f"{1 + r % 28:02d}/0{1 + r % 9}/2021",
        })
    if with_canary and rows:
        rows[0]["email"] = CANARY_EMAIL
        rows[0]["tel"] = CANARY_PHONE
    return pl.DataFrame(rows, schema={k: pl.String for k in rows[0]} if rows else None)


def collector(key: HmacKey, **overrides) -> IdentityCollector:  # type: ignore[no-untyped-def]
    options = {"plan": PLAN, "region": "FR", "row_categories": ROW_CATEGORIES,
               "event_dates": EVENT_DATES, **overrides}
    return IdentityCollector(key, **options)


def build_index(key: HmacKey, index_dir: Path, leak_id: str, frame: pl.DataFrame,
                name: str = "Test leak") -> dict:
    col = collector(key)
    col.update(frame)
    return col.write_index(str(index_dir), leak_id, name,
                           [{"name": "dump.csv", "size": 1, "sha256": "0" * 64}], frame.height)


TIME_FORMATS = ["%d/%m/%Y", "%Y-%m-%d", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S",
                 "%Y-%m-%dT%H:%M:%SZ", "%m/%d/%Y", "%d.%m.%Y"]


@st.composite
def written_times(draw):  # type: ignore[no-untyped-def]
    """Values of one format: mostly well formed, some with a field out of range, one
    digit short, a space around, or a character swapped."""
    fmt = draw(st.sampled_from(TIME_FORMATS))
    # Edges drawn often: month ends, 29 February of leap and common years, 24:00, :60.
    # Valid values come first (hypothesis leans to the first choices), and each value
    # draws its own fields, so that one bad field does not spoil a whole example.
    choices = {"d": [12, 1, 9, 28, 29, 30, 31, 0, 32], "m": [3, 1, 2, 4, 12, 0, 13],
               "Y": [2020, 2021, 2024, 1900, 2000, 1969, 1970, 1880, 1879, 2100, 2101, 1, 999,
                     9999],
               "H": [10, 0, 23, 24, 25], "M": [7, 0, 59, 60], "S": [5, 0, 59, 60, 61]}
    values = []
    for _ in range(draw(st.integers(1, 24))):
        text = fmt
        for key, options in choices.items():
            digits = str(draw(st.sampled_from(options))).zfill(4 if key == "Y" else 2)
            if draw(st.integers(0, 9)) == 0:
                digits = digits.lstrip("0") or "0"
            text = text.replace(f"%{key}", digits)
        mutation = draw(st.integers(0, 12))
        if mutation == 0:
            text = " " + text
        elif mutation == 1:
            text = text + " "
        elif mutation == 2 and text:
            at = draw(st.integers(0, len(text) - 1))
            text = text[:at] + draw(st.sampled_from("x/-:T 0")) + text[at + 1:]
        elif mutation == 3:
            text = draw(st.sampled_from(["", None]))
        values.append(text)
    return fmt, values


def digest_bytes(hasher, prefix: bytes, values: pl.Series):  # type: ignore[no-untyped-def]
    """(n, 16) uint8: each value's digest as bytes, from the hasher's hi/lo words."""
    import numpy as np

    hi, lo = hasher.digest_words(prefix, values)
    return np.stack([hi, lo], axis=1).astype(">u8").view(np.uint8)
