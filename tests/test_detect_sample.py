"""Detection's samples keep rows by a hash of their content: the same rows, values and
verdicts however the input is cut into batches or a cluster's parts."""

from __future__ import annotations

import json
import random
from itertools import pairwise
from typing import Any

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from triage.detect import TableDetector, findings_document
from triage.detect.sample import TableSample
from triage.profile.column import TableProfile
from triage.profile.hashes import batch_row_hashes

ROWS = 20_000


def _numbers(n: int = ROWS) -> pl.DataFrame:
    """``i``: the row number; ``rare``: filled in 1 row in 64; ``late``: only at the end."""
    i = pl.int_range(n, eager=True)
    return pl.DataFrame({
        "i": i.cast(pl.String),
        "rare": pl.select(pl.when(i % 64 == 5).then(pl.format("r{}", i))).to_series(),
        "late": pl.select(pl.when(i >= n - 40).then(pl.format("l{}", i))).to_series(),
    })


def _lab(n: int, seed: int = 3) -> pl.DataFrame:
    rng = random.Random(seed)
    names = ["Jean", "Marie", "Pierre", "Sophie", "Luc", "Claire", "Paul", "Julie"]
    return pl.DataFrame({
        "patient": [f"{rng.choice(names)} {rng.choice(names)}son" for _ in range(n)],
        "mail": [f"{rng.choice(names).lower()}{rng.randint(1, 10 ** 6)}@example.org"
                 if rng.random() < 0.9 else "" for _ in range(n)],
        "tel": [f"06 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} "
                f"{rng.randint(10, 99)}" for _ in range(n)],
        # Near the mixture's 5 % floor: a cut-dependent sample could flip its verdict.
        "contact": [f"{rng.randint(10, 99)}{rng.randint(10, 99)}@mail.fr" if rng.random() < 0.95
                    else f"06{rng.randint(10 ** 7, 10 ** 8 - 1)}" for _ in range(n)],
        "ip": [None if rng.random() < 0.97 else
               f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
               for _ in range(n)],
    }, schema=dict.fromkeys(["patient", "mail", "tel", "contact", "ip"], pl.String))


def _slices(frame: pl.DataFrame, bounds: list[int]) -> list[pl.DataFrame]:
    return [frame.slice(start, end - start) for start, end in pairwise(bounds)]


def _sequential(batches: list[pl.DataFrame]) -> TableDetector:
    detector = TableDetector()
    for batch in batches:
        detector.update(batch)
    return detector


def _tree(parts: list[Any]) -> Any:
    """``parts`` merged pairwise in file order, as a cluster's tree merges them."""
    while len(parts) > 1:
        parts = [parts[k].merge(parts[k + 1]) if k + 1 < len(parts) else parts[k]
                 for k in range(0, len(parts), 2)]
    return parts[0]


def _merged(batches: list[pl.DataFrame]) -> TableDetector:
    """One detector per batch, merged."""
    return _tree([_sequential([batch]) for batch in batches])


def _bounds(cuts: list[int], height: int) -> list[int]:
    return [0, *sorted(c % (height + 1) for c in cuts), height]


@settings(max_examples=20, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=ROWS), max_size=12))
def test_samples_are_the_same_however_the_rows_are_cut(cuts: list[int]) -> None:
    frame = _numbers()
    whole = TableDetector()
    whole.update(frame)
    batches = _slices(frame, _bounds(cuts, frame.height))
    for other in (_sequential(batches), _merged(batches)):
        assert other._sample.rows().equals(whole._sample.rows())
        assert other._sample.values().equals(whole._sample.values())


def _densities(n: int = 3000) -> pl.DataFrame:
    """Columns filled in every row, one in 8, one in 64, only the first 50, only the last 50."""
    i = pl.int_range(n, eager=True)

    def filled(condition: pl.Expr, tag: str) -> pl.Series:
        return pl.select(pl.when(condition).then(pl.format(tag + "{}", i))).to_series()

    return pl.DataFrame({"i": i.cast(pl.String), "eighth": filled(i % 8 == 3, "e"),
                         "rare": filled(i % 64 == 5, "r"), "early": filled(i < 50, "a"),
                         "late": filled(i >= n - 50, "z")})


def _sampled(frame: pl.DataFrame, bounds: list[int], merged: bool) -> TableSample:
    parts = []
    for start, end in pairwise(bounds):
        part = frame.slice(start, end - start)
        if merged or not parts:
            parts.append(TableSample(64, 16))
        parts[-1].add(part, batch_row_hashes(part), part.columns)
    return _tree(parts)


@settings(max_examples=40, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=3000), max_size=16),
       merged=st.booleans())
def test_small_caps_hand_values_on_exactly_however_the_rows_are_cut(cuts: list[int],
                                                                     merged: bool) -> None:
    # Caps of 64 rows and 16 values: levels rise many times over 3,000 rows, and
    # columns move between keeping values of their own and reading the sampled rows.
    frame = _densities()
    whole = _sampled(frame, [0, frame.height], merged=False)
    other = _sampled(frame, _bounds(cuts, frame.height), merged)
    assert other.rows().equals(whole.rows())
    assert other.values().equals(whole.values())
    counts = dict(whole.values().group_by("name").len().iter_rows())
    assert set(counts) == set(frame.columns)  # the sparsest keep some values too
    assert max(counts.values()) <= 16 and len(whole) <= 64


def test_row_sample_is_bounded_spread_and_in_order() -> None:
    frame = _numbers()
    detector = TableDetector()
    detector.update(frame)
    kept = [int(i) for i in detector._sample.rows()["i"]]
    assert 2048 <= len(kept) <= 4096
    assert kept == sorted(kept)
    # Spread over the whole input: every tenth of it has its share, within noise.
    tenths = np.bincount(np.array(kept) * 10 // ROWS, minlength=10)
    assert tenths.min() > 0.6 * len(kept) / 10


def test_sparse_columns_keep_every_value_from_anywhere_in_the_input() -> None:
    frame = _numbers()
    detector = TableDetector()
    detector.update(frame)
    by_column = detector._sample.values().group_by("name", maintain_order=True).agg("v")
    held = dict(by_column.iter_rows())
    # 313 values of "rare" and the 40 of "late", all under the cap of 512: all kept,
    # however few of their rows the row sample holds.
    assert sorted(held["rare"]) == sorted(frame["rare"].drop_nulls().to_list())
    assert sorted(held["late"]) == sorted(frame["late"].drop_nulls().to_list())
    assert len(detector._sample.rows()["rare"].drop_nulls()) < 100
    assert 256 <= len(held["i"]) <= 512


def test_verdicts_and_evidence_are_the_same_on_a_cluster_split() -> None:
    frame = _lab(9000)
    whole = TableDetector()
    for start in range(0, frame.height, 2500):
        whole.update(frame.slice(start, 2500))
    expected = json.dumps(findings_document("lab.csv", whole.finish(), rows=whole.rows))
    for bounds in ([0, 1, 4500, 9000], [0, 3333, 3334, 7000, 9000], [0, 8999, 9000]):
        merged = _merged(_slices(frame, bounds))
        assert json.dumps(findings_document("lab.csv", merged.finish(),
                                            rows=merged.rows)) == expected


def test_a_missing_column_weighs_as_a_null_one() -> None:
    with_nulls = pl.DataFrame({"a": ["x", "y", None], "b": [None, None, None]},
                              schema={"a": pl.String, "b": pl.String})
    without = with_nulls.select("a")
    assert np.array_equal(batch_row_hashes(with_nulls), batch_row_hashes(without))
    # A row of nulls still hashes like any other, not to 0 (which every level keeps).
    assert batch_row_hashes(with_nulls)[2] != 0


def test_the_profile_hands_detection_the_same_row_hashes() -> None:
    frame = _lab(500)
    profile = TableProfile()
    profile.update(frame)
    assert profile.batch_row_hashes is not None
    assert np.array_equal(profile.batch_row_hashes, batch_row_hashes(frame))


def test_duplicate_rows_cannot_outgrow_the_cap() -> None:
    # 10,000 copies of one row: kept together, then dropped together once they outgrow it.
    frame = pl.DataFrame({"a": ["same"] * 10_000})
    sample = TableSample(64, 64)
    sample.add(frame, batch_row_hashes(frame), ["a"])
    assert len(sample) == 0
    assert sample.values().is_empty()


def test_a_column_only_some_parts_have_merges_as_one_pass_reads_it() -> None:
    # A JSON-lines dump whose later records gain a key: the earlier part never saw it.
    first = pl.DataFrame({"id": [str(i) for i in range(3000)]})
    later = pl.DataFrame({"id": [str(i) for i in range(3000, 9000)],
                          "email": [f"u{i}@example.org" for i in range(3000, 9000)]})
    whole, merged = _sequential([first, later]), _merged([first, later])
    assert merged._sample.rows().equals(whole._sample.rows())
    assert merged._sample.values().equals(whole._sample.values())
    assert merged.counts() == whole.counts()
