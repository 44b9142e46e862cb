"""E-mail addresses: RFC 5322 dot-atom local part, DNS host names with a letter TLD.

An address is also read out of the forms mail headers and links write it in
(``"Dupont, Jean" <jean@x.fr>``, ``mailto:jean@x.fr?subject=...``), as the e-mail
canonical form reads it (``triage.identity.canonical.unwrapped_email``).
"""

from __future__ import annotations

import polars as pl

from triage.detect.base import Detector, regex_validator

_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-]+)*"
_DOMAIN = r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}"


def address(values: pl.Expr) -> pl.Expr:
    """The address in a ``Name <address>`` or ``mailto:`` form, else the value."""
    bracketed = values.str.extract(r"(?s)^[^<>]*<([^<>]*)>\s*$", 1).str.strip_chars()
    text = pl.coalesce(bracketed, values)
    link = text.str.extract(r"(?is)^\s*mailto:([^?]*)(?:\?.*)?$", 1).str.strip_chars()
    return pl.coalesce(link, text)


class Email(Detector):
    id = "email"
    category = "email"
    headers = "email"
    priority = 80

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return address(col).str.contains(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")

    def validate(self, values: pl.Series) -> pl.Series:
        addresses = pl.select(address(pl.lit(values))).to_series().rename(values.name)
        return regex_validator(addresses, f"^{_LOCAL}@{_DOMAIN}$")


DETECTOR = Email()
