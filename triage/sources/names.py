"""Names a leak chose itself (archive members, sheets, SQL tables), fit to show.

Outputs, progress and errors name every source, and a leak's own names sometimes
hold an identifier: per-person files (``dupont_0612345678.csv``,
``jean.dupont@mail.fr.xlsx``), a sheet or a table named after its owner. Emails and
long numbers (phones, national ids: nine digits or more, with or without
separators) are withheld from such names; the file suffixes, which tell the format,
stay. Members whose names differ only in withheld parts are then one table, as the
per-person files of one export are. A person's name in a file name cannot be told
from any other word and is shown as given.
"""

from __future__ import annotations

import re

WITHHELD = "<withheld>"

_EMAIL = re.compile(r"[^\s@/\\!#<>]+@[^\s@/\\!#<>]+\.[A-Za-z]{2,}")
_LONG_NUMBER = re.compile(r"\+?\d(?:[ .\-]?\d){8,}")
#: The suffixes that tell a format (kept: the name may be all the reader has to go on).
_SUFFIXES = re.compile(r"(?:\.(?:csv|tsv|tab|txt|dat|psv|json|jsonl|ndjson|sql|dump|xlsx|xlsm|"
                       r"xlsb|xls|ods|parquet|gz|gzip|bz2|xz|zst|zstd|zip|tar|tgz|7z))*\Z",
                       re.IGNORECASE)


def withhold_identifiers(name: str) -> str:
    """``name`` with its emails and long numbers replaced by ``<withheld>``."""
    stem_end = _SUFFIXES.search(name).start()  # type: ignore[union-attr]  # matches empty
    stem = _LONG_NUMBER.sub(WITHHELD, _EMAIL.sub(WITHHELD, name[:stem_end]))
    return stem + name[stem_end:]
