"""Geographic coordinates: "lat, lon" pairs, or one coordinate with ≥ 4 decimals.

Four or more decimals (about 10 m) is what a GPS fix writes; prices and lab
values have two.
"""

from __future__ import annotations

import polars as pl

from triage.detect.base import Detector

_COORD = r"-?\d{1,3}\.\d{4,}"


class Geolocation(Detector):
    id = "geolocation"
    category = "geolocation"
    headers = "geolocation"
    priority = 60

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(rf"^\(?{_COORD}(?:\s*[,;\s]\s*{_COORD})?\)?$") | col.str.contains(
            rf"^POINT\s*\({_COORD}\s+{_COORD}\)$")

    def validate(self, values: pl.Series) -> pl.Series:
        numbers = values.str.extract_all(_COORD).list.eval(pl.element().cast(pl.Float64))
        first = numbers.list.first()
        return (numbers.list.eval(pl.element().abs() <= 180).list.all()
                & (first.abs() <= 180)).fill_null(False)

    def plausible(self, valid: pl.Series, sample_size: int) -> float:
        # Many people, many places: coordinates rarely repeat exactly.
        return 1.0 if valid.n_unique() >= 0.3 * len(valid) else 0.5


DETECTOR = Geolocation()
