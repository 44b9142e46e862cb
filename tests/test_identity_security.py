"""Whoever steals the index but not the key learns nothing by brute force; unkeyed hashes fail."""

from __future__ import annotations

import hashlib
import os
import random

import polars as pl
from test_identity_support import digest_bytes

from triage.identity.collector import IdentifierPlan, IdentityCollector
from triage.identity.digest import KeyedHasher, hmac_prefix
from triage.identity.keys import HmacKey

PLANTED = 100_000
#: The attacker's search space: 200,000 mobile numbers around the planted ones
#: (the whole French mobile space is ~2e8; the outcome does not depend on the size).
RANGE = [f"+33610{n:06d}" for n in range(200_000)]


def _digests_in(index_dir) -> set[bytes]:  # type: ignore[no-untyped-def]
    frame = pl.read_parquet(next(index_dir.rglob("identifiers.parquet")), columns=["digest"])
    return set(frame["digest"].to_list())


def _attack(stolen: set[bytes], digest_of) -> int:  # type: ignore[no-untyped-def]
    return sum(digest_of(candidate) in stolen for candidate in RANGE)


def test_brute_forcing_the_phone_range_recovers_nothing_without_the_key(tmp_path):
    planted = random.Random(5).sample(RANGE, PLANTED)
    # The leak writes them the French national way: 06 10 ...
    national = [f"0{p[3:4]} {p[4:6]} {p[6:8]} {p[8:10]} {p[10:12]}" for p in planted]
    key = HmacKey(os.urandom(32))
    col = IdentityCollector(key, {"tel": IdentifierPlan("phone", ("phone",))}, region="FR")
    col.update(pl.DataFrame({"tel": national}))
    col.write_index(str(tmp_path), "leak", "leak", [], PLANTED)
    stolen = _digests_in(tmp_path)
    assert len(stolen) == PLANTED

    prefix = hmac_prefix("phone", 1)
    unkeyed = {hashlib.sha256(prefix + p.encode()).digest()[:16] for p in planted}
    # Control: had the index stored unkeyed SHA-256, the whole range falls in one pass.
    assert _attack(unkeyed, lambda c: hashlib.sha256(prefix + c.encode()).digest()[:16]) \
        == PLANTED

    # The same attack on the keyed index: plain SHA-256 with and without the prefix...
    assert _attack(stolen, lambda c: hashlib.sha256(prefix + c.encode()).digest()[:16]) == 0
    assert _attack(stolen, lambda c: hashlib.sha256(c.encode()).digest()[:16]) == 0
    # ...and HMAC under a guessed key (with the right prefix, and even the derivation step).
    guess = HmacKey(os.urandom(32))
    for attempt in (KeyedHasher(guess.subkey("identifiers:v1")), KeyedHasher(os.urandom(32))):
        digests = digest_bytes(attempt, prefix, pl.Series(RANGE))
        assert not stolen & {bytes(d) for d in digests}
