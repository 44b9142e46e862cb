"""References to photos, videos, scans: file names, paths or URLs with a media extension."""

from __future__ import annotations

from functools import cache

import polars as pl

from triage.detect.base import Detector
from triage.detect.vocab import value_terms


@cache
def media_pattern() -> str:
    extensions = "|".join(value_terms("media_extensions"))
    return rf"(?i)^[^\s]*[^\s/\\]\.(?:{extensions})(?:[?#][^\s]*)?$"


class MediaRef(Detector):
    id = "media_ref"
    category = "media_ref"
    headers = "media_ref"
    priority = 70

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(r"\.[A-Za-z0-9]{2,5}(?:[?#]\S*)?$")

    def validate(self, values: pl.Series) -> pl.Series:
        return values.str.contains(media_pattern())


DETECTOR = MediaRef()
