"""The 64-bit hashes of cells and rows that sketches and samples are built on.

Cells are hashed by polars with a fixed seed, so every batch, process or worker of
the same polars version gets the same hash for the same value. A row's hash is made
from its cells' hashes alone, so it names the row's content wherever the row falls:
a sample that keeps rows by their hash keeps the same rows however the input is cut
into batches or a cluster's parts.
"""

from __future__ import annotations

import numpy as np
import polars as pl

_SEED = 0x7472696167  # fixed: sketches must agree across runs and workers


def hash_expr(values: pl.Expr) -> pl.Expr:
    return values.hash(_SEED)


#: The hash polars gives a null String cell; a row's hash leaves null cells out.
_NULL_HASH = int(pl.Series([None], dtype=pl.String).hash(_SEED)[0])


def row_hashes(cell_hashes: pl.DataFrame) -> np.ndarray:
    """One uint64 per row from ``cell_hashes`` (one :func:`hash_expr` column per column).

    The cells' hashes are added with their null hash taken out, so a null cell and
    a column the batch lacks weigh the same (nothing): a column first met in a later
    part changes no earlier row's hash. The sum is then mixed (splitmix64's
    finalizer) so every bit of the result is usable, even when two columns always
    hold the same value.
    """
    total = np.zeros(cell_hashes.height, dtype=np.uint64)
    for column in cell_hashes.iter_columns():
        np.add(total, column.to_numpy(), out=total)
    # splitmix64's increment too, so that a row of nulls does not hash to 0 (which
    # every level of a sample would keep).
    total += np.uint64((0x9E3779B97F4A7C15 - _NULL_HASH * cell_hashes.width) % (1 << 64))
    total ^= total >> np.uint64(30)
    total *= np.uint64(0xBF58476D1CE4E5B9)
    total ^= total >> np.uint64(27)
    total *= np.uint64(0x94D049BB133111EB)
    total ^= total >> np.uint64(31)
    return total


def batch_row_hashes(batch: pl.DataFrame) -> np.ndarray:
    """:func:`row_hashes` of ``batch``, hashing its cells."""
    return row_hashes(batch.select(hash_expr(pl.col(name)) for name in batch.columns))
