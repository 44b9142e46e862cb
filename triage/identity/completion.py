"""Value completions: what a column's values lack for their canonical form to be the
one a victim will look up, put back before canonicalisation.

Not a canonical form (those are in :mod:`triage.identity.canonical`, versioned, and
apply to every value of a kind, lookups included): a completion applies only to the
columns whose detection verdict asks for it (``IdentifierPlan.completion``), by its
detector or its category, because only the column as a whole says what its values
are. Thirteen digits alone may be a keyless NIR or a Romanian CNP; in a column
detected as keyless NIRs they are the former, and the index must hold the digest of
the full 15-character NIR. An e-mail column may write its addresses as a mail header
or a link does (``"Dupont, Jean" <jean@x.fr>``, ``mailto:jean@x.fr``); the victim
looks up ``jean@x.fr``, so the index must hold that address's digest.

Each completion is vectorised (polars expressions, no Python per row): the scan runs
it over every row of the column, batch by batch.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl

from triage.detect.detectors.email import address

# Python's str.strip() whitespace among ASCII, as the national-id canonical form strips.
_ASCII_WS = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
#: The NIR less its key, compacted and upper-cased (Corsica: 2A/2B as département).
_NIR_13 = r"^[1-478][0-9]{4}(?:[0-9]{2}|2[AB])[0-9]{6}$"
#: The same written as 13 bare digits: what nearly every value of such a column is.
_DIGITS_13 = r"^[1-478][0-9]{12}$"


def _fr_nir_key_expr() -> pl.Expr:
    """A 13-character NIR -> its 15 characters, over ``pl.col("v")``, any value.

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


def _fr_nir_key(values: pl.Series) -> pl.Series:
    """Keyless NIRs with their key appended: 97 - (number mod 97), Corsica's 2A read as
    19 and 2B as 18 (``stdnum.fr.nir.calc_check_digits``); see :func:`_fr_nir_key_expr`.

    Bare 13-digit values take integer arithmetic (the full NIR is number × 100 + key);
    only the others of 13 bytes or more (separators, lower case, Corsica's letters,
    full NIRs) take the string expression: 28,000 keyless NIRs, 0.5 % of them Corsican,
    took 3.7-4.7 ms this way and ~20 ms through the string expression alone.
    """
    v = pl.col("v")
    number = v.str.to_integer(strict=False)
    done = (pl.DataFrame({"v": values}).lazy()
            .with_columns(plain=v.str.contains(_DIGITS_13).fill_null(False))
            .select("plain", out=pl.when("plain")
                    .then((number * 100 + 97 - number % 97).cast(pl.String)).otherwise(v))
            .collect())
    out = done["out"]
    rest = np.flatnonzero((~done["plain"] & (values.str.len_bytes() >= 13)).fill_null(False)
                          .to_numpy())
    if len(rest):
        out = out.scatter(rest, pl.DataFrame({"v": values.gather(rest)})
                          .select(_fr_nir_key_expr())["v"])
    return out


#: A value an e-mail column writes as a header or a link does, not as a bare address.
_WRITTEN_EMAIL = r"[<>]|(?i)^\s*mailto:"


def _email_address(values: pl.Series) -> pl.Series:
    """The address out of each value written ``Name <address>`` or ``mailto:address``
    (as the e-mail detector reads it); every other value as it is. Only the rows that
    hold a ``<``, a ``>`` or the scheme are rewritten: one scan of the column for
    the rest (0.44 ms for the 28,500 addresses of a batch of the lab export)."""
    # A character class first (cheap), the scheme only where a colon is.
    written = np.flatnonzero(values.str.contains(r"[<>:]").fill_null(False).to_numpy())
    if len(written):
        written = written[values.gather(written).str.contains(_WRITTEN_EMAIL).to_numpy()]
    if not len(written):
        return values
    unwrapped = pl.DataFrame({"v": values.gather(written)}).select(address(pl.col("v")))["v"]
    return values.scatter(written, unwrapped)


#: Completion name (``IdentifierPlan.completion``) -> its function of a String Series.
COMPLETIONS: dict[str, Callable[[pl.Series], pl.Series]] = {
    "fr_nir_key": _fr_nir_key,
    "email_address": _email_address,
}
#: Detector id -> the completion its verdict asks of the scan.
DETECTOR_COMPLETIONS = {
    "fr_nir_keyless": "fr_nir_key",
}
#: Category -> the completion every column of it gets (a mixed column's part included).
CATEGORY_COMPLETIONS = {
    "email": "email_address",
}


def complete(name: str, values: pl.Series) -> pl.Series:
    """``values`` completed by the completion ``name``: String, same length and name."""
    return COMPLETIONS[name](values.cast(pl.String)).alias(values.name)
