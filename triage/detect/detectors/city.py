"""City and commune names: a lexicon, plus the hyphenated shapes of French communes."""

from __future__ import annotations

import polars as pl

from triage.detect.base import LEXICON_HEADER_MIN_SHARE, Detector
from triage.detect.vocab import fold, word_list

# Whole values only: "Saint-Jean-de-Braye", "Pacy-sur-Eure", "Frankfurt am Main",
# "North Vanessa", "Brownhaven" — never a longer text that merely names a town.
_COMMUNE_SHAPE = (
    r"(?i)^(?:(?:saint|sainte|st|ste|le|la|les|l')[\s\-]\p{L}[\p{L}'\-]*"
    r"|\p{L}+(?:-\p{L}+)*[\s\-](?:sur|sous|en|les|lès|de|du|des|la|le|am|an der|bei|im)"
    r"[\s\-]\p{L}[\p{L}'\-]*"
    r"|(?:north|south|east|west|new|lake|port|mount|fort)\s\p{L}+"
    r"|\p{L}+(?:haven|port|ville|town|burgh|borough|side|view|land|mouth|furt|berg|burg|"
    r"chester|bury|field|ton|ford|fort|stad|shire|stadt|hausen|heim|dorf|ingen|feld|bach|ham))$")


class City(Detector):
    id = "city"
    category = "city"
    headers = "city"
    priority = 30
    min_value_share = 0.7
    header_min_share = LEXICON_HEADER_MIN_SHARE

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(r"^\p{L}[\p{L}\s\-'.]{1,48}$")

    def validate(self, values: pl.Series) -> pl.Series:
        folded = pl.DataFrame({"v": values}).select_seq(fold(pl.col("v")).alias("f"))["f"]
        return folded.is_in(word_list("cities").implode()) | values.str.contains(_COMMUNE_SHAPE)

    def plausible(self, valid: pl.Series, sample_size: int) -> float:
        # Residents share towns: a city column repeats (a list of distinct names,
        # streets or companies, mostly does not).
        return 1.0 if valid.n_unique() <= 0.9 * len(valid) or len(valid) < 30 else 0.6


DETECTOR = City()
