"""The optional native kernel: a few hot loops in C, compiled on first use.

``triage/_native.c`` holds loops that Python runs slowly or only while holding the
GIL, most of them over polars' string views read in place: canonical forms and
HMAC-SHA256, exposure bits (identity), fixed-width dates (profile and identity),
HyperLogLog registers (profile), union-find and the people of an identity state
(digests numbered and linked in one pass), single-byte text to UTF-8
(delimited sources) and MySQL value lists (SQL dumps). It is compiled with the
system C compiler into a per-user cache the first time it is needed and loaded with
ctypes, which releases the GIL during each call (see ``hold_gil``), so these loops run
beside polars on the other core. Without a compiler, or with ``TRIAGE_NATIVE=0``,
every caller uses its pure-Python or polars twin, which gives identical results (the
tests compare them).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

_SOURCE = Path(__file__).with_name("_native.c")


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "triage"


def _compile() -> Path | None:
    source = _SOURCE.read_bytes()
    tag = hashlib.sha256(source + sys.platform.encode()).hexdigest()[:16]
    for folder in (_cache_dir(), Path(tempfile.gettempdir()) / f"triage-{os.getuid()}"):
        target = folder / f"native_{tag}.so"
        if target.exists():
            return target
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            # Build beside the target and rename: concurrent first uses never see half a file.
            with tempfile.NamedTemporaryFile(dir=folder, suffix=".so", delete=False) as tmp:
                partial = Path(tmp.name)
            subprocess.run([os.environ.get("CC", "cc"), "-O3", "-fPIC", "-shared", "-o",
                            str(partial), str(_SOURCE)],
                           check=True, capture_output=True, timeout=120)
            partial.replace(target)
            return target
        except (OSError, subprocess.SubprocessError):
            continue
    return None


@cache
def native_kernel(hold_gil: bool = False) -> ctypes.CDLL | None:
    """The compiled kernel, or None (no compiler, or disabled with TRIAGE_NATIVE=0).

    Its calls release the GIL, except with ``hold_gil``: for calls of microseconds,
    made many times per batch (the profile's sketches), releasing the GIL costs more
    than the call, since taking it back may wait for another thread's switch interval.
    """
    if os.environ.get("TRIAGE_NATIVE", "1") == "0":
        return None
    path = _compile()
    if path is None:
        return None
    try:
        lib = (ctypes.PyDLL if hold_gil else ctypes.CDLL)(str(path))
    except OSError:
        return None
    lib.triage_hmac_views.restype = None
    lib.triage_hmac_views.argtypes = [
        ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
        ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64,
        ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
    lib.triage_canonical_digest.restype = None
    lib.triage_canonical_digest.argtypes = [
        ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
        ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64,
        ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
        ctypes.c_int]
    lib.triage_name_birth_digest.restype = None
    lib.triage_name_birth_digest.argtypes = [
        ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int,
        ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
        ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64,
        ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p,
        ctypes.c_void_p, ctypes.c_int]
    lib.triage_phone_digest.restype = None
    lib.triage_phone_digest.argtypes = [
        ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
        ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64,
        ctypes.c_char_p, ctypes.c_int64, ctypes.c_char_p, ctypes.c_int64, ctypes.c_char_p,
        ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
        ctypes.c_void_p, ctypes.c_int]
    lib.triage_filled_bits.restype = None
    lib.triage_filled_bits.argtypes = [ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p,
                                       ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                                       ctypes.c_void_p, ctypes.c_void_p]
    lib.triage_parse_times.restype = None
    lib.triage_parse_times.argtypes = [ctypes.c_char_p, ctypes.c_int64, ctypes.c_void_p,
                                       ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64,
                                       ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p]
    lib.triage_length_stats.restype = None
    lib.triage_length_stats.argtypes = [ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p,
                                        ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    lib.triage_hll_add.restype = None
    lib.triage_hll_add.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_int,
                                   ctypes.c_void_p]
    lib.triage_sha256_block_state.restype = None
    lib.triage_sha256_block_state.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    lib.triage_hmac_uses_shani.restype = ctypes.c_int
    lib.triage_union_find.restype = None
    lib.triage_union_find.argtypes = [ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p,
                                      ctypes.c_int64, ctypes.c_void_p]
    lib.triage_resolve_members.restype = ctypes.c_int64
    lib.triage_resolve_members.argtypes = [ctypes.c_int64, ctypes.c_void_p, ctypes.c_int64,
                                           ctypes.c_int64, ctypes.c_int,
                                           *[ctypes.c_void_p] * 7]
    lib.triage_split_delimited.restype = ctypes.c_int64
    lib.triage_split_delimited.argtypes = [ctypes.c_char_p, ctypes.c_int64, ctypes.c_int,
                                           ctypes.c_int, ctypes.c_int64, ctypes.c_int64,
                                           ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                                           ctypes.c_int]
    lib.triage_gather_long_values.restype = None
    lib.triage_gather_long_values.argtypes = [ctypes.c_char_p, ctypes.c_int64,
                                              ctypes.c_void_p, ctypes.c_int64,
                                              ctypes.c_int64, ctypes.c_void_p,
                                              ctypes.c_void_p, ctypes.c_void_p,
                                              ctypes.c_void_p]
    lib.triage_region_codes.restype = None
    lib.triage_region_codes.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p,
                                        ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64,
                                        ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    lib.triage_transcode_single_byte.restype = ctypes.c_int64
    lib.triage_transcode_single_byte.argtypes = [ctypes.c_void_p, ctypes.c_int64,
                                                 ctypes.c_void_p, ctypes.c_void_p]
    return lib


class StringViews:
    """A String series as the kernel reads it: its Arrow string_view array (polars'
    own layout, so no copy) and the addresses of its parts. Holds the array, so the
    addresses stay valid while this object lives."""

    def __init__(self, values: pl.Series) -> None:
        # Unnamed: Arrow's field name is a C string, and derived columns start with NUL.
        array = values.cast(pl.String).rechunk().rename("").to_arrow(
            compat_level=pl.CompatLevel.newest())
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks()
        if array.type != pa.string_view():
            array = array.cast(pa.string_view())
        self.array = array
        validity, views, *data = array.buffers()
        self.views = views.address
        self.validity = validity.address if validity is not None else None
        self.offset = array.offset
        self.buffers = (ctypes.c_void_p * max(1, len(data)))(
            *[buffer.address if buffer is not None else 0 for buffer in data])


#: strptime directives the kernel reads (``triage_parse_times``), as it numbers them.
_TIME_DIRECTIVES = {"d": 1, "m": 2, "Y": 3, "H": 4, "M": 5, "S": 6}


@cache
def fixed_time_format(fmt: str) -> bytes | None:
    """The kernel's encoding of a strptime format made of %d, %m and %Y (once each),
    %H, %M, %S and printable ASCII literals; None for any other format."""
    encoded, seen, i = bytearray(), set(), 0
    while i < len(fmt):
        if fmt[i] == "%":
            directive = fmt[i + 1:i + 2]
            if directive not in _TIME_DIRECTIVES or directive in seen:
                return None
            seen.add(directive)
            encoded.append(_TIME_DIRECTIVES[directive])
            i += 2
        elif fmt[i].isascii() and fmt[i].isprintable():
            encoded += fmt[i].encode()
            i += 1
        else:
            return None
    return bytes(encoded) if {"d", "m", "Y"} <= seen else None


def parse_times(values: pl.Series, fmt: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(microseconds from 1970-01-01, status) of each value read with ``fmt`` by the
    kernel: status 1 read, 0 null or empty, 2 left to polars (``triage_parse_times``).
    None without the kernel, or for a format it does not read."""
    lib = native_kernel()
    encoded = fixed_time_format(fmt)
    if lib is None or encoded is None:
        return None
    strings = StringViews(values)
    micros = np.empty(len(values), dtype=np.int64)
    status = np.empty(len(values), dtype=np.uint8)
    lib.triage_parse_times(encoded, len(encoded), strings.views, strings.buffers,
                           strings.validity, strings.offset, len(values), micros.ctypes.data,
                           status.ctypes.data)
    return micros, status


def region_codes(kind: int, values: pl.Series,
                 table: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(packed region code, status) of each value by the kernel's rule number ``kind``
    and its ``table`` (``triage_region_codes``): status 1 derived (code 0: none), 0 null,
    2 left to the polars path. None without the kernel."""
    lib = native_kernel()
    if lib is None:
        return None
    strings = StringViews(values)
    table = np.ascontiguousarray(table, dtype=np.uint64)
    codes = np.empty(len(values), dtype=np.uint64)
    status = np.empty(len(values), dtype=np.uint8)
    lib.triage_region_codes(kind, strings.views, strings.buffers, strings.validity,
                            strings.offset, len(values), table.ctypes.data, codes.ctypes.data,
                            status.ctypes.data)
    return codes, status


class StringViewColumns:
    """Several String series as the kernel's parallel arrays of views, data-buffer
    lists, validity bitmaps and offsets (one entry a column)."""

    def __init__(self, columns: list[pl.Series]) -> None:
        self.strings = [StringViews(values) for values in columns]
        pointers = ctypes.c_void_p * max(1, len(self.strings))
        self.views = pointers(*[s.views for s in self.strings])
        self.buffers = pointers(*[ctypes.addressof(s.buffers) for s in self.strings])
        self.validity = pointers(*[s.validity for s in self.strings])
        self.offsets = np.array([s.offset for s in self.strings], dtype=np.int64)


class _MemberColumn(ctypes.Structure):
    _fields_ = [("rows", ctypes.c_int64), ("hi", ctypes.c_void_p), ("lo", ctypes.c_void_p),
                ("valid", ctypes.c_void_p), ("valid_offset", ctypes.c_int64),
                ("first_tuple", ctypes.c_int64),
                ("slot", ctypes.c_uint32)]


class MemberColumns:
    """Slots' digests as the kernel reads them in place (``MemberColumn`` in
    ``_native.c``): per chunk of a slot's hi and lo UInt64 series (null where a row has
    no digest; row r is tuple ``first_tuple + r``), their buffers' addresses and the
    slot. Holds the Arrow arrays, so the addresses stay valid while this object lives."""

    def __init__(self) -> None:
        self._arrays: list[pa.Array] = []
        self._columns: list[_MemberColumn] = []
        self.members = 0

    def add(self, hi: pl.Series, lo: pl.Series, slot: int, first_tuple: int = 0) -> None:
        if hi.dtype != pl.UInt64 or lo.dtype != pl.UInt64:
            raise TypeError("digest halves are UInt64 series")
        parts = [hi.alias(""), lo.alias("")]  # Arrow refuses the slots' "\0" names
        if parts[0].chunk_lengths() != parts[1].chunk_lengths():
            parts = [part.rechunk() for part in parts]
        for chunks in zip(*(part.get_chunks() for part in parts), strict=True):
            arrays = [chunk.to_arrow() for chunk in chunks]
            self._arrays += arrays
            hi_array, lo_array = arrays[0], arrays[1]
            validity = hi_array.buffers()[0] if hi_array.null_count else None
            self._columns.append(_MemberColumn(
                len(hi_array), _values_address(hi_array, 8), _values_address(lo_array, 8),
                validity.address if validity is not None else None, hi_array.offset,
                first_tuple, slot))
            self.members += len(hi_array) - hi_array.null_count
            first_tuple += len(hi_array)

    def array(self) -> ctypes.Array[_MemberColumn]:
        return (_MemberColumn * max(1, len(self._columns)))(*self._columns)

    def __len__(self) -> int:
        return len(self._columns)


def _values_address(array: pa.Array, width: int) -> int:
    return array.buffers()[1].address + array.offset * width


def length_stats(columns: list[pl.Series]) -> np.ndarray | None:
    """Per String column, [present, empty, shortest, longest, total] of the UTF-8
    lengths of its values (the last three over the non-empty ones; shortest and
    longest 0 when there are none), read from the views alone
    (``triage_length_stats``). None without the kernel."""
    lib = native_kernel()
    if lib is None:
        return None
    strings = StringViewColumns(columns)
    stats = np.empty((len(columns), 5), dtype=np.int64)
    height = len(columns[0]) if columns else 0
    lib.triage_length_stats(height, len(columns), strings.views, strings.validity,
                            strings.offsets.ctypes.data, stats.ctypes.data)
    return stats


@cache
def _utf8_table(encoding: str, errors: str) -> np.ndarray:
    """Per byte of a single-byte encoding: its UTF-8 length, then those bytes."""
    table = np.zeros((256, 4), dtype=np.uint8)
    for byte in range(256):
        utf8 = bytes([byte]).decode(encoding, errors).encode("utf-8")
        table[byte, 0] = len(utf8)
        table[byte, 1:1 + len(utf8)] = np.frombuffer(utf8, dtype=np.uint8)
    return table


def transcode_single_byte(data: bytes | memoryview, encoding: str, errors: str,
                          out: np.ndarray | None = None) -> memoryview | None:
    """``data.decode(encoding, errors).encode("utf-8")`` for a single-byte encoding,
    without the GIL, as a view of ``out`` (uint8, reused by a caller that copies each
    result away before the next call; made when missing or too small); None when the
    kernel is not available."""
    lib = native_kernel()
    if lib is None:
        return None
    table = _utf8_table(encoding, errors)
    if table[:, 0].max() > 3:
        return None
    if out is None or len(out) < 3 * len(data):
        out = np.empty(3 * len(data), dtype=np.uint8)
    source = np.frombuffer(data, dtype=np.uint8)
    written = lib.triage_transcode_single_byte(source.ctypes.data, len(source),
                                              table.ctypes.data, out.ctypes.data)
    return memoryview(out)[:written]


def split_delimited(chunk: bytes, delimiter: str, quote: str | None,
                    names: list[str], records: int, *,
                    utf8_checked: bool = False) -> pl.DataFrame | None:
    """The whole records of UTF-8 ``chunk`` as a frame of String columns ``names``,
    split without the GIL straight into Arrow string views, each column's long values
    in a buffer of its own (``triage_split_delimited`` then
    ``triage_gather_long_values`` in _native.c); ``records`` is at least their count
    (the chunk's line ends, plus one). None without the kernel, and for any chunk it
    does not take (ragged rows, stray quotes or carriage returns, invalid UTF-8): those
    go to polars' reader and the exact one, as before. ``utf8_checked``: the caller
    made ``chunk`` itself as UTF-8 (a transcoder's output), so it is not checked again."""
    lib = native_kernel()
    if lib is None or len(delimiter.encode()) != 1 or (quote and len(quote.encode()) != 1):
        return None
    width = len(names)
    views = [np.empty(16 * records, dtype=np.uint8) for _ in range(width)]
    view_pointers = (ctypes.c_void_p * width)(*[v.ctypes.data for v in views])
    quoted = bool(quote) and quote.encode() in chunk  # type: ignore[union-attr]
    scratch = np.empty(len(chunk) if quoted else 0, dtype=np.uint8)
    column_bytes = np.empty(width, dtype=np.int64)
    rows = lib.triage_split_delimited(chunk, len(chunk), delimiter.encode()[0],
                                      quote.encode()[0] if quote else -1, width, records,
                                      view_pointers, scratch.ctypes.data,
                                      column_bytes.ctypes.data, int(utf8_checked))
    if rows < 0:
        return None
    values = [np.empty(size, dtype=np.uint8) for size in column_bytes.tolist()]
    value_pointers = (ctypes.c_void_p * width)(*[v.ctypes.data for v in values])
    # Named, not inline: a temporary's memory would be freed before the call uses it.
    cursors = np.empty(width, dtype=np.int64)
    lib.triage_gather_long_values(chunk, len(chunk), scratch.ctypes.data, rows, width,
                                  view_pointers, value_pointers, column_bytes.ctypes.data,
                                  cursors.ctypes.data)
    columns = [pa.Array.from_buffers(pa.string_view(), rows, [
        None, pa.py_buffer(view[:16 * rows]), pa.py_buffer(data)])
        for view, data in zip(views, values, strict=True)]
    return pl.from_arrow(pa.Table.from_arrays(columns, names=names))  # type: ignore[return-value]


#: ``mysql_values`` outcomes (``TRIAGE_SQL_*`` in _native.c).
SQL_END, SQL_MORE, SQL_FULL, SQL_BAIL = 0, 1, 2, 3


@cache
def _mysql_values_kernel() -> ctypes._CFuncPtr | None:
    lib = native_kernel()
    if lib is None:
        return None
    function = lib.triage_mysql_values
    function.restype = ctypes.c_int64
    function.argtypes = [ctypes.c_char_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64,
                         ctypes.c_int, ctypes.c_char_p, ctypes.c_int64, ctypes.c_void_p,
                         ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p,
                         ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
    return function


def mysql_values_available() -> bool:
    return _mysql_values_kernel() is not None


def mysql_values(data: bytes, start: int, width: int, backslash: bool, header: bytes,
                 out: np.ndarray, used: int, soft: int, stats: np.ndarray, ends: np.ndarray,
                 ) -> tuple[int, int, int, int, int, int, int]:
    """INSERT value lists from ``data[start]`` appended to ``out`` as CSV, without the GIL
    (``triage_mysql_values`` in _native.c says how); the following statements too while
    they start with ``header`` and ``out`` holds less than ``soft`` bytes.

    Returns (status, stop, next, used, tuples, bad, statements): ``status`` one of
    ``SQL_*``; ``stop`` the index of the last ``;`` read (``SQL_END``) or where reading
    stopped; then, for the tuples completed: where the next one starts, ``out`` used after
    them, their count and how many hold U+FFFD; and the statements ended, whose ``;``
    indexes are in ``ends``. ``stats`` (int64, ``6 * width``) gets the tuples' per-column
    value bytes and nulls in its first ``2 * width``. Only with the kernel
    (``mysql_values_available()``); without it, ``triage.sources.sql`` reads the same
    rows with polars and its exact tokenizer, and the tests compare the two.
    """
    function = _mysql_values_kernel()
    if function is None:
        raise RuntimeError("the native kernel is not available")
    if out.dtype != np.uint8 or stats.dtype != np.int64 or len(stats) < 6 * width \
            or ends.dtype != np.int64 or not len(ends):
        raise ValueError("out must be uint8, stats int64 of 6 * width, ends int64")
    result = np.zeros(6, dtype=np.int64)
    status = function(data, start, len(data), width, int(backslash), header, len(header),
                      out.ctypes.data, used, soft, len(out), result.ctypes.data,
                      stats.ctypes.data, ends.ctypes.data, len(ends))
    stop, following, used_after, tuples, bad, statements = result.tolist()
    return int(status), stop, following, used_after, tuples, bad, statements
