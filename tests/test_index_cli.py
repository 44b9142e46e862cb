"""`triage index` then `triage lookup`: the victim's question, answered from digests."""

from __future__ import annotations

import json
import subprocess
import sys

from synthetic import generate


def triage(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "triage", *args], capture_output=True,
                          text=True, timeout=300, input=stdin)


def lookup(index, key, flag, value):
    result = triage("lookup", str(index), "--key", str(key), flag, "-", "--json", stdin=value)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_index_then_lookup_by_each_identifier_kind(tmp_path):
    dump = tmp_path / "megabus.csv"
    truth = generate("megabus", 3000, dump, seed=5)
    key = tmp_path / "k"
    assert triage("keygen", "hmac", "-o", str(key)).returncode == 0
    index = tmp_path / "index"
    made = triage("index", str(dump), "--key", str(key), "--leak-id", "mb-1", "-o", str(index),
                  "-q")
    assert made.returncode == 0, made.stderr
    assert f"{truth['people']:,} people" in made.stdout
    canary = next(c for c in truth["canaries"] if c.get("phone") and c.get("national_id"))
    assert lookup(index, key, "--email", canary["email"].upper())["found"]
    digits = "".join(ch for ch in canary["phone"] if ch.isdigit())
    international = "+33 " + digits[1:] if digits.startswith("0") else canary["phone"]
    answer = lookup(index, key, "--phone", international)
    assert answer["found"] and answer["leaks"][0]["leak_id"] == "mb-1"
    assert "national_id" in answer["leaks"][0]["categories"]
    assert lookup(index, key, "--national-id", canary["national_id"])["found"]
    assert not lookup(index, key, "--email", "absent.person@example.org")["found"]

    # A second leak appends; the first stays as it was.
    other = tmp_path / "appointments.csv"
    generate("appointments", 500, other, seed=6)
    assert triage("index", str(other), "--key", str(key), "--leak-id", "rdv-1", "-o",
                  str(index), "-q").returncode == 0
    again = triage("index", str(other), "--key", str(key), "--leak-id", "rdv-1", "-o",
                   str(index), "-q")
    assert again.returncode == 2 and "already in this index" in again.stderr
    assert lookup(index, key, "--email", canary["email"])["leaks"][0]["leak_id"] == "mb-1"

    wrong = tmp_path / "other.key"
    triage("keygen", "hmac", "-o", str(wrong))
    refused = triage("lookup", str(index), "--key", str(wrong), "--email", "-", stdin="x@y.fr")
    assert refused.returncode == 2 and "key id" in refused.stderr
    assert refused.stderr.count("\n") == 1
    for text in (made.stdout, made.stderr, refused.stderr):
        assert canary["email"] not in text and digits not in text
