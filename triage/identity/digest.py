"""Keyed digests: HMAC-SHA256(sub-key, "kind:vN\\0" + canonical value), truncated to 128 bits.

Two implementations give byte-identical digests:

* pure Python: the key blocks are absorbed once (RFC 2104) and each value costs two
  ``hashlib`` state copies, about 1 us;
* the optional native kernel (``triage/_native.c``, see :mod:`triage.native`) that
  runs the same HMAC over a whole column per call, reading polars' string views in
  place, with the x86 SHA extensions when present (and, for ids, emails, phones and
  the name + birth-date composite, makes the canonical form in the same pass); when
  there is no compiler, or ``TRIAGE_NATIVE=0``, the Python path is used.

With the kernel, every row is hashed (~0.1 us a value); in Python, callers hash each
*distinct* canonical value once per batch (see collector.py).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import polars as pl
import pyarrow as pa

from triage.native import StringViewColumns, StringViews, native_kernel

#: 128 bits: collisions stay negligible far beyond any leak (birthday bound ~2^64 values).
DIGEST_BYTES = 16
#: Below this many values a second thread costs more than it saves.
_PARALLEL_MIN = 65_536


def hmac_prefix(kind: str, version: int) -> bytes:
    """The domain-separation prefix: digests of two kinds or versions never collide."""
    return f"{kind}:v{version}\0".encode()


class KeyedHasher:
    """HMAC-SHA256 with one key, digests truncated to ``DIGEST_BYTES``.

    ``native``: None uses the C kernel when available, False forces Python,
    True requires the kernel (tests), ``"portable"`` the kernel without SHA extensions.
    """

    def __init__(self, key: bytes, *, native: bool | str | None = None) -> None:
        block = key if len(key) <= 64 else hashlib.sha256(key).digest()
        block = block.ljust(64, b"\0")
        self._inner_block = bytes(b ^ 0x36 for b in block)
        self._outer_block = bytes(b ^ 0x5C for b in block)
        self._inner = hashlib.sha256(self._inner_block)
        self._outer = hashlib.sha256(self._outer_block)
        self._lib = None if native is False else native_kernel()
        if native in (True, "portable") and self._lib is None:
            raise RuntimeError("the native HMAC kernel is not available")
        self._allow_shani = 0 if native == "portable" else 1
        if self._lib is not None:
            self._inner_state = np.zeros(8, dtype=np.uint32)
            self._outer_state = np.zeros(8, dtype=np.uint32)
            self._lib.triage_sha256_block_state(self._inner_block, self._inner_state.ctypes.data)
            self._lib.triage_sha256_block_state(self._outer_block, self._outer_state.ctypes.data)

    @property
    def implementation(self) -> str:
        if self._lib is None:
            return "python"
        uses_shani = self._allow_shani and self._lib.triage_hmac_uses_shani()
        return "native-shani" if uses_shani else "native"

    def full_digest(self, message: bytes) -> bytes:
        """Untruncated HMAC-SHA256 of one message (for RFC 4231 tests)."""
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def digest_one(self, prefix: bytes, value: str) -> bytes:
        return self.full_digest(prefix + value.encode("utf-8"))[:DIGEST_BYTES]

    def digest_python(self, prefix: bytes, values: list[str]) -> np.ndarray:
        inner_copy, outer_copy = self._inner.copy, self._outer.copy
        out = bytearray(len(values) * DIGEST_BYTES)
        at = 0
        for value in values:
            inner = inner_copy()
            inner.update(prefix + value.encode("utf-8"))
            outer = outer_copy()
            outer.update(inner.digest())
            out[at:at + DIGEST_BYTES] = outer.digest()[:DIGEST_BYTES]
            at += DIGEST_BYTES
        return np.frombuffer(bytes(out), dtype=np.uint8).reshape(len(values), DIGEST_BYTES)

    def digest_words(self, prefix: bytes, values: pl.Series) -> tuple[np.ndarray, np.ndarray]:
        """The first 128 bits of each value's digest, as big-endian (hi, lo) uint64
        words; (0, 0) where the value is null."""
        values = values.cast(pl.String)
        n = len(values)
        if self._lib is None or n == 0:
            return self._words_python(prefix, values)
        strings = StringViews(values)
        hi, lo = np.empty(n, dtype=np.uint64), np.empty(n, dtype=np.uint64)
        self._over_rows(n, lambda start, end: self._lib.triage_hmac_views(
            self._inner_state.ctypes.data, self._outer_state.ctypes.data, prefix,
            len(prefix), strings.views, strings.buffers, strings.validity, strings.offset,
            start, end, hi.ctypes.data, lo.ctypes.data, self._allow_shani))
        return hi, lo

    def canonical_digest_words(self, form: int, prefix: bytes, values: pl.Series
                               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The kernel's canonical form number ``form`` (see ``canonical.NATIVE_FORMS``)
        of each value, hashed as :meth:`digest_words`, in one pass: (hi, lo, status),
        status 1 hashed, 0 no identifier, 2 left to the Python reference."""
        n = len(values)
        strings = StringViews(values)
        hi, lo, status = self._kernel_outputs(n)
        self._over_rows(n, lambda start, end: self._lib.triage_canonical_digest(
            form, self._inner_state.ctypes.data, self._outer_state.ctypes.data, prefix,
            len(prefix), strings.views, strings.buffers, strings.validity, strings.offset,
            start, end, hi.ctypes.data, lo.ctypes.data, status.ctypes.data,
            self._allow_shani))
        return hi, lo, status

    def name_birth_digest_words(self, prefix: bytes, names: list[pl.Series], born: pl.Series,
                                letters: np.ndarray
                                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The name + birth-date composite of each row, hashed as :meth:`digest_words`,
        in one kernel pass: ``names`` is a full name or first and last names (joined by
        a space), ``born`` ISO dates, ``letters`` ``canonical.name_letters_table()``.
        (hi, lo, status) as :meth:`canonical_digest_words`."""
        n = len(born)
        parts = StringViewColumns(names)
        dates = StringViews(born)
        letters = np.ascontiguousarray(letters, dtype=np.uint8)
        hi, lo, status = self._kernel_outputs(n)
        self._over_rows(n, lambda start, end: self._lib.triage_name_birth_digest(
            self._inner_state.ctypes.data, self._outer_state.ctypes.data, prefix,
            len(prefix), len(names), parts.views, parts.buffers, parts.validity,
            parts.offsets.ctypes.data,
            dates.views, dates.buffers, dates.validity, dates.offset, letters.ctypes.data,
            start, end, hi.ctypes.data, lo.ctypes.data, status.ctypes.data,
            self._allow_shani))
        return hi, lo, status

    def phone_digest_words(self, prefix: bytes, values: pl.Series, country_code: str,
                           international_prefix: str, national_prefix: str
                           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, pl.Series]:
        """Plain phone numbers of a region to E.164 and hashed, in one kernel pass
        (``triage_phone_digest``): (hi, lo, status, nsn). Status 1 rows are hashed but
        their national significant number (``nsn``, "" elsewhere) must still pass the
        region's pattern; status as in :meth:`canonical_digest_words`."""
        n = len(values)
        strings = StringViews(values)
        hi, lo, status = self._kernel_outputs(n)
        offsets = np.empty(n + 1, dtype=np.int64)
        data = np.empty(max(1, 32 * n), dtype=np.uint8)
        cc, intl, national = (country_code.encode(), international_prefix.encode(),
                              national_prefix.encode())
        self._lib.triage_phone_digest(
            self._inner_state.ctypes.data, self._outer_state.ctypes.data, prefix, len(prefix),
            strings.views, strings.buffers, strings.validity, strings.offset, n, cc, len(cc),
            intl, len(intl), national, len(national), offsets.ctypes.data, data.ctypes.data,
            hi.ctypes.data, lo.ctypes.data, status.ctypes.data, self._allow_shani)
        nsn = pa.LargeStringArray.from_buffers(
            n, pa.py_buffer(offsets), pa.py_buffer(data[:max(1, int(offsets[-1]))]))
        return hi, lo, status, pl.from_arrow(nsn)  # type: ignore[return-value]

    def _kernel_outputs(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """hi, lo and status arrays for a kernel pass that canonicalises and hashes."""
        if self._lib is None:
            raise RuntimeError("the native kernel is not available")
        return (np.empty(n, dtype=np.uint64), np.empty(n, dtype=np.uint64),
                np.empty(n, dtype=np.uint8))

    @staticmethod
    def _over_rows(n: int, call: Callable[[int, int], None]) -> None:
        """``call(start, end)`` over rows [0, n), in parallel slices for large n: ctypes
        releases the GIL for each call, so slices run on several cores."""
        workers = min(os.cpu_count() or 1, 4) if n >= _PARALLEL_MIN else 1
        if workers == 1:
            call(0, n)
            return
        bounds = np.linspace(0, n, workers + 1, dtype=np.int64)
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(call, bounds[:-1], bounds[1:]))

    def _words_python(self, prefix: bytes, values: pl.Series) -> tuple[np.ndarray, np.ndarray]:
        hi, lo = np.zeros(len(values), dtype=np.uint64), np.zeros(len(values), dtype=np.uint64)
        present = values.is_not_null().to_numpy()
        raw = self.digest_python(prefix, values.drop_nulls().to_list())
        words = raw.view(">u8").astype(np.uint64).reshape(-1, 2)
        hi[present], lo[present] = words[:, 0], words[:, 1]
        return hi, lo
