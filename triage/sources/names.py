"""Names a leak chose itself (archive members, sheets, SQL tables), fit to show.

Outputs, progress and errors name every source, and a leak's own names sometimes
hold an identifier: per-person files (``dupont_0612345678.csv``,
``jean.dupont@mail.fr.xlsx``), a sheet or a table named after its owner. Emails and
long numbers (phones, national ids: nine digits or more, with or without
separators; dates and times excepted) are withheld from such names; the file
suffixes, which tell the format, stay. The placeholder carries the name's position
among its siblings (``dupont_<withheld #2>.csv``): sources are told apart by name,
and two per-person files must stay two tables, which may not even share columns.
A person's name in a file name cannot be told from any other word and is shown as
given.
"""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[^\s@/\\!#<>]+@[^\s@/\\!#<>]+\.[A-Za-z]{2,}")
_LONG_NUMBER = re.compile(r"\+?\d(?:[ .\-_:]?\d){8,}")
#: A date, maybe with a time, year first or last (``2024-01-31 12.30``, ``31012024``).
_DATE_TIME = re.compile(
    r"(?:(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
    r"|(?:0[1-9]|[12]\d|3[01])(?:0[1-9]|1[0-2])(?:19|20)\d\d)(?:(?:[01]\d|2[0-3])(?:[0-5]\d){0,2})?")
#: The suffixes that tell a format (kept: the name may be all the reader has to go on).
_SUFFIXES = re.compile(r"(?:\.(?:csv|tsv|tab|txt|dat|psv|json|jsonl|ndjson|sql|dump|xlsx|xlsm|"
                       r"xlsb|xls|ods|parquet|gz|gzip|bz2|xz|zst|zstd|zip|tar|tgz|7z))*\Z",
                       re.IGNORECASE)


def withhold_identifiers(name: str, position: int) -> str:
    """``name`` with its emails and long numbers withheld; ``position`` (1 for the
    first member, sheet or table of its container) numbers the placeholder."""
    stem_end = _SUFFIXES.search(name).start()  # type: ignore[union-attr]  # matches empty

    def number(found: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", found.group())
        return found.group() if _DATE_TIME.fullmatch(digits) else "\0"

    stem = _LONG_NUMBER.sub(number, _EMAIL.sub("\0", name[:stem_end]))
    if "\0" not in stem:
        return name
    return re.sub("\0+", "<withheld>", stem).replace(
        "<withheld>", f"<withheld #{position}>", 1) + name[stem_end:]
