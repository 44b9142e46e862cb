"""Scenario specs: one TOML file per scenario under ``seeds/``, checked on load.

The JSON Schema ``schemas/seed.schema.json`` documents the format and the tests
validate every seed against it; loading repeats the checks that matter at run
time (known generator, known category, a header for each language) with plain
Python, since jsonschema is a test-only dependency.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

from triage.resources import categories, seeds_dir

#: The category ids of the taxonomy (schemas/categories.json, owned by detection).
CATEGORY_IDS = frozenset(categories()["categories"])

#: Header languages every scenario provides (``--locale``).
HEADER_LOCALES = ("fr", "en", "de", "es", "it")


class SeedError(ValueError):
    """A seed file that does not describe a usable scenario."""


def scenarios() -> list[str]:
    """Names of the scenarios shipped under ``seeds/``."""
    return sorted(p.stem for p in Path(seeds_dir()).glob("*.toml"))


def seed_path(name: str) -> Path:
    return Path(seeds_dir()) / f"{name}.toml"


@cache
def load(name: str) -> dict:
    """The checked spec of scenario ``name``."""
    path = seed_path(name)
    if not path.is_file():
        raise SeedError(f"unknown scenario {name!r}; known: {', '.join(scenarios())}")
    with path.open("rb") as f:
        spec = tomllib.load(f)
    check(spec, path.name)
    return spec


def check(spec: dict, where: str) -> None:
    from synthetic.columns import GENERATORS

    if spec.get("format") not in ("csv", "jsonl"):
        raise SeedError(f"{where}: format must be csv or jsonl")
    locales = set(spec.get("locales", HEADER_LOCALES))
    missing_locales = set(HEADER_LOCALES) - locales
    if missing_locales:
        raise SeedError(f"{where}: header sets missing for {sorted(missing_locales)}")
    seen_keys: set[str] = set()
    for column in spec.get("columns", []):
        key = column.get("key")
        if not key or key in seen_keys:
            raise SeedError(f"{where}: column key {key!r} missing or repeated")
        seen_keys.add(key)
        if column.get("generator") not in GENERATORS:
            raise SeedError(f"{where}: column {key}: unknown generator {column.get('generator')!r}")
        category = column.get("category")
        if category is not None and category not in CATEGORY_IDS:
            raise SeedError(f"{where}: column {key}: unknown category {category!r}")
        if not locales <= set(column.get("headers", {})):
            raise SeedError(
                f"{where}: column {key}: a header is needed for each of {sorted(locales)}"
            )
    for locale in locales:
        headers = [c["headers"][locale] for c in spec["columns"]]
        if len(set(headers)) != len(headers):
            raise SeedError(f"{where}: repeated header in locale {locale}")
