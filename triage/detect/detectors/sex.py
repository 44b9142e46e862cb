"""Sex or gender: a handful of codes or words (M/F, H/F, homme/femme, männlich/weiblich …)."""

from __future__ import annotations

import polars as pl

from triage.detect.base import Detector
from triage.detect.vocab import fold

SEX_VALUES = [
    "m", "f", "h", "w", "d", "x", "u", "male", "female", "homme", "femme", "masculin", "feminin",
    "man", "woman", "men", "women", "mann", "frau", "mannlich", "weiblich", "divers", "hombre",
    "mujer", "masculino", "femenino", "femmina", "maschio", "uomo", "donna", "maschile",
    "femminile", "vrouw", "man", "jongen", "meisje", "mulher", "homem", "other", "autre",
    "unknown", "inconnu", "unbekannt", "non binaire", "non binary", "nonbinary", "mr", "mrs",
    "ms", "miss", "m.", "mme", "mlle", "monsieur", "madame", "mademoiselle", "herr", "sr", "sra",
    "sig", "sig.ra", "dhr", "mevr", "1", "2", "0", "9",
]


class Sex(Detector):
    id = "sex"
    category = "sex"
    headers = "sex"
    priority = 45

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return (col.str.len_bytes() <= 16) & fold(col).str.strip_chars(". ").is_in(SEX_VALUES)

    def plausible(self, valid: pl.Series, sample_size: int) -> float:
        distinct = valid.n_unique()
        if distinct > 6 or (distinct < 2 and sample_size >= 50):
            return 0.0
        # "1"/"2" is also any binary flag: digits alone need the header.
        digits_only = float(valid.str.contains(r"^\d$").mean() or 0.0)
        return 0.5 if digits_only > 0.5 else 1.0


DETECTOR = Sex()
