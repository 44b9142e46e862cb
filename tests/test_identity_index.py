"""The lookup index: manifest, append-only leaks, wrong key, no plaintext on disk, overlap, CLI,
partitions by digest prefix, format 1 still read, fsspec URLs."""

from __future__ import annotations

import hashlib
import json
import os

import jsonschema
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from test_identity_support import CANARY_EMAIL, CANARY_PHONE, build_index, new_key, patients

from triage.cli import main
from triage.errors import TriageError
from triage.identity.index import read_manifest
from triage.identity.lookup import LookupIndex
from triage.identity.overlap import overlap
from triage.resources import load_schema


@pytest.fixture
def key_file(tmp_path):
    path = tmp_path / "hmac.key"
    assert CliRunner().invoke(main, ["keygen", "hmac", "-o", str(path)]).exit_code == 0
    return path


@pytest.fixture
def index(tmp_path, key_file):
    from triage.identity.keys import load_hmac_key
    key = load_hmac_key(str(key_file))
    build_index(key, tmp_path / "index", "leak-a", patients(400), "Clinic A")
    return tmp_path / "index"


def test_manifest_follows_its_schema(index):
    manifest = read_manifest(index)
    jsonschema.validate(manifest, load_schema("index-manifest.schema.json"))
    leak = manifest["leaks"][0]
    assert leak["people"] == 200 and leak["rows"] == 400
    assert leak["inputs"][0]["sha256"] == "0" * 64


def test_cli_lookup_hit_miss_and_schema(index, key_file):
    schema = load_schema("lookup.schema.json")
    runner = CliRunner()
    hit = runner.invoke(main, ["lookup", str(index), "--key", str(key_file),
                               "--phone", "+33 6 00 00 00 05", "--json"])
    assert hit.exit_code == 0, hit.output
    answer = json.loads(hit.output)
    jsonschema.validate(answer, schema)
    assert answer["found"] and answer["leaks"][0]["leak_id"] == "leak-a"
    assert "diagnosis" in answer["leaks"][0]["categories"]  # person 5 has a diagnosis
    miss = runner.invoke(main, ["lookup", str(index), "--key", str(key_file),
                                "--email", "nobody@example.fr", "--json"])
    assert json.loads(miss.output) == {"found": False, "leaks": []}
    by_name = runner.invoke(main, ["lookup", str(index), "--key", str(key_file), "--name",
                                   "HELENE NOM1", "--birth-date", "1985-03-02", "--json"])
    assert json.loads(by_name.output)["found"]


def test_cli_reads_the_identifier_from_stdin(index, key_file):
    result = CliRunner().invoke(main, ["lookup", str(index), "--key", str(key_file),
                                       "--email", "-", "--json"], input="PATIENT3@example.fr\n")
    assert json.loads(result.output)["found"]


def test_another_key_is_an_error_never_a_miss(index, tmp_path):
    other = tmp_path / "other.key"
    CliRunner().invoke(main, ["keygen", "hmac", "-o", str(other)])
    result = CliRunner().invoke(main, ["lookup", str(index), "--key", str(other),
                                       "--email", "patient3@example.fr"])
    assert result.exit_code == 2
    assert "key id" in result.output
    with pytest.raises(TriageError, match="key id"):
        build_index(new_key(), index, "leak-b", patients(10))


def test_adding_a_leak_never_rewrites_the_others(index, key_file):
    from triage.identity.keys import load_hmac_key
    key = load_hmac_key(str(key_file))
    first = index / "leaks" / "leak-a" / "identifiers.parquet"
    before = (first.read_bytes(), os.stat(first).st_mtime_ns)
    build_index(key, index, "leak-b", patients(100, seed=0), "Clinic B")
    assert (first.read_bytes(), os.stat(first).st_mtime_ns) == before
    manifest = read_manifest(index)
    assert [leak["leak_id"] for leak in manifest["leaks"]] == ["leak-a", "leak-b"]
    answer = LookupIndex(index, key).lookup("email", "patient7@example.fr")
    assert [leak["leak_id"] for leak in answer["leaks"]] == ["leak-a", "leak-b"]
    with pytest.raises(TriageError, match="already"):
        build_index(key, index, "leak-b", patients(10))


def test_no_plaintext_in_index_files(index):
    needles = [CANARY_EMAIL, "0698765432", "+33698765432", "698765432", CANARY_PHONE,
               "patient3@example.fr", "nom3", "185037500000003"]
    for path in index.rglob("*"):
        if path.is_file():
            data = path.read_bytes().lower()
            for needle in needles:
                assert needle.encode().lower() not in data, (path.name, needle)


def test_overlap_counts_people_in_both(index, key_file):
    from triage.identity.keys import load_hmac_key
    key = load_hmac_key(str(key_file))
    # Leak B: people 0..49 again (a re-post), plus 50 strangers.
    frame = patients(100, seed=0, with_canary=False)
    strangers = patients(100, seed=7, with_canary=False)
    build_index(key, index, "leak-b", frame[:50].vstack(strangers[:50]))
    result = overlap(index, "leak-a", "leak-b")
    assert result["people_a_in_b"] == 50
    assert result["by_identifier_kind"]["email"]["people_a"] == 50
    cli = CliRunner().invoke(main, ["overlap", str(index), "leak-a", "leak-b", "--json"])
    assert cli.exit_code == 0 and json.loads(cli.output)["people_b_in_a"] == 50
    missing = CliRunner().invoke(main, ["overlap", str(index), "leak-a", "nope"])
    assert missing.exit_code == 2


def test_index_bytes_per_identifier(tmp_path):
    key = new_key()
    manifest = build_index(key, tmp_path / "index", "big", patients(20_000, with_canary=False))
    leak = manifest["leaks"][0]
    on_disk = sum(p.stat().st_size for p in (tmp_path / "index" / "leaks").rglob("*"))
    assert on_disk / leak["identifiers"] <= 48


def test_digests_ending_in_zero_bytes_are_found(tmp_path):
    # numpy's fixed-width bytes drop trailing NULs in comparisons: a past bug.
    import polars as pl

    from triage.identity.index import add_leak
    key = new_key()
    his = [0x0100000000000000, 0x0200000000000000, 0xFF00000000000000]
    entries = pl.DataFrame({
        "kind": ["email"] * 3, "hi": his, "lo": [0, 0x100, 0],
        "person": [0, 1, 2], "categories": [1, 1, 1],
        "first_seen": [None] * 3, "last_seen": [None] * 3,
    }, schema={"kind": pl.String, "hi": pl.UInt64, "lo": pl.UInt64, "person": pl.UInt64,
               "categories": pl.UInt64, "first_seen": pl.Date, "last_seen": pl.Date})
    add_leak(tmp_path, key.key_id, {"leak_id": "z", "name": "z", "categories": ["email"],
                                    "region": "FR", "inputs": [], "rows": 3, "people": 3,
                                    "people_method": "given", "by_identifier_kind": {}},
             entries)
    index = LookupIndex(tmp_path, key)
    for hi, lo in zip(his, [0, 0x100, 0], strict=True):
        digest = hi.to_bytes(8, "big") + lo.to_bytes(8, "big")
        assert index.lookup_digest(digest), digest.hex()
    assert not index.lookup_digest(bytes(16))


def test_preloaded_and_on_disk_lookups_agree(index, key_file):
    from triage.identity.keys import load_hmac_key
    key = load_hmac_key(str(key_file))
    on_disk, in_memory = LookupIndex(index, key), LookupIndex(index, key, preload=True)
    probes = [("email", f"patient{i}@example.fr") for i in range(0, 260, 7)]
    probes += [("phone", "06 00 00 00 05"), ("phone", CANARY_PHONE), ("email", "x@y.fr")]
    for kind, value in probes:
        assert on_disk.lookup(kind, value) == in_memory.lookup(kind, value)


@pytest.fixture
def small_partitions(monkeypatch):
    """Partitions of at most 64 identifiers, so that a small leak has 16 or 256 of them."""
    from triage.identity import index as index_module
    monkeypatch.setattr(index_module, "PARTITION_ROWS", 64)


def test_a_large_leak_is_partitioned_by_digest_prefix(tmp_path, key_file, monkeypatch):
    from triage.identity import index as index_module
    from triage.identity.keys import load_hmac_key
    key = load_hmac_key(str(key_file))
    whole = tmp_path / "whole"
    build_index(key, whole, "leak-a", patients(400), "Clinic A")
    monkeypatch.setattr(index_module, "PARTITION_ROWS", 64)
    manifest = build_index(key, tmp_path / "parts", "leak-a", patients(400), "Clinic A")
    jsonschema.validate(manifest, load_schema("index-manifest.schema.json"))
    leak = manifest["leaks"][0]
    # 200 people, ~700 identifiers over partitions of about 64: one hex digit, 16 files.
    assert 64 < leak["identifiers"] <= 64 * 16
    assert leak["prefix_digits"] == 1 and len(leak["partitions"]) == 16
    assert leak["bytes"] == sum(p["bytes"] for p in leak["partitions"])
    digests = []
    for number, partition in enumerate(leak["partitions"]):
        assert partition["file"] == f"leaks/leak-a/identifiers-{number:x}.parquet"
        data = (tmp_path / "parts" / partition["file"]).read_bytes()
        assert len(data) == partition["bytes"]
        assert hashlib.sha256(data).hexdigest() == partition["sha256"]
        column = pq.read_table(tmp_path / "parts" / partition["file"]).column("digest")
        assert all(d.hex().startswith(f"{number:x}") for d in column.to_pylist())
        digests += column.to_pylist()
    assert len(digests) == leak["identifiers"] and digests == sorted(digests)
    # Lookups, in memory and on disk, and overlap read the partitions as one leak.
    on_disk, in_memory = LookupIndex(tmp_path / "parts", key), \
        LookupIndex(tmp_path / "parts", key, preload=True)
    reference = LookupIndex(whole, key)
    for kind, value in [("email", f"patient{i}@example.fr") for i in range(0, 260, 9)] + [
            ("phone", CANARY_PHONE), ("email", "nobody@example.fr")]:
        expected = reference.lookup(kind, value)
        assert on_disk.lookup(kind, value) == in_memory.lookup(kind, value) == expected
    build_index(key, tmp_path / "parts", "leak-b", patients(100, seed=0, with_canary=False))
    assert overlap(tmp_path / "parts", "leak-a", "leak-b")["people_b_in_a"] == 50


def test_a_format_1_index_is_read_and_grows(index, key_file):
    from triage.identity.keys import load_hmac_key
    key = load_hmac_key(str(key_file))
    manifest = json.loads((index / "manifest.json").read_text())
    leak = manifest["leaks"][0]
    (partition,) = leak.pop("partitions")
    del leak["prefix_digits"]
    leak.update(file=partition["file"], bytes=partition["bytes"], sha256=partition["sha256"])
    manifest["format_version"] = 1
    jsonschema.validate(manifest, load_schema("index-manifest.schema.json"))
    (index / "manifest.json").write_text(json.dumps(manifest))
    assert LookupIndex(index, key).lookup("email", "patient3@example.fr")["found"]
    grown = build_index(key, index, "leak-b", patients(100, seed=0), "Clinic B")
    assert grown["format_version"] == 2 and grown["leaks"][0] == leak
    jsonschema.validate(grown, load_schema("index-manifest.schema.json"))
    answer = LookupIndex(index, key).lookup("email", "patient7@example.fr")
    assert [hit["leak_id"] for hit in answer["leaks"]] == ["leak-a", "leak-b"]


def test_an_index_at_an_fsspec_url_has_the_same_files(tmp_path, small_partitions):
    fsspec = pytest.importorskip("fsspec")
    key = new_key()
    local = build_index(key, tmp_path / "local", "leak-a", patients(300))
    url = f"memory://index-{os.getpid()}-{tmp_path.name}"
    remote = build_index(key, url, "leak-a", patients(300))
    memory = fsspec.filesystem("memory")
    try:
        assert [p["sha256"] for p in remote["leaks"][0]["partitions"]] == \
            [p["sha256"] for p in local["leaks"][0]["partitions"]]
        for partition in local["leaks"][0]["partitions"]:
            for name in (partition["file"], partition["starts"]):
                assert memory.cat_file(f"{url}/{name}") == (tmp_path / "local" / name).read_bytes()
        assert read_manifest(url)["leaks"][0]["identifiers"] == local["leaks"][0]["identifiers"]
        with pytest.raises(TriageError, match="already in this index"):
            build_index(key, url, "leak-a", patients(10))
        with pytest.raises(TriageError, match="local directory"):
            LookupIndex(url, key)
    finally:
        memory.rm(url, recursive=True)
    # file:// is a local directory, with its lock and atomic manifest.
    build_index(key, f"file://{tmp_path / 'by-url'}", "leak-a", patients(300))
    assert LookupIndex(tmp_path / "by-url", key).lookup("email", "patient3@example.fr")["found"]
    assert LookupIndex(f"file://{tmp_path / 'by-url'}", key).lookup(
        "email", "patient3@example.fr")["found"]


def test_partitions_not_matching_their_prefix_are_a_one_line_error(tmp_path):
    key = new_key()
    build_index(key, tmp_path, "leak-a", patients(300))
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    leak = manifest["leaks"][0]
    leak["prefix_digits"], leak["partitions"] = 1, leak.get("partitions", [])[:1]
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(TriageError, match="do not match its prefix digits"):
        LookupIndex(tmp_path, key)


def test_what_an_interrupted_write_left_is_written_over(index, key_file):
    from triage.identity.keys import load_hmac_key
    key = load_hmac_key(str(key_file))
    debris = index / "leaks" / "leak-b" / "identifiers-7.parquet"
    debris.parent.mkdir()
    debris.write_bytes(b"half a file")
    build_index(key, index, "leak-b", patients(100, seed=0), "Clinic B")
    assert not debris.exists()
    assert LookupIndex(index, key).lookup("email", "patient7@example.fr")["found"]


def test_partitions_written_where_this_machine_cannot_see_them_are_refused(tmp_path):
    from triage.identity.index import partition_writer, write_partitions
    key = new_key()
    elsewhere = tmp_path / "another-machine"

    def on_another_machine(dest, leak_id, digits, entries, bounds):
        return write_partitions(str(elsewhere), leak_id, digits, entries, bounds)

    with partition_writer(on_another_machine), pytest.raises(TriageError, match="not all visible"):
        build_index(key, tmp_path / "index", "leak-a", patients(100))
    assert not (tmp_path / "index" / "manifest.json").exists()


def test_an_unwritable_destination_is_one_line(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(TriageError, match="cannot write the index") as refused:
        build_index(new_key(), blocker / "index", "leak-a", patients(20))
    assert "\n" not in str(refused.value)


def _index_command(tmp_path, key_file, rows: int, dest: str):  # type: ignore[no-untyped-def]
    """``triage index`` of a toy dump of ``rows`` rows into ``dest``; its result."""
    dump = tmp_path / "patients.csv"
    patients(rows).write_csv(dump)
    made = CliRunner().invoke(main, ["index", str(dump), "--key", str(key_file),
                                     "--leak-id", "a", "-o", dest, "-q"])
    assert made.exit_code == 0, made.output
    return made


def test_the_index_command_writes_to_a_url(tmp_path, key_file):
    fsspec = pytest.importorskip("fsspec")
    url = f"memory://cli-{os.getpid()}-{tmp_path.name}"
    try:
        for dest in (url, str(tmp_path / "local")):
            _index_command(tmp_path, key_file, 200, dest)
        leak = read_manifest(url)["leaks"][0]
        local = read_manifest(tmp_path / "local")["leaks"][0]
        assert leak["people"] == local["people"] > 0
        (partition,) = leak["partitions"]
        assert fsspec.filesystem("memory").cat_file(f"{url}/{partition['file']}") == \
            (tmp_path / "local" / local["partitions"][0]["file"]).read_bytes()
    finally:
        fsspec.filesystem("memory").rm(url, recursive=True)


def test_no_message_shows_the_password_of_a_chained_url():
    # fsspec chains protocols with "::"; the password is in the last link's netloc.
    from triage.cluster import refuse_credentials
    url = "simplecache::memory://user:hunter2@host/index"
    with pytest.raises(TriageError) as refused:
        LookupIndex(url, new_key())
    assert "hunter2" not in str(refused.value)
    assert "simplecache::memory://host/index" in str(refused.value)
    with pytest.raises(TriageError, match="holding credentials"):
        refuse_credentials(url)  # it would travel to the workers


def test_the_index_command_does_not_echo_a_password(tmp_path, key_file):
    fsspec = pytest.importorskip("fsspec")
    url = f"memory://user:hunter2@cli-{os.getpid()}-{tmp_path.name}/index"
    try:
        made = _index_command(tmp_path, key_file, 20, url)
        assert "hunter2" not in made.output
        assert f"cli-{os.getpid()}-{tmp_path.name}/index" in made.output
    finally:
        fsspec.filesystem("memory").rm(url, recursive=True)


def test_an_opened_index_holds_no_descriptor_per_partition(tmp_path, monkeypatch):
    # A leak of 2^28+ identifiers has 4,096 partitions; a descriptor each would exceed
    # the usual limit (1,024; 256 on macOS) with one such leak.
    from triage.identity import index as index_module
    if not os.path.isdir("/dev/fd"):
        pytest.skip("no /dev/fd to count descriptors")
    monkeypatch.setattr(index_module, "PARTITION_ROWS", 2)
    key = new_key()
    manifest = build_index(key, tmp_path / "index", "leak-a", patients(200))
    filled = sum(p["identifiers"] > 0 for p in manifest["leaks"][0]["partitions"])
    assert filled > 100
    before = len(os.listdir("/dev/fd"))
    on_disk = LookupIndex(tmp_path / "index", key)
    assert len(os.listdir("/dev/fd")) - before < 10
    assert on_disk.lookup("email", "patient3@example.fr")["found"]
    assert not on_disk.lookup("email", "nobody@example.fr")["found"]


def test_a_leak_id_differing_only_in_case_is_refused(index, key_file):
    # On a case-insensitive filesystem (macOS, SMB shares) leaks/LEAK-A is leaks/leak-a,
    # which adding LEAK-A would clear as debris: leak-a's files would be replaced.
    from triage.identity.keys import load_hmac_key
    key = load_hmac_key(str(key_file))
    files = {p: p.read_bytes() for p in (index / "leaks").rglob("*") if p.is_file()}
    with pytest.raises(TriageError, match="already in this index"):
        build_index(key, index, "LEAK-A", patients(100, seed=0), "Clinic B")
    assert {p: p.read_bytes() for p in (index / "leaks").rglob("*") if p.is_file()} == files
    assert [leak["leak_id"] for leak in read_manifest(index)["leaks"]] == ["leak-a"]
