"""Value lexicons (names, cities, health words, drugs), loaded once from data files.

Word lists become either polars Series (for a vectorised ``is_in``) or one
accent-tolerant regular expression (for ``str.contains``, run by polars' Rust
regex engine), so no detector loops over values in Python to use them.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import polars as pl

from triage.detect.headers import LEXICON_DIR

# Lexicons are stored without accents; values keep theirs, so the pattern accepts both.
_ACCENTED = {"a": "[aàáâãäå]", "e": "[eèéêë]", "i": "[iìíîï]", "o": "[oòóôõö]",
             "u": "[uùúûü]", "c": "[cç]", "n": "[nñ]", "y": "[yÿý]", "s": "(?:s|ß)"}


def accent_tolerant(term: str) -> str:
    """A regex for a lexicon term: accents optional, ``*`` = any word ending, spaces flexible."""
    parts = []
    for ch in term:
        if ch == "*":
            parts.append(r"\w*")
        elif ch == " ":
            parts.append(r"[\s\-']+")
        elif ch in _ACCENTED:
            parts.append(_ACCENTED[ch])
        else:
            parts.append(re.escape(ch))
    return "".join(parts)


def words_pattern(terms: list[str]) -> str:
    """One whole-word alternation of all terms, for text passed through :func:`fold`.

    Terms are stored folded (no accents, lower case), so the pattern is plain ASCII
    with ASCII word boundaries: Rust's regex engine then runs it as a DFA, several
    times faster than with Unicode-aware boundaries over accented variants.
    """
    alternatives = sorted({_plain_term(t) for t in terms}, key=len, reverse=True)
    return r"(?-u:\b)(?:" + "|".join(alternatives) + r")(?-u:\b)"


def _plain_term(term: str) -> str:
    # "*" stands for any word ending, or (leading) any word start: "*logue".
    return re.escape(term).replace(r"\*", "[a-z]*").replace(r"\ ", r"[\s\-']+")


def matches(values: pl.Series, pattern: str) -> pl.Series:
    """Vectorised: which values, folded, contain a match of a :func:`words_pattern`."""
    return pl.DataFrame({"v": values}).select_seq(
        fold(pl.col("v")).str.contains(pattern).alias("m"))["m"]


@cache
def _json(name: str) -> dict[str, Any]:
    return json.loads((LEXICON_DIR / name).read_text(encoding="utf-8"))


def value_terms(key: str) -> list[str]:
    """A list from ``values.json`` (medication, procedure, ethnic_origin, ...)."""
    return list(_json("values.json")[key])


@cache
def word_list(name: str) -> pl.Series:
    """``first_names``, ``last_names`` or ``cities``: lower case, accents removed."""
    lines = (LEXICON_DIR / f"{name}.txt").read_text(encoding="utf-8").splitlines()
    return pl.Series(name, [ln for ln in lines if ln and not ln.startswith("#")])


@cache
def us_zip_areas() -> dict[str, str]:
    """US state code -> the first ZIP digits (USPS national areas) it may take."""
    areas: dict[str, str] = {}
    for digit, states in _json("us_zip_areas.json").items():
        if not digit.startswith("$"):
            for state in states:
                areas[state] = areas.get(state, "") + digit
    return areas


@cache
def health_pattern() -> str:
    """Whole-word health vocabulary of every language, as one regex."""
    terms = [t for lang, words in _json("health_terms.json").items()
             if not lang.startswith("$") for t in words]
    return words_pattern(terms)


_PLAIN = {"a": "àáâãäå", "e": "èéêë", "i": "ìíîï", "o": "òóôõö", "u": "ùúûü", "c": "ç",
          "n": "ñ", "y": "ÿý"}
_FOLD_FROM = [ch for chars in _PLAIN.values() for ch in chars] + ["ß"]
_FOLD_TO = [plain for plain, chars in _PLAIN.items() for _ in chars] + ["ss"]


def fold(col: pl.Expr) -> pl.Expr:
    """Lower case without accents, vectorised (one Aho-Corasick pass), to match word lists."""
    return col.str.to_lowercase().str.replace_many(_FOLD_FROM, _FOLD_TO)
