"""Counter-based randomness: a person's attributes are a pure function of (seed, person id).

Rows of one person are scattered over the whole dump, and the dump is written in
chunks. Drawing a person's attributes from a hash of their id, instead of storing
them, keeps memory independent of the number of people and makes every chunk
reproducible on its own: the same id always gets the same sex, birth date, address.
"""

from __future__ import annotations

import zlib
from math import gcd

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def salt_of(seed: int, name: str) -> np.uint64:
    """A 64-bit salt for one named attribute under one seed."""
    return np.uint64((zlib.crc32(name.encode()) << 32 | (seed & 0xFFFFFFFF)) & 0xFFFFFFFFFFFFFFFF)


def mix(ids: np.ndarray, salt: np.uint64) -> np.ndarray:
    """splitmix64 of (id, salt): 64 well-mixed bits per id."""
    with np.errstate(over="ignore"):
        x = np.asarray(ids, dtype=np.uint64) * _GOLDEN + salt
        x ^= x >> np.uint64(30)
        x *= _M1
        x ^= x >> np.uint64(27)
        x *= _M2
        x ^= x >> np.uint64(31)
    return x


def uniform(ids: np.ndarray, salt: np.uint64) -> np.ndarray:
    """Uniform floats in [0, 1), one per id."""
    return (mix(ids, salt) >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def below(ids: np.ndarray, salt: np.uint64, n: int) -> np.ndarray:
    """Uniform integers in [0, n), one per id."""
    return (uniform(ids, salt) * n).astype(np.int64)


def weighted(u: np.ndarray, weights) -> np.ndarray:
    """Index into ``weights`` for uniforms ``u`` (inverse CDF)."""
    cdf = np.cumsum(np.asarray(weights, dtype=np.float64))
    cdf /= cdf[-1]
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1)


def bijection(ids: np.ndarray, seed: int, name: str, modulus: int) -> np.ndarray:
    """An affine permutation of [0, modulus): distinct ids give distinct numbers.

    Used for identifiers that must never collide between two people (phones,
    record numbers, insurance numbers) without storing or deduplicating them.
    """
    ids = np.asarray(ids, dtype=np.int64)
    if ids.size and int(ids.max()) >= modulus:
        raise ValueError(f"{name}: {int(ids.max()) + 1:,} ids but only {modulus:,} distinct values")
    mixed = int(mix(np.array([1]), salt_of(seed, name))[0])
    factor = mixed % modulus | 1
    while gcd(factor, modulus) != 1:
        factor += 2
    offset = (mixed >> 20) % modulus
    # Python ints for the product would be exact but slow; split the factor so the
    # int64 products stay below 2**63 for ids < 2**31 and moduli < 2**31.
    if modulus < 2**31:
        return (ids * factor + offset) % modulus
    high, low = divmod(factor, 1 << 16)
    return (((ids * high) % modulus) * (1 << 16) % modulus + ids * low + offset) % modulus
