"""Web addresses; special category when their path or query carries health terms.

Incident 3 (search keywords sent to advertisers) and 4 (tracking pixels) leak health
through URLs: ``/search?q=psychiatre+paris``. Query strings are URL-decoded before
the health lexicon is applied.
"""

from __future__ import annotations

import polars as pl

from triage.detect.base import Detector
from triage.detect.vocab import health_pattern, matches

#: Share of URLs with a health term from which the column is special-category data.
HEALTH_URL_SHARE = 0.05


def _decoded_path_and_query(values: pl.Series) -> pl.Series:
    rest = values.str.replace(r"^[A-Za-z][A-Za-z0-9+.\-]*://[^/?#]*", "")
    # '+', '%20' and separators become spaces so whole-word matching sees the terms.
    return rest.str.replace_all(r"%20|\+|[/?&=_\-.]|%2[BCF]", " ").str.replace_all(
        r"%C3%A9", "é").str.replace_all(r"%C3%A8", "è")


class Url(Detector):
    id = "url"
    category = "url"
    headers = "url"
    priority = 55

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(r"(?i)^(?:https?://|www\.)[^\s]+$")

    def validate(self, values: pl.Series) -> pl.Series:
        return values.str.contains(r"(?i)^(?:https?://)?[a-z0-9\-]+(?:\.[a-z0-9\-]+)+(?::\d+)?(?:[/?#]|$)")

    def _health_share(self, valid: pl.Series) -> float:
        if len(valid) == 0:
            return 0.0
        return float(matches(_decoded_path_and_query(valid), health_pattern()).mean() or 0.0)

    def special_category(self, valid: pl.Series) -> bool | None:
        return self._health_share(valid) >= HEALTH_URL_SHARE

    def evidence(self, valid: pl.Series) -> dict[str, float | int | str]:
        return {"health_term_share": round(self._health_share(valid), 4)}


DETECTOR = Url()
