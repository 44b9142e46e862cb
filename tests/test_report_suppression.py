"""Small-count suppression: no count from 1 to 10 is shown, nor recoverable by subtraction."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.report.suppression import (
    COMPLEMENT,
    SMALL,
    WITHHELD,
    suppress_breakdown,
    suppress_count,
)


def _feasible_values(result: dict, true_counts: dict[str, int]) -> dict[str, set[int]]:
    """Brute force what a reader who knows the rule can infer about every suppressed cell.

    The reader sees the shown cells and the total; knows "<11" means 1 to 10 (for the
    total too), and ">10" means 11 or more but at most the smallest shown count of 11
    or more (complements are picked smallest first). Keeps, per hidden cell, every
    value that some assignment of the other hidden cells makes consistent with it all.
    """
    cells = result["cells"]
    shown = {c["key"]: c["count"] for c in cells if isinstance(c["count"], int)}
    hidden = [c for c in cells if not isinstance(c["count"], int)]
    totals = range(1, 11) if result["total"] == SMALL else [result["total"]]
    residuals = {total - sum(shown.values()) for total in totals}
    largest_shown = [v for v in shown.values() if v >= 11]
    complement_high = min(largest_shown) if largest_shown else max(residuals)
    ranges = {c["key"]: range(1, 11) if c["count"] == SMALL else range(11, complement_high + 1)
              for c in hidden}

    def sums(keys: list[str]) -> set[int]:
        """Every total the cells ``keys`` can reach within their ranges (exhaustive, by DP)."""
        reachable = {0}
        for key in keys:
            reachable = {s + v for s in reachable for v in ranges[key]}
        return reachable

    feasible: dict[str, set[int]] = {}
    for key in ranges:
        others = sums([k for k in ranges if k != key])
        feasible[key] = {v for v in ranges[key] if any(r - v in others for r in residuals)}
    assert all(true_counts[key] in values for key, values in feasible.items())
    return feasible


breakdowns = st.dictionaries(st.sampled_from(["56", "27", "45", "22", "41", "2A"]),
                             st.one_of(st.integers(0, 14), st.integers(0, 40)),
                             max_size=6)


@settings(max_examples=300, deadline=None)
@given(breakdowns)
def test_no_suppressed_count_is_recoverable_from_the_total(counts: dict[str, int]) -> None:
    result = suppress_breakdown(counts, with_total=True)
    shown = {c["key"]: c["count"] for c in result["cells"]}
    assert set(shown) == set(counts)
    for key, value in shown.items():
        if isinstance(value, int):
            assert value == counts[key] and not 1 <= value <= 10
        elif value == SMALL:
            assert 1 <= counts[key] <= 10
        else:
            assert value == COMPLEMENT and counts[key] >= 11
    if result["total"] == WITHHELD:
        return
    assert result["total"] == suppress_count(sum(counts.values()))
    for key, values in _feasible_values(result, counts).items():
        if shown[key] == SMALL:
            assert len(values) >= 2, f"cell {key} is recoverable from {result}"


@settings(max_examples=200, deadline=None)
@given(breakdowns)
def test_without_a_total_only_small_cells_are_hidden(counts: dict[str, int]) -> None:
    result = suppress_breakdown(counts, with_total=False)
    assert "total" not in result
    for cell in result["cells"]:
        assert cell["count"] == (SMALL if 1 <= counts[cell["key"]] <= 10 else counts[cell["key"]])


@given(breakdowns)
def test_suppressed_cells_are_not_ranked_by_their_true_size(counts: dict[str, int]) -> None:
    cells = suppress_breakdown(counts, with_total=True)["cells"]
    hidden = [c["key"] for c in cells if not isinstance(c["count"], int)]
    complements = [k for k in hidden if counts[k] >= 11]
    smalls = [k for k in hidden if counts[k] < 11]
    assert hidden == sorted(complements) + sorted(smalls)
    assert all(isinstance(c["count"], int) for c in cells[:len(cells) - len(hidden)])


@pytest.mark.parametrize(("counts", "cells", "total"), [
    # One small cell and a total: the next smallest is hidden too.
    ({"56": 200, "27": 40, "2A": 3}, {"56": 200, "27": COMPLEMENT, "2A": SMALL}, 243),
    # The complement alone would pin 2A down (2A + 27 = 12 with 27 >= 11): hide one more.
    ({"56": 200, "27": 11, "2A": 1}, {"56": COMPLEMENT, "27": COMPLEMENT, "2A": SMALL}, 212),
    # 2A + 27 = 12 with 27 >= 11 pins 2A to 1, and no cell is left to hide: withhold the total.
    ({"27": 11, "2A": 1}, {"27": COMPLEMENT, "2A": SMALL}, WITHHELD),
    # Two small cells whose sum leaves doubt need no complement.
    ({"56": 300, "2A": 3, "2B": 4}, {"56": 300, "2A": SMALL, "2B": SMALL}, 307),
    ({"56": 0, "27": 12}, {"56": 0, "27": 12}, 12),
    # A small total is itself "<11"; two cells under it still leave doubt.
    ({"56": 4, "27": 3}, {"56": SMALL, "27": SMALL}, SMALL),
    # Ten cells under a total of at most 10 are all 1: withhold the total.
    ({f"{n:02d}": 1 for n in range(1, 11)}, {f"{n:02d}": SMALL for n in range(1, 11)}, WITHHELD),
])
def test_examples(counts: dict[str, int], cells: dict[str, object], total: object) -> None:
    result = suppress_breakdown(counts, with_total=True)
    assert {c["key"]: c["count"] for c in result["cells"]} == cells
    assert result["total"] == total


def test_month_order_is_by_key() -> None:
    result = suppress_breakdown({"2020-02": 5, "2020-01": 500, "2019-12": 40}, with_total=True,
                                order="key")
    assert [c["key"] for c in result["cells"]] == ["2019-12", "2020-01", "2020-02"]


@pytest.mark.parametrize(("value", "shown"), [(0, 0), (1, SMALL), (10, SMALL), (11, 11)])
def test_single_counts(value: int, shown: object) -> None:
    assert suppress_count(value) == shown
