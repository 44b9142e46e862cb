"""The allocator policy of the triage program (triage.allocator)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import pytest

# The pass's pattern: one thread cuts 16 MiB chunks out of a growing buffer, another
# frees them. Prints whether the policy applied and the page faults it all took.
CHURN = textwrap.dedent("""
    import queue, resource, sys, threading
    from triage.allocator import keep_freed_memory
    applied = keep_freed_memory() if sys.argv[1] == "policy" else False
    handoff = queue.Queue(maxsize=2)
    def cut():
        pending = bytearray()
        for i in range(40):
            pending += b"x" * ((16 << 20) + 1000 * i)
            chunk = bytes(pending[: 16 << 20])
            del pending[: 16 << 20]
            handoff.put(chunk)
        handoff.put(None)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    cutter = threading.Thread(target=cut)
    cutter.start()
    while (chunk := handoff.get()) is not None:
        del chunk
    cutter.join()
    print(applied, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
""")


def _churn(mode: str, **env: str) -> tuple[bool, int]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    out = subprocess.run([sys.executable, "-c", CHURN, mode], env={**clean, **env},
                         capture_output=True, text=True, check=True).stdout.split()
    return out[0] == "True", int(out[1])


def _glibc() -> bool:
    return sys.platform.startswith("linux") and os.confstr("CS_GNU_LIBC_VERSION") is not None


@pytest.mark.skipif(not _glibc(), reason="the policy is glibc's")
def test_policy_keeps_freed_chunks_instead_of_faulting_them_in_again() -> None:
    applied, with_policy = _churn("policy")
    _, default = _churn("default")
    assert applied
    # Measured: ~260,000 faults by default, ~25,000 with the policy.
    assert with_policy * 4 < default


@pytest.mark.skipif(not _glibc(), reason="the policy is glibc's")
def test_a_users_own_malloc_setting_is_left_alone() -> None:
    applied, _ = _churn("policy", MALLOC_ARENA_MAX="4")
    assert not applied


def test_the_program_runs_through_its_entry_point() -> None:
    done = subprocess.run([sys.executable, "-m", "triage", "--version"],
                          capture_output=True, text=True, check=True)
    assert done.stdout.startswith("triage")


def test_a_refused_mmap_threshold_leaves_the_trim_threshold_unset(monkeypatch) -> None:
    from triage import allocator

    calls: list[int] = []

    class FakeMallopt:  # a ctypes function takes argtypes and restype
        def __call__(self, param: int, value: int) -> int:
            calls.append(param)
            return 0 if param == -3 else 1  # M_MMAP_THRESHOLD refused

    for name in [n for n in os.environ if n.startswith("MALLOC_") or n == "GLIBC_TUNABLES"]:
        monkeypatch.delenv(name)
    monkeypatch.setattr(allocator.sys, "platform", "linux")
    monkeypatch.setattr(allocator.ctypes, "CDLL", lambda _name: SimpleNamespace(mallopt=FakeMallopt()))
    assert not allocator.keep_freed_memory()
    assert calls == [-8, -3]  # arenas, then the refused mmap threshold; never M_TRIM_THRESHOLD
