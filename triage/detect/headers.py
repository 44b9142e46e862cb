"""Header evidence: a column name, normalised, matched against the header lexicon.

Matching is on whole tokens, never on substrings of words (``passport`` does not
contain the token ``pass``; ``page`` does not contain ``age``), with one
exception for compound words (German ``Patientengeburtsdatum``): a lexicon
entry of at least :data:`MIN_COMPOUND` letters may match inside a header word.
When several keys match, the longest matched phrase wins (``nom_medecin`` is a
practitioner, not a ``nom``); the others keep a reduced score so that strong
value evidence can still overrule them.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

LEXICON_DIR = Path(__file__).resolve().parent / "lexicons"

#: Words dropped before matching: articles and prepositions of the 7 languages.
STOP_WORDS = frozenset({
    "de", "du", "des", "d", "la", "le", "l", "les", "of", "the", "a", "an", "der", "die", "das",
    "dem", "den", "von", "vom", "del", "di", "dei", "da", "do", "dos", "van", "het", "een", "y",
    "et", "and", "und", "e", "en",
})
#: Shortest lexicon entry, in letters, that may match inside a compound word.
MIN_COMPOUND = 7
#: Score of a key that matched, but less well than the best key.
RUNNER_UP_FACTOR = 0.6

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_DIGITS_SUFFIX = re.compile(r"^([a-z]+?)(\d+)$")


def normalise(header: str) -> tuple[str, ...]:
    """Header -> tokens: accents removed, camelCase split, lower case, no stop words."""
    text = _CAMEL.sub(" ", header)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("ß", "ss").lower()
    tokens = []
    for raw in _NON_ALNUM.split(text):
        if not raw:
            continue
        # "adresse1", "tel2": the number tells one of several columns apart.
        split = _DIGITS_SUFFIX.match(raw)
        word = split.group(1) if split and len(split.group(1)) > 1 else raw
        if word not in STOP_WORDS:
            tokens.append(word)
    return tuple(tokens)


@dataclass(frozen=True)
class HeaderMatch:
    """The best lexicon key for a header, and how it matched."""

    key: str
    score: float
    how: str  # "exact" | "phrase" | "compound"
    language: str
    matched_tokens: int

    def to_dict(self) -> dict[str, object]:
        return {"key": self.key, "score": round(self.score, 3), "match": self.how,
                "language": self.language}


@dataclass(frozen=True)
class _Entry:
    key: str
    language: str
    tokens: tuple[str, ...]
    compact: str


@cache
def _lexicon() -> tuple[list[_Entry], frozenset[tuple[str, ...]], dict[str, frozenset[str]]]:
    raw = json.loads((LEXICON_DIR / "headers.json").read_text(encoding="utf-8"))
    entries = []
    for key, languages in raw.items():
        if key.startswith("$"):
            continue
        for language, headers in languages.items():
            for header in headers:
                tokens = normalise(header)
                if tokens:
                    entries.append(_Entry(key, language, tokens, "".join(tokens)))
    friends = json.loads((LEXICON_DIR / "false_friends.json").read_text(encoding="utf-8"))
    never = frozenset(normalise(phrase) for phrase in friends["never"])
    block = {key: frozenset(words) for key, words in friends["block"].items()}
    return entries, never, block


def lexicon_keys() -> set[str]:
    """Every key of the header lexicon."""
    return {entry.key for entry in _lexicon()[0]}


def _contains(tokens: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(tokens[i:i + n] == phrase for i in range(len(tokens) - n + 1))


def _masked(tokens: tuple[str, ...], never: frozenset[tuple[str, ...]]) -> tuple[str, ...]:
    """Replace false-friend phrases by a placeholder so nothing matches inside them."""
    out = list(tokens)
    for phrase in never:
        n = len(phrase)
        for i in range(len(out) - n + 1):
            if tuple(out[i:i + n]) == phrase:
                out[i:i + n] = ["\x00"] * n
    return tuple(out)


@cache
def match_header(header: str) -> dict[str, HeaderMatch]:
    """Every lexicon key the header matches, best first; computed once per name."""
    entries, never, block = _lexicon()
    tokens = _masked(normalise(header), never)
    if not tokens or all(t == "\x00" for t in tokens):
        return {}
    compact = "".join(t for t in tokens if t != "\x00")
    token_set = set(tokens)
    best: dict[str, HeaderMatch] = {}
    for entry in entries:
        if entry.tokens[0] not in token_set and (len(entry.compact) < MIN_COMPOUND
                                                  or entry.compact not in compact):
            continue  # cheap rejection: most entries share no word with the header
        if token_set & block.get(entry.key, frozenset()):
            continue
        if tokens == entry.tokens or (len(entry.compact) >= 4 and compact == entry.compact):
            how, weight = "exact", 1.0
        elif _contains(tokens, entry.tokens):
            covered = sum(len(t) for t in entry.tokens) / max(len(compact), 1)
            how, weight = "phrase", 0.7 + 0.25 * covered
        elif len(entry.compact) >= MIN_COMPOUND and entry.compact in compact:
            how, weight = "compound", 0.6 + 0.3 * len(entry.compact) / len(compact)
        else:
            continue
        found = HeaderMatch(entry.key, weight, how, entry.language, len(entry.compact))
        previous = best.get(entry.key)
        if previous is None or (found.score, found.matched_tokens) > (previous.score,
                                                                      previous.matched_tokens):
            best[entry.key] = found
    if not best:
        return {}
    # The longest matched phrase is the most specific; ties go to the better match.
    ranked = sorted(best.values(), key=lambda m: (m.matched_tokens, m.score), reverse=True)
    top = ranked[0]
    result = {top.key: top}
    for other in ranked[1:]:
        result[other.key] = HeaderMatch(other.key, other.score * RUNNER_UP_FACTOR, other.how,
                                        other.language, other.matched_tokens)
    return result
