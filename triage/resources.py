"""Where the data files (schemas, seeds, lexicons) live, installed or in a checkout."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

_PACKAGE = Path(__file__).resolve().parent
_REPO = _PACKAGE.parent


def _data_dir(name: str) -> Path:
    # A wheel carries schemas/ and seeds/ under triage/_data; a checkout has them at the top.
    for candidate in (_PACKAGE / "_data" / name, _REPO / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(name)


def schemas_dir() -> Path:
    return _data_dir("schemas")


def seeds_dir() -> Path:
    return _data_dir("seeds")


@cache
def load_schema(name: str) -> dict[str, Any]:
    """Load ``schemas/<name>`` (e.g. ``profile.schema.json``)."""
    return json.loads((schemas_dir() / name).read_text(encoding="utf-8"))


@cache
def categories() -> dict[str, Any]:
    """The category taxonomy, ``schemas/categories.json``."""
    return load_schema("categories.json")
