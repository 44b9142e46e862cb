"""Street addresses: a number and a street word, in the orders the languages use."""

from __future__ import annotations

from functools import cache

import polars as pl

from triage.detect.base import Detector
from triage.detect.vocab import accent_tolerant, value_terms

# Street names written as one word with the street type at its end (Nordic, Finnish and
# Hungarian ones too: "Midgårdsvej", "Stationsgatan", "Mannerheimintie").
_SUFFIX_STREETS = (r"(?:stra(?:ss|ß)e|str\.|weg|gasse|platz|allee|ring|damm|laan|straat|plein|gracht"
                   r"|kade|vej|gade|gatan|v[äa]gen|stigen|gr[äa]nd|torget|gata|veien|vegen|gate"
                   r"|katu|tie|kuja|utca)")


# Address complements (second address line): flat, building, residence, PO box.
_COMPLEMENT_WORDS = (r"^(?:appt|apt|appartement|apartment|flat|suite|unit|b[aâ]t|b[aâ]timent|building|"
               r"r[ée]sidence|escalier|esc|[ée]tage|floor|lieu[\s\-]dit|bp|cs|po box|"
               r"wohnung|whg|hinterhaus|vorderhaus|etage|stock|og)\.?\s+\S")
_COMPLEMENT = rf"(?i){_COMPLEMENT_WORDS}"


@cache
def address_pattern() -> str:
    words = "|".join(sorted({accent_tolerant(w) for w in value_terms("street_words")},
                            key=len, reverse=True))
    number_first = rf"^\d{{1,5}}\s?[A-Za-z]?(?:\s?(?:bis|ter))?,?\s+(?:{words})\.?\s+\S"
    name_first = rf"\p{{L}}{_SUFFIX_STREETS}\s*\d{{1,4}}\s?[A-Za-z]?$|[\s\-]{_SUFFIX_STREETS}\s*\d{{1,4}}"
    # US and UK order: "93 Smith Glen", "11 Caroline Spurs", "4 Mill Lane".
    suffix_last = rf"^\d{{1,5}}[A-Za-z]?\s+\p{{L}}[\p{{L}}'.\-]*(?:\s\p{{L}}[\p{{L}}'.\-]*)*\s(?:{words})\.?$"
    word_first = rf"^(?:{words})\.?\s+\S.*\s\d{{1,4}}[A-Za-z]?$"
    return rf"(?i){number_first}|{name_first}|{suffix_last}|{word_first}|{_COMPLEMENT_WORDS}"


class PostalAddress(Detector):
    id = "postal_address"
    category = "postal_address"
    headers = "postal_address"
    priority = 50
    min_value_share = 0.7

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(r"\p{L}{2}") & col.str.contains(r"\s") & (
            col.str.contains(r"\d") | col.str.contains(_COMPLEMENT))

    def validate(self, values: pl.Series) -> pl.Series:
        return values.str.contains(address_pattern())


DETECTOR = PostalAddress()
