"""E-mail addresses: RFC 5322 dot-atom local part, DNS host names with a letter TLD."""

from __future__ import annotations

import polars as pl

from triage.detect.base import Detector, regex_validator

_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-]+)*"
_DOMAIN = r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}"


class Email(Detector):
    id = "email"
    category = "email"
    headers = "email"
    priority = 80

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")

    def validate(self, values: pl.Series) -> pl.Series:
        return regex_validator(values, f"^{_LOCAL}@{_DOMAIN}$")


DETECTOR = Email()
