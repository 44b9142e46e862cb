"""Keyed digests: HMAC-SHA256(sub-key, "kind:vN\\0" + canonical value), truncated to 128 bits.

Two implementations give byte-identical digests:

* pure Python: the key blocks are absorbed once (RFC 2104) and each value costs two
  ``hashlib`` state copies, about 1 us;
* an optional C kernel (``_hmac_kernel.c``) that runs the same HMAC over a whole
  Arrow string buffer per call, with the x86 SHA extensions when present. It is
  compiled on first use with the system C compiler into a per-user cache; when
  there is no compiler, or ``TRIAGE_NATIVE=0``, the Python path is used.

Callers hash each *distinct* canonical value once per batch (see collector.py).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

#: 128 bits: collisions stay negligible far beyond any leak (birthday bound ~2^64 values).
DIGEST_BYTES = 16
_KERNEL_SOURCE = Path(__file__).with_name("_hmac_kernel.c")
#: Below this many values a second thread costs more than it saves.
_PARALLEL_MIN = 65_536


def hmac_prefix(kind: str, version: int) -> bytes:
    """The domain-separation prefix: digests of two kinds or versions never collide."""
    return f"{kind}:v{version}\0".encode()


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "triage"


def _compile_kernel() -> Path | None:
    source = _KERNEL_SOURCE.read_bytes()
    tag = hashlib.sha256(source + sys.platform.encode()).hexdigest()[:16]
    for folder in (_cache_dir(), Path(tempfile.gettempdir()) / f"triage-{os.getuid()}"):
        target = folder / f"hmac_kernel_{tag}.so"
        if target.exists():
            return target
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            # Build beside the target and rename: concurrent first uses never see half a file.
            with tempfile.NamedTemporaryFile(dir=folder, suffix=".so", delete=False) as tmp:
                partial = Path(tmp.name)
            subprocess.run([os.environ.get("CC", "cc"), "-O3", "-fPIC", "-shared", "-o",
                            str(partial), str(_KERNEL_SOURCE)],
                           check=True, capture_output=True, timeout=120)
            partial.replace(target)
            return target
        except (OSError, subprocess.SubprocessError):
            continue
    return None


@cache
def native_kernel() -> ctypes.CDLL | None:
    """The compiled kernel, or None (no compiler, or disabled with TRIAGE_NATIVE=0)."""
    if os.environ.get("TRIAGE_NATIVE", "1") == "0":
        return None
    path = _compile_kernel()
    if path is None:
        return None
    try:
        lib = ctypes.CDLL(str(path))
    except OSError:
        return None
    lib.triage_hmac_batch.restype = None
    lib.triage_hmac_batch.argtypes = [
        ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
        ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64,
        ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    lib.triage_sha256_block_state.restype = None
    lib.triage_sha256_block_state.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    lib.triage_hmac_uses_shani.restype = ctypes.c_int
    lib.triage_union_find.restype = None
    lib.triage_union_find.argtypes = [ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p,
                                      ctypes.c_int64, ctypes.c_void_p]
    return lib


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

    def digest_series(self, prefix: bytes, values: pl.Series) -> np.ndarray:
        """Digests of a String series without nulls, as an (n, 16) uint8 array."""
        if self._lib is None or len(values) == 0:
            return self.digest_python(prefix, values.to_list())
        array = values.rechunk().to_arrow(compat_level=pl.CompatLevel.oldest())
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks()
        array = array.cast(pa.large_string())
        _validity, offsets_buffer, data_buffer = array.buffers()
        n = len(array)
        # Offsets of a sliced array start at its offset; step past them.
        offsets = offsets_buffer.address + 8 * array.offset
        data = data_buffer.address if data_buffer is not None else 0
        out = np.empty((n, DIGEST_BYTES), dtype=np.uint8)

        def run(start: int, end: int) -> None:
            # ctypes releases the GIL for the call, so two halves run on two cores.
            self._lib.triage_hmac_batch(self._inner_state.ctypes.data,
                                        self._outer_state.ctypes.data, prefix, len(prefix),
                                        offsets, data, start, end, out.ctypes.data,
                                        DIGEST_BYTES, self._allow_shani)

        workers = min(os.cpu_count() or 1, 4) if n >= _PARALLEL_MIN else 1
        if workers == 1:
            run(0, n)
        else:
            bounds = np.linspace(0, n, workers + 1, dtype=np.int64)
            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(run, bounds[:-1], bounds[1:]))
        return out
