"""glibc's malloc, told to keep the pages a pass frees for the next chunk.

By default glibc gives each thread an arena of its own, maps every block over an
adaptive threshold afresh and hands the free top of a heap back to the system past
another. The pass allocates a 16 MiB chunk, its frames and their scratch arrays over
and over from three threads, so each chunk faulted in fresh, zeroed pages: ~290,000
page faults in a `triage profile` of the 2M-row lab export, and about a second of
kernel time. With one arena, blocks up to 32 MiB (the most glibc allows) served from
the heap and its top kept up to 256 MiB, the same run takes ~150,000 and ~0.5 s less
kernel time (see ``docs/architecture.md``). What the pass holds at once, hence its
peak, does not change: a freed page is only kept to be used again.

It is a policy for the whole process, so only entry points apply it (the command
line, a local cluster's workers), never the library. Other C libraries (musl, macOS)
have no such knobs and are left alone, as is a user's own ``MALLOC_*`` setting.
"""

from __future__ import annotations

import ctypes
import os
import sys

_ARENA_MAX, _MMAP_THRESHOLD, _TRIM_THRESHOLD = -8, -3, -1  # mallopt's parameter numbers
_SETTINGS = {_ARENA_MAX: 1, _MMAP_THRESHOLD: 32 << 20, _TRIM_THRESHOLD: 256 << 20}

#: The same settings for a process about to start (glibc reads them at start-up).
ALLOCATOR_ENV = {"MALLOC_ARENA_MAX": str(_SETTINGS[_ARENA_MAX]),
                 "MALLOC_MMAP_THRESHOLD_": str(_SETTINGS[_MMAP_THRESHOLD]),
                 "MALLOC_TRIM_THRESHOLD_": str(_SETTINGS[_TRIM_THRESHOLD])}


def keep_freed_memory() -> bool:
    """Apply the settings to this process; True when glibc took them all.

    Call it before any thread starts: glibc fixes its number of arenas when a second
    thread first allocates.
    """
    if not sys.platform.startswith("linux") or _user_tuned():
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    # In order, stopping at a refusal: a trim threshold also turns off the adaptive mmap
    # threshold, so set without the 32 MiB one (a glibc with smaller heaps refuses it)
    # it would map every block over 128 KiB afresh: 1.2M faults on the lab export
    # where the default took 0.23M.
    return all(mallopt(param, value) == 1 for param, value in _SETTINGS.items())


def _user_tuned() -> bool:
    return "GLIBC_TUNABLES" in os.environ or any(
        name.startswith("MALLOC_") for name in os.environ)
