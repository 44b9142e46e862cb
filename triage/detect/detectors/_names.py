"""Shared name tests: given-name and family-name lexicons, vectorised."""

from __future__ import annotations

import polars as pl

from triage.detect.vocab import fold, word_list

NAME_TOKEN = r"\p{L}[\p{L}'\-]*\.?"
#: Courtesy titles and doctors' titles that may precede a name.
TITLES = r"(?i)^(?:dr|docteur|doctor|doc|pr|prof|professeur|professor|m|mme|mlle|mr|mrs|ms|herr|frau|sr|sra|sig)\.?\s+"


def _folded_tokens(values: pl.Series) -> pl.Series:
    frame = pl.DataFrame({"v": values})
    return frame.select_seq(
        fold(pl.col("v")).str.replace(TITLES, "").str.replace_all(r"[^a-z'\- ]", " ")
        .str.strip_chars().str.split(" ").list.eval(pl.element().filter(pl.element() != ""))
        .alias("t"))["t"]


def in_lexicon(values: pl.Series, lexicon: str) -> pl.Series:
    """True where the (single, maybe hyphenated) name is in a name list."""
    tokens = _folded_tokens(values)
    first_part = tokens.list.first().str.split("-").list.first()
    names = word_list(lexicon).implode()
    return (tokens.list.len() == 1) & (tokens.list.first().is_in(names) | first_part.is_in(names))


def full_name_hits(values: pl.Series) -> pl.Series:
    """True where 2-4 tokens hold a given name and a family name."""
    tokens = _folded_tokens(values)
    firsts = word_list("first_names").implode()
    lasts = word_list("last_names").implode()
    has_first = tokens.list.eval(pl.element().is_in(firsts)).list.any()
    has_last = tokens.list.eval(pl.element().is_in(lasts)).list.any()
    return tokens.list.len().is_between(2, 4) & has_first & has_last
