"""The one interface every detector implements.

A detector recognises one kind of column (one category, maybe one subtype) from
two kinds of evidence, which :class:`~triage.detect.table.TableDetector` combines:

* its *header* lexicon key (``headers``): header names in many languages, kept as
  data in ``triage/detect/lexicons/headers.json``;
* its *values*: a cheap vectorised :meth:`Detector.prefilter` (a polars
  expression: shape only) run over a column's sample, then
  :meth:`Detector.validate` (check digits, parsing, lexicons) on the candidates
  only, then :meth:`Detector.plausible`, a column-level test that a set of valid
  values looks like the category (version strings are valid IPv4 one by one,
  but not as a column).

A few detectors also read a column's *context* (:meth:`Detector.in_context`): how
its values go with the other columns of the same sampled rows, once every column
has a first verdict. A column's shape alone cannot tell an insurer's member number
from the table's own record key, nor a bare 4-digit act code from any number; what
they depend on, and what depends on them, can (``triage/detect/context.py``).

A detector never keeps, logs or returns raw values: it returns booleans and
numbers, and :meth:`Detector.evidence` adds shares, never examples.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import polars as pl

if TYPE_CHECKING:
    from collections.abc import Mapping

    from triage.detect.context import TableContext
    from triage.detect.headers import HeaderMatch


#: ``header_min_share`` of the single-word list detectors (family and given names,
#: cities): no list holds every family name or commune of a country, so under their
#: header a column needs only some known words beside the shape (a header alone would
#: take a products table's ``nom`` for people). Not full names: a product's words
#: ("Urban Black Jacket") hit a given and a family name often enough.
LEXICON_HEADER_MIN_SHARE = 0.1


class Detector:
    """Base class: subclass, set the class attributes, override what differs."""

    #: Stable id; equals the module name under ``triage/detect/detectors/``.
    id: ClassVar[str]
    #: A category id from ``schemas/categories.json``.
    category: ClassVar[str]
    #: A subtype listed under that category, or None.
    subtype: ClassVar[str | None] = None
    #: Key into the header lexicon (several detectors may share one).
    headers: ClassVar[str]
    #: Further lexicon keys whose headers count as this detector's own: for a
    #: header-only scheme that generic headers name too (keyless NIRs under
    #: ``social_security_number`` or ``national_id``). Empty for nearly all.
    more_headers: ClassVar[tuple[str, ...]] = ()
    #: Whether values alone may decide the column (False: header evidence needed).
    values_decide: ClassVar[bool] = True
    #: Share of sampled non-empty values that must validate for values alone to
    #: claim the column. High because one value must never relabel a column.
    min_value_share: ClassVar[float] = 0.8
    #: With a matching header, the share of values that must validate; below it
    #: the values contradict the header (a ``num_secu`` column of free text).
    header_min_share: ClassVar[float] = 0.3
    #: With a matching header, the share of values that must at least have the
    #: shape (:meth:`prefilter`); what matters most for lexicon-based detectors, whose
    #: word lists can never be complete (a ``ville`` column of small communes).
    header_min_shape: ClassVar[float] = 0.3
    #: Weight of this detector's value evidence: below 1 for catch-all shapes (record
    #: keys) that any specific detector with a check should beat.
    value_weight: ClassVar[float] = 1.0
    #: Tie-break between equal scores: the more specific check wins.
    priority: ClassVar[int] = 50
    #: True when :meth:`validate` loops in Python (python-stdnum, phonenumbers): the
    #: table then validates a bounded number of candidates and extrapolates the rate.
    costly: ClassVar[bool] = False
    #: First verdicts (category ids, None for no category) that :meth:`in_context` may
    #: take over, on columns whose header matched nothing; empty: no context claim.
    context_takes: ClassVar[frozenset[str | None]] = frozenset()
    #: The share a context claim's relations must reach (``context_share``); scaled to
    #: a strength the way a valid share is scaled against ``min_value_share``.
    context_min_share: ClassVar[float] = 0.9

    def header_match(self, matches: Mapping[str, HeaderMatch]) -> HeaderMatch | None:
        """The best of this detector's header keys among a header's ``match_header``."""
        if not self.more_headers:
            return matches.get(self.headers)
        found = [matches[key] for key in (self.headers, *self.more_headers) if key in matches]
        return max(found, key=lambda match: match.score, default=None)

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        """A vectorised, cheap shape test over (stripped) values: True = candidate."""
        return col.is_not_null()

    def validate(self, values: pl.Series) -> pl.Series:
        """Validate candidates (they passed :meth:`prefilter`): a boolean Series."""
        return pl.Series(values.name, [True] * len(values), dtype=pl.Boolean)

    def plausible(self, valid: pl.Series, sample_size: int) -> float:
        """A factor in [0, 1]: does this set of valid values look like the category?"""
        return 1.0

    def special_category(self, valid: pl.Series) -> bool | None:
        """Override to decide GDPR Art. 9 from values (a URL with health terms).

        None means: take the category's flag from the taxonomy.
        """
        return None

    def evidence(self, valid: pl.Series) -> dict[str, float | int | str]:
        """Extra column-level evidence: shares and counts only, never values."""
        return {}

    def in_context(self, column: str, table: TableContext) -> dict[str, Any] | None:
        """Claim ``column`` from its relations to the other columns of its table.

        Asked only for columns without a header match whose first verdict is in
        :attr:`context_takes`. Returns None, or the claim's evidence: shares and
        counts only, among them ``context_share``, the weakest of the relations the
        claim rests on (at least :attr:`context_min_share`), which sets its confidence.
        A claim replaces the first verdict, which stays as an alternative.
        """
        return None


def regex_validator(values: pl.Series, pattern: str) -> pl.Series:
    """Vectorised full-match test, for validators that are patterns."""
    return values.str.contains(pattern)


def checksum_validator(values: pl.Series, is_valid) -> pl.Series:  # type: ignore[no-untyped-def]
    """Apply a per-value check (python-stdnum's ``is_valid``) to a small candidate set."""
    return pl.Series(values.name, [bool(is_valid(v)) for v in values.to_list()],
                     dtype=pl.Boolean)
