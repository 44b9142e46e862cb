"""Online identifiers: advertising/device ids (UUID), cookie ids (_ga, _fbp), hashed e-mails.

A SHA-256 (64 hex) or MD5 (32 hex) digest in a tracking export is typically a
hashed e-mail sent to an advertiser: GDPR recital 26 still calls it personal data.
"""

from __future__ import annotations

import polars as pl

from triage.detect.base import Detector

UUID = r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"
_SHAPES = [
    UUID,
    # MD5 and SHA-256 digests, what advertisers take as hashed e-mails and phones
    # (40-hex SHA-1 is left out: it is mostly commit and file hashes).
    r"^(?:[0-9a-f]{32}|[0-9a-f]{64}|[0-9A-F]{64})$",
    r"^GA\d\.\d\.\d{5,10}\.\d{9,10}$",  # Google Analytics _ga cookie
    r"^fb\.\d\.\d{13}\.\d{5,20}$",  # Meta _fbp cookie
    r"^fb\.\d\.\d{13}\.[A-Za-z0-9_\-]{20,}$",  # Meta _fbc click id
    r"^\d{8,10}\.\d{9,10}$",  # _ga client id
]


class OnlineId(Detector):
    id = "online_id"
    category = "online_id"
    headers = "online_id"
    priority = 65

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return pl.any_horizontal([col.str.contains(shape) for shape in _SHAPES])

    def plausible(self, valid: pl.Series, sample_size: int) -> float:
        # Identifiers of many people or devices: mostly distinct (a user may repeat).
        return 1.0 if valid.n_unique() >= 0.1 * len(valid) or len(valid) < 20 else 0.5


DETECTOR = OnlineId()
