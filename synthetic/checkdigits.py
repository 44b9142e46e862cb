"""Check digits computed on whole numpy arrays at once.

Every function takes the payload as an integer array (or a 2-D array of digits)
and returns the check digit(s) as an integer array, so a column of millions of
identifiers costs a handful of vector operations instead of a Python loop. The
tests compare each one against python-stdnum (or the published examples) value
by value on random samples.
"""

from __future__ import annotations

import numpy as np


def digits(values: np.ndarray, width: int) -> np.ndarray:
    """The decimal digits of non-negative integers, most significant first: shape (n, width)."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (np.asarray(values, dtype=np.int64)[:, None] // powers) % 10


def luhn_digit(payload: np.ndarray, width: int) -> np.ndarray:
    """The Luhn check digit to append to ``width``-digit payloads (RPPS, FINESS, NPI, cards)."""
    d = digits(payload, width)
    # Doubling starts with the rightmost payload digit (it sits next to the check digit).
    doubled = np.zeros(width, dtype=bool)
    doubled[width - 1 :: -2] = True
    values = np.where(doubled, d * 2, d)
    values = np.where(values > 9, values - 9, values)
    return (10 - values.sum(axis=1) % 10) % 10


def nir_key(first13: np.ndarray) -> np.ndarray:
    """The two-digit key of a French NIR: 97 - (first 13 digits mod 97).

    For Corsica the caller passes the number with the département 2A written as 19
    and 2B as 18, the substitution the INSEE rule (and python-stdnum) uses.
    """
    return 97 - np.asarray(first13, dtype=np.int64) % 97


def ean13_digit(first12: np.ndarray) -> np.ndarray:
    """The GS1 check digit of EAN-13 codes (weights 1, 3 from the left)."""
    d = digits(first12, 12)
    weights = np.tile([1, 3], 6)
    return (10 - (d * weights).sum(axis=1) % 10) % 10


def kvnr_digit(letter_index: np.ndarray, serial8: np.ndarray) -> np.ndarray:
    """The check digit of a German health-insurance number (KVNR, 10 characters).

    The letter (A=1 … Z=26) is written as two digits ahead of the eight serial
    digits; the ten digits are weighted 1, 2, 1, 2 …, each product's digits summed.
    """
    d = np.concatenate([digits(np.asarray(letter_index) + 1, 2), digits(serial8, 8)], axis=1)
    products = d * np.tile([1, 2], 5)
    cross = products // 10 + products % 10
    return cross.sum(axis=1) % 10


def lanr_digit(first6: np.ndarray) -> np.ndarray:
    """The 7th digit of a German physician number (LANR): weights 4, 9 alternating, mod 10."""
    d = digits(first6, 6)
    total = (d * np.tile([4, 9], 3)).sum(axis=1)
    return (10 - total % 10) % 10
