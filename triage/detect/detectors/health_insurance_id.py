"""A health-insurance member number (mutuelle, insurer, EHIC): by header, or by context.

Member numbers have no common check digit (the German KVNR, which has one, is its
own detector) and no common shape: ``MU731480168``, ``M335020874``,
``XGH792232555`` look exactly like the record keys of the same export
(``F019762668``, ``MRN22836073``). Without a header, the values alone read as a
record key; the table around them tells the two apart (:meth:`in_context`):

* the table's own keys lead it; a member number sits among the person's data;
* a member number follows the person: rows of the same person (same national id,
  phone, e-mail, cookie, name) carry the same number, and rows with the same
  number the same person (same birth date, name). A sample number or an invoice
  number changes from visit to visit; a doctor's or a site's code is shared by
  many people;
* it belongs to health data: a number of the person's insurer sits in tables of
  visits, results, prescriptions, health searches; elsewhere such a number is
  more likely a customer or account number, and stays a record key.

In a large file people rarely come back within the few thousand sampled rows, so
the first two relations cannot be measured. A member number is then recognised by
what a key never is: often empty (it is recorded only for people who have, and
give, one), while the table's key is always filled. That weaker rule gives a
confidence at the threshold only.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from triage.detect.base import Detector
from triage.detect.context import TableContext
from triage.detect.detectors.record_id import KEY

#: Columns that identify one person, which a member number must follow.
PERSON_KEYS = ("national_id", "email", "phone", "online_id", "full_name")
#: A person's traits, which a member number determines.
PERSON_TRAITS = ("national_id", "birth_date", "full_name", "last_name", "first_name", "email",
                 "phone")
#: Fewest sampled values a rule on a column's own values needs.
MIN_VALUES = 20
#: Share of sampled rows without a value from which a key-shaped column is optional.
OPTIONAL = 0.05
#: Least distinct share of a member number's sampled values when people do not repeat.
DISTINCT = 0.9
#: Share of a column's values with the key shape, for a column no detector typed.
KEY_SHARE = 0.9


class HealthInsuranceId(Detector):
    id = "health_insurance_id"
    category = "health_insurance_id"
    headers = "health_insurance_id"
    values_decide = False
    priority = 20
    # Without its header, a member number reads as a record key by its shape, or as
    # nothing when it repeats too much for one (a member's many events in a log).
    context_takes = frozenset({"record_id", None})
    context_min_share = 0.9

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(r"^[A-Za-z0-9][A-Za-z0-9 .\-/]{3,29}$") & col.str.contains(r"\d")

    def in_context(self, column: str, table: TableContext) -> dict[str, Any] | None:
        if column in table.leading_keys or not table.holds_health_data(but=column):
            return None
        keys = table.columns_of(PERSON_KEYS, but=column)
        traits = table.columns_of(PERSON_TRAITS, but=column)
        if not keys and not traits:
            return None  # no person in the table for the number to belong to
        if table.category(column) is None:
            n, keyed = table.shape_share(KEY, column)
            if n < MIN_VALUES or keyed < KEY_SHARE:
                return None
        filled = table.filled_share(column)
        enough = self.context_min_share
        follows = table.supported_dependency(keys, [column], enough)  # same person, same number
        if follows.holds and follows.share < enough:
            return None  # people come back, the number does not follow them
        points = table.supported_dependency([column], traits, enough)  # same number, same person
        if points.holds and points.share < enough:
            return None  # a number shared by several people
        if follows.holds and points.holds:
            return {"context": "follows_the_person",
                    "context_share": min(follows.share, points.share),
                    "context_groups": min(follows.groups, points.groups),
                    "filled_share": round(filled, 4)}
        # Too few people come back in the sample to tell (a large file): neither may
        # their numbers (a code shared by many, a site's or a doctor's, repeats anyway).
        values = table.values(column).drop_nulls()
        if (len(values) >= MIN_VALUES and 1 - filled >= OPTIONAL
                and values.n_unique() >= DISTINCT * len(values)):
            return {"context": "optional_beside_person_data",
                    "context_share": enough, "context_groups": 0,
                    "filled_share": round(filled, 4)}
        return None


DETECTOR = HealthInsuranceId()
