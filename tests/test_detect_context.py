"""Detection by context: what a column's neighbours say when its own values cannot.

An insurer's member number has the shape of a record key, and a NABM act code is
four bare digits: without headers only the table around them types them
(triage/detect/context.py). These tests build small tables shaped like real
exports (one row per lab visit, people coming back) and check both the claims and
the look-alikes that must not be claimed.
"""

from __future__ import annotations

import polars as pl

from triage.detect.context import TableContext
from triage.detect.findings import ColumnFinding


def test_dependencies_need_repeated_values() -> None:
    frame = pl.DataFrame({"a": ["1", "1", "2", "2", "3", "3", "4", "4", "5", "5", "6"],
                          "b": ["x", "x", "y", "y", "z", "z", "x", "x", "y", "w", ""]})
    findings = [ColumnFinding(name, None, None, 0.0, False) for name in frame.columns]
    context = TableContext(frame, findings)
    a_b = context.dependency("a", "b")
    assert (a_b.groups, round(a_b.share, 2)) == (5, 0.8)
    assert a_b.holds
    assert not context.dependency("b", "a").holds  # x, y, z: three groups only
    assert context.filled_share("b") == 10 / 11
