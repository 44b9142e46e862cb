"""Shared benchmark plumbing: make or reuse a synthetic dump, time commands in child
processes (wall time and peak RSS each), and time polars' streaming baseline over
the same file in the same run, so every figure is a ratio to that baseline."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
BASELINE = (
    "import polars as pl, sys\n"
    "pl.scan_csv(sys.argv[1], separator=sys.argv[2], infer_schema=False, encoding='utf8-lossy')"
    ".select(pl.all().null_count()).collect(engine='streaming')\n"
)


def dump(scenario: str, rows: int, seed: int = 1, extra: tuple[str, ...] = ()) -> Path:
    """Path of a synthetic dump, generated once by ``triage synth`` and reused."""
    DATA.mkdir(parents=True, exist_ok=True)
    suffix = ".jsonl" if scenario == "pixel_events" else ".csv"
    path = DATA / f"{scenario}_{rows}{''.join(extra).replace('-', '_')}{suffix}"
    if not path.exists():
        print(f"generating {path.name} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "triage", "synth", scenario, "--rows", str(rows),
                        "-o", str(path), "--seed", str(seed), "--quiet", *extra], check=True)
    return path


def measure(command: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """(wall seconds, peak RSS bytes) of one child process."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}")
    return wall, usage.ru_maxrss * 1024


def alternated(commands: dict[str, list[str]], repeats: int,
               env: dict[str, str] | None = None,
               cleanup: Callable[[], object] | None = None
               ) -> dict[str, list[tuple[float, int]]]:
    """(wall, peak RSS) of each command, run in turn ``repeats`` times (round 1: every
    command once, then round 2...). This host's speed drifts by a third within an hour;
    a drift moves both sides of a round alike, so a round's ratio holds where the ratio
    of two medians taken minutes apart did not. ``cleanup`` runs before each command
    (e.g. to remove the output a command refuses to overwrite)."""
    runs: dict[str, list[tuple[float, int]]] = {label: [] for label in commands}
    for _ in range(repeats):
        for label, command in commands.items():
            if cleanup is not None:
                cleanup()
            runs[label].append(measure(command, env))
    return runs


def ratios(runs: dict[str, list[tuple[float, int]]], label: str, baseline: str) -> str:
    """``label`` against ``baseline``, round by round, and the median of those ratios."""
    each = [w / b for (w, _), (b, _) in zip(runs[label], runs[baseline], strict=True)]
    rounds = ", ".join(f"{r:.2f}" for r in each)
    return f"{statistics.median(each):.2f} (median of rounds: {rounds})"


def baseline_command(path: Path, separator: str) -> list[str]:
    return [sys.executable, "-c", BASELINE, str(path), separator]


def separator_of(path: Path) -> str:
    with open(path, "rb") as handle:
        head = handle.read(65536)
    return max([";", ",", "\t", "|"], key=lambda s: head.count(s.encode()))


def gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"
