"""An organisation identifier named by its header (IK-Nummer, CIF, KvK …)."""

from __future__ import annotations

import polars as pl

from triage.detect.base import Detector


class OrganisationId(Detector):
    id = "organisation_id"
    category = "organisation_id"
    headers = "organisation_id"
    values_decide = False
    priority = 10

    def prefilter(self, col: pl.Expr) -> pl.Expr:
        return col.str.contains(r"^[A-Za-z0-9][A-Za-z0-9 .\-/]{1,24}$")


DETECTOR = OrganisationId()
