from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from triage.sources import RowAccounting, open_sources

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def read_all(path: Path | str, **source_options) -> tuple[list[dict], RowAccounting, list]:
    """Every row of every source of ``path`` as dicts, the merged accounting, the sources."""
    rows: list[dict] = []
    accounting = RowAccounting()
    sources = open_sources(path)
    for source in sources:
        for name, value in source_options.items():
            setattr(source, name, value)
        for batch in source.batches():
            rows.extend(batch.to_dicts())
        accounting = accounting.merge(source.accounting)
    return rows, accounting, sources


def frame_of(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows)


@pytest.fixture
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside this checkout")
    return SHARED


def triage_in(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """``python -m triage ARGS`` run in ``tmp_path`` with a config home of its own;
    asserts it succeeded (its stderr is the message otherwise)."""
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"), "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-m", "triage", *args], capture_output=True,
                            timeout=300, env=env, cwd=tmp_path, check=False)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result


def keyed_scan(tmp_path: Path, dump: Path, leak_id: str
               ) -> tuple[Path, Path, subprocess.CompletedProcess]:
    """``triage scan DUMP`` under a new HMAC key, plaintext outputs in ``tmp_path/out``:
    (the output folder, the key file, what the scan printed)."""
    key = tmp_path / "hmac.key"
    triage_in(tmp_path, "keygen", "hmac", "-o", str(key))
    out = tmp_path / "out"
    scanned = triage_in(tmp_path, "scan", str(dump), "-o", str(out), "--key", str(key),
                        "--plaintext", "--leak-id", leak_id, "-q")
    return out, key, scanned
