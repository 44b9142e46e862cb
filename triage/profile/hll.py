"""HyperLogLog distinct-count sketch whose merge is exact (register-wise max).

Precision 14 gives 16,384 one-byte registers and a standard error of
1.04 / sqrt(16384) ≈ 0.8 %, inside the 2 % bound at a million distinct values.
Values are hashed by polars (64-bit, fixed seeds), so every batch, process or
worker of the same polars version feeds the same registers.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

PRECISION = 14
REGISTERS = 1 << PRECISION
_SEED = 0x7472696167  # fixed: sketches must agree across runs


def register_updates(values: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(register index, rank) expressions for the 64-bit hash of ``values``."""
    hashed = values.hash(_SEED)
    split = 1 << (64 - PRECISION)
    index = (hashed // split).cast(pl.UInt16)
    # The rank is the position of the first 1 bit after the index bits: the low bits
    # sit under PRECISION leading zeros, so subtract them (all-zero low bits: 51).
    rank = ((hashed % split).bitwise_leading_zeros() - (PRECISION - 1)).cast(pl.UInt8)
    return index, rank


class HyperLogLog:
    __slots__ = ("registers",)

    def __init__(self, registers: np.ndarray | None = None) -> None:
        self.registers = (np.zeros(REGISTERS, dtype=np.uint8) if registers is None
                          else registers)

    def add(self, index: np.ndarray, rank: np.ndarray) -> None:
        np.maximum.at(self.registers, index, rank)

    def merge(self, other: HyperLogLog) -> HyperLogLog:
        return HyperLogLog(np.maximum(self.registers, other.registers))

    def estimate(self) -> int:
        m = float(REGISTERS)
        alpha = 0.7213 / (1 + 1.079 / m)
        harmonic = float(np.sum(np.ldexp(1.0, -self.registers.astype(np.int32))))
        raw = alpha * m * m / harmonic
        zeros = int(np.count_nonzero(self.registers == 0))
        if raw <= 2.5 * m and zeros:
            return round(m * math.log(m / zeros))  # linear counting for small sets
        return round(raw)
