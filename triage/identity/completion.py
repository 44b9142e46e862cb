"""Value completions: what a column's values lack for their canonical form to be the
one a victim will look up, put back before canonicalisation.

Not a canonical form (those are in :mod:`triage.identity.canonical`, versioned, and
apply to every value of a kind, lookups included): a completion applies only to the
columns whose detection verdict asks for it (``IdentifierPlan.completion``), because
only the column as a whole says what its values are. Thirteen digits alone may be a
keyless NIR or a Romanian CNP; in a column detected as keyless NIRs they are the
former, and the index must hold the digest of the full 15-character NIR.

Each completion is a vectorised polars expression over ``pl.col("v")``: the scan runs
it over every row of the column, batch by batch.
"""

from __future__ import annotations

import polars as pl

# Python's str.strip() whitespace among ASCII, as the national-id canonical form strips.
_ASCII_WS = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
#: The NIR less its key, compacted and upper-cased (Corsica: 2A/2B as département).
_NIR_13 = r"^[1-478][0-9]{4}(?:[0-9]{2}|2[AB])[0-9]{6}$"


def _fr_nir_key() -> pl.Expr:
    """A 13-character NIR -> its 15 characters, the key appended: 97 - (number mod 97),
    Corsica's 2A read as 19 and 2B as 18 (``stdnum.fr.nir.calc_check_digits``).

    Only values whose compact form (the separators the national-id form drops removed,
    upper case) is a keyless NIR change, to that compact form and its key; every other
    value, a full 15-character NIR included, is left exactly as it is, for the
    canonical form to decide.
    """
    v = pl.col("v")
    compact = (v.str.replace_all(r"[ \-./:]", "").str.strip_chars(_ASCII_WS)
               .str.to_uppercase())
    departement = compact.str.slice(5, 2).replace({"2A": "19", "2B": "18"})
    number = (compact.str.slice(0, 5) + departement + compact.str.slice(7, 6)).str.to_integer(
        base=10, strict=False)
    key = (97 - number % 97).cast(pl.String).str.zfill(2)
    return pl.when(compact.str.contains(_NIR_13)).then(compact + key).otherwise(v)


#: Completion name (``IdentifierPlan.completion``) -> its expression over ``pl.col("v")``.
COMPLETIONS = {
    "fr_nir_key": _fr_nir_key,
}
#: Detector id -> the completion its verdict asks of the scan.
DETECTOR_COMPLETIONS = {
    "fr_nir_keyless": "fr_nir_key",
}


def complete(name: str, values: pl.Series) -> pl.Series:
    """``values`` (String) completed by the completion ``name``, same length and name."""
    return (pl.DataFrame({"v": values.cast(pl.String)}).lazy()
            .select(COMPLETIONS[name]().alias("v")).collect()["v"].alias(values.name))
