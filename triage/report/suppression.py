"""Small-count suppression, so that a summary cannot single out a handful of people.

Rule (documented in docs/report.md):

1. *Primary suppression.* Any count from 1 to 10 is shown as ``"<11"``. Zero and
   counts of 11 or more are shown as they are.
2. *Complementary suppression.* When a breakdown also shows its total, the
   suppressed cells could be recovered by subtraction (total minus the shown
   cells). So the reader's knowledge is audited: a primary cell lies in [1, 10], a
   complementary cell in [11, smallest shown cell] (complements are picked smallest
   first, which a reader who knows the rule can exploit), and all suppressed cells
   add up to total minus the shown cells. While some primary cell has a single
   feasible value, the smallest still-shown cell is suppressed too, shown as
   ``">10"``; when no cell is left to suppress, the total is shown as ``"withheld"``.
   A total from 1 to 10 is a small count too: it is shown as ``"<11"``, and the
   audit knows it only as that range.

The audit uses interval bounds, which are exact for one linear constraint over
integer boxes: the feasible values of one cell are a contiguous range.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

THRESHOLD = 11
SMALL = "<11"          # a primary-suppressed count: 1 to 10
COMPLEMENT = ">10"     # a complementary-suppressed count: 11 or more
WITHHELD = "withheld"  # a total that would reveal a suppressed count

Count = int | str


def suppress_count(value: int) -> Count:
    """Show a single count, or ``"<11"`` when it is from 1 to 10."""
    return SMALL if 0 < value < THRESHOLD else value


def _feasible_ranges(boxes: dict[str, tuple[int, int]],
                     residual: tuple[int, int]) -> dict[str, tuple[int, int]]:
    """Per suppressed cell, the [low, high] values fitting the boxes and a sum in ``residual``."""
    low_sum = sum(low for low, _ in boxes.values())
    high_sum = sum(high for _, high in boxes.values())
    return {key: (max(low, residual[0] - (high_sum - high)),
                  min(high, residual[1] - (low_sum - low)))
            for key, (low, high) in boxes.items()}


def _reader_boxes(counts: Mapping[str, int], primaries: set[str], complements: set[str],
                  residual_high: int) -> dict[str, tuple[int, int]]:
    shown_large = [v for k, v in counts.items()
                   if k not in primaries and k not in complements and v >= THRESHOLD]
    complement_high = min(shown_large) if shown_large else residual_high
    boxes = {key: (1, THRESHOLD - 1) for key in primaries}
    boxes.update({key: (THRESHOLD, complement_high) for key in complements})
    return boxes


def primaries_recoverable(counts: Mapping[str, int], primaries: set[str], complements: set[str],
                          total: int) -> bool:
    """True when a reader who sees the shown cells and the total can pin a primary cell down.

    A total from 1 to 10 is itself shown as ``"<11"``, so the reader knows it only
    as that range.
    """
    if not primaries:
        return False
    shown_sum = sum(v for k, v in counts.items() if k not in primaries and k not in complements)
    total_range = (1, THRESHOLD - 1) if suppress_count(total) == SMALL else (total, total)
    residual = (total_range[0] - shown_sum, total_range[1] - shown_sum)
    ranges = _feasible_ranges(_reader_boxes(counts, primaries, complements, residual[1]), residual)
    return any(ranges[key][0] >= ranges[key][1] for key in primaries)


def suppress_breakdown(counts: Mapping[str, int], *, with_total: bool,
                       order: str = "count") -> dict[str, Any]:
    """Suppress one breakdown (key -> count) and, if asked, show its total safely.

    Returns ``{"cells": [{"key", "count"}…], "total": int | "<11" | "withheld"}`` (``total``
    only when ``with_total``). Cells are ordered by descending true count then key
    (``order="count"``), or by key (``order="key"``, for months). No true value of a
    suppressed cell appears in the result.
    """
    primaries = {key for key, value in counts.items() if 0 < value < THRESHOLD}
    complements: set[str] = set()
    total: Count | None = None
    if with_total:
        true_total = sum(counts.values())
        total = suppress_count(true_total)
        while primaries_recoverable(counts, primaries, complements, true_total):
            candidates = [(v, k) for k, v in counts.items()
                          if k not in primaries and k not in complements and v >= THRESHOLD]
            if not candidates:
                total = WITHHELD
                break
            complements.add(min(candidates)[1])

    def shown(key: str) -> Count:
        if key in primaries:
            return SMALL
        if key in complements:
            return COMPLEMENT
        return counts[key]

    if order == "key":
        keys = sorted(counts)
    else:
        # Suppressed cells go last, by key: ranking them by true count would leak their order.
        suppressed = primaries | complements
        keys = (sorted((k for k in counts if k not in suppressed), key=lambda k: (-counts[k], k))
                + sorted(suppressed, key=lambda k: (k in primaries, k)))
    result: dict[str, Any] = {"cells": [{"key": key, "count": shown(key)} for key in keys]}
    if with_total:
        result["total"] = total
    return result
