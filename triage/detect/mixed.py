"""Columns that hold one of several kinds row by row: a ``contact`` column of e-mail
addresses and phone numbers, as sign-up forms that take either write it.

No single detector claims such a column, since neither kind reaches its share, yet
every row of it identifies someone. A :class:`Mixture` pools the valid shares of its
parts' detectors, and names the rule that tells each row's kind. Detection gives the
column the larger part's category and lists the others (``mixed_with``); the scan
splits the column by the rule, so that each row is hashed, indexed and counted as
its own kind.

A mixture needs parts a row rule can tell apart exactly: an e-mail address holds an
``@``, a phone number never does and has a phone's shape (the phone detector's
prefilter); a row that is neither (``N/A``, ``-``, a note) belongs to no part, so it
is neither hashed nor counted as an exposure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from triage.detect.detectors.phone import DETECTOR as PHONE


@dataclass(frozen=True)
class Mixture:
    """Detectors whose values may share one column, and how to tell each row's kind."""

    #: Key into the header lexicon for the mixture itself ("contact").
    headers: str
    #: The parts' detector ids, which are also their categories.
    parts: tuple[str, ...]
    #: category -> a test over a column's values: True where a row is of that category.
    rows_of: dict[str, Callable[[pl.Expr], pl.Expr]]


def _has_at(values: pl.Expr) -> pl.Expr:
    return values.str.contains("@", literal=True)


CONTACT = Mixture(
    headers="contact",
    parts=("email", "phone"),
    rows_of={"email": _has_at,
             "phone": lambda values: ~_has_at(values) & PHONE.prefilter(values.str.strip_chars())},
)

MIXTURES = (CONTACT,)

#: Least valid share of a column's sampled values that each part must hold: below
#: it, the minority is typing noise, not a kind of row.
MIN_PART_SHARE = 0.05
#: Pooled valid share that lets values alone claim the column (an e-mail column's own).
MIN_POOLED_SHARE = 0.8
#: Pooled valid share enough under a header of the mixture or of one of its parts.
HEADER_MIN_POOLED_SHARE = 0.3
#: A part whose values look less like their kind than this as a set (a part of bare
#: digits: customer or member numbers as often as phones) counts only under a header
#: of the mixture or of that part: an e-mail column with some customer numbers is no
#: contact column.
MIN_PART_PLAUSIBILITY = 0.9


def mixture_of(categories: tuple[str, ...]) -> Mixture:
    """The mixture whose parts are exactly ``categories`` (in any order)."""
    for mixture in MIXTURES:
        if set(mixture.parts) == set(categories):
            return mixture
    raise ValueError("no mixture of these categories")


def part_values(mixture: Mixture, category: str, values: pl.Expr) -> pl.Expr:
    """``values`` where a row is of ``category`` and holds something, null elsewhere."""
    filled = values.str.strip_chars().str.len_bytes() > 0
    return pl.when(filled & mixture.rows_of[category](values)).then(values)
