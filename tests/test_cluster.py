"""`triage scan --cluster`: the same result as one pass, index files included (written by
the workers), no key in the task graph, a lost worker costs nothing but time. Clusters
run on 127.0.0.1 only and are always closed."""

from __future__ import annotations

import base64
import codecs
import gzip
import io
import json
import os
import pickle
import signal
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import cloudpickle
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthetic import generate
from triage.allocator import ALLOCATOR_ENV
from triage.cluster import ClusterScan, KeyRef, WorkerIndexWriter, connect
from triage.cluster.split import byte_ranges, decoded_length, splittable
from triage.errors import TriageError
from triage.identity.canonical import FORMS, Canonicaliser
from triage.identity.digest import KeyedHasher, hmac_prefix
from triage.identity.index import partition_writer
from triage.identity.keys import KEY_ENV, PURPOSE_IDENTIFIERS, HmacKey
from triage.scan import scan, summary_facts, write_index
from triage.sources import open_sources
from triage.sources.delimited import DelimitedSource

distributed = pytest.importorskip("distributed")

SCENARIOS = ["megabus", "appointments", "pixel_events", "clinic_imaging", "control",
             "us_patients", "de_practice"]
SECRET = bytes(range(32))
KEY = HmacKey(SECRET)


@pytest.fixture(autouse=True)
def small_partitions(monkeypatch):
    """Index partitions of about 256 identifiers, so that these small leaks have 16 or 256
    of them and both workers write some (the client cuts, the workers only write)."""
    from triage.identity import index
    monkeypatch.setattr(index, "PARTITION_ROWS", 256)


@pytest.fixture(scope="module")
def client():
    # The workers load the key from their own environment, set as they start.
    with connect("local:2", worker_env={KEY_ENV: base64.b64encode(SECRET).decode()}) as c:
        yield c


def dump(tmp_path: Path, scenario: str, rows: int, **options) -> tuple[Path, dict]:
    suffix = ".jsonl" if scenario == "pixel_events" else ".csv"
    path = tmp_path / f"{scenario}{suffix}"
    return path, generate(scenario, rows, path, seed=5, **options)


def on_cluster(client, paths, parts: int = 8):
    split = max(4096, max(Path(p).stat().st_size for p in paths) // parts)
    return ClusterScan(client, [str(p) for p in paths], key=KEY,
                       key_ref=KeyRef(None, KEY.key_id), keyed=True, split_bytes=split)


def index_files(index_dir: Path) -> dict:
    """The leak's entry in the manifest (but the time it was added) and every file's bytes."""
    manifest = json.loads((index_dir / "manifest.json").read_text())
    for leak in manifest["leaks"]:
        leak.pop("added")
    files = {str(p.relative_to(index_dir)): p.read_bytes()
             for p in sorted((index_dir / "leaks").rglob("*")) if p.is_file()}
    return {"manifest": manifest, "files": files}


def comparable(result, index_dir: Path, client=None) -> dict:
    """Everything that must be exact: counts, types, distinct registers, verdicts and their
    evidence, people, index files byte for byte (profile shapes are sampled shares). With ``client``, the
    workers write the index partitions."""
    profiles = []
    for source in result.results:
        columns = {}
        for name, column in source.profile.columns.items():
            doc = column.to_dict()
            doc.pop("shapes")
            columns[name] = (doc, column.hll.registers.tobytes())
        rows = source.accounting.to_dict()
        # Listed places are per chunk (the first ragged row of each chunk, a chunk's line
        # for repeated headers), and parts start chunks of their own: the first ragged
        # row of each kind is exact, the list may name more places.
        rows["first_line"] = {reason: min(r["line"] for r in rows["regions"]
                                          if r["reason"] == reason)
                              for reason in ("too_few_fields", "too_many_fields")
                              if any(r["reason"] == reason for r in rows["regions"])}
        del rows["regions"]
        profiles.append((source.info.to_dict(), rows, source.profile.rows, columns))
    # Verdicts with their evidence: the samples keep the same rows however the input
    # is cut (triage/detect/sample.py).
    findings = {name: [f.to_dict() for f in state.findings]
                for name, state in result.scans.items()}
    facts = summary_facts(result, leak_id="leak", leak_name="leak")
    facts["leak"].pop("scanned_at")
    if client is None:
        write_index(result, index_dir, leak_id="leak", leak_name="leak")
    else:
        with partition_writer(WorkerIndexWriter(client)):
            write_index(result, index_dir, leak_id="leak", leak_name="leak")
    return {"profiles": profiles, "findings": findings, "facts": facts,
            **index_files(index_dir)}


def same_as_one_pass(client, tmp_path: Path, paths, parts: int = 8) -> ClusterScan:
    expected = comparable(scan([str(p) for p in paths], key=KEY), tmp_path / "one")
    job = on_cluster(client, paths, parts)
    got = comparable(job.collect(), tmp_path / "cluster", client)
    for part in expected:
        assert got[part] == expected[part], part
    leak = expected["manifest"]["leaks"][0]
    assert leak["prefix_digits"] > 0 or leak["identifiers"] <= 256  # partitions of ~256
    return job


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_scenario_split_in_parts_gives_the_one_pass_result(client, tmp_path, scenario):
    path, _ = dump(tmp_path, scenario, 3000)
    job = same_as_one_pass(client, tmp_path, [path])
    if scenario != "pixel_events":  # the workers' merge tree and the client's tail both ran
        assert len(job.inputs[0].parts) >= ClusterScan.TAIL_PARTS + 2


def test_messy_rows_keep_their_accounting_and_positions(client, tmp_path):
    path, _ = dump(tmp_path, "megabus", 4000, messy=True)
    one = scan([str(path)], key=KEY).results[0].accounting.to_dict()
    assert one["repaired"] or one["rejected"], "the messy dump has something to account for"
    same_as_one_pass(client, tmp_path, [path], parts=6)


def test_a_file_larger_than_the_samples_gets_the_same_verdicts_and_evidence(client, tmp_path):
    # 12,000 rows: the detection samples drop rows as they are read, in the parts as
    # in one pass, and must end with the same rows.
    path, _ = dump(tmp_path, "megabus", 12_000)
    same_as_one_pass(client, tmp_path, [path], parts=6)


def test_people_across_files_and_archive_members_are_counted_once(client, tmp_path):
    first, _ = dump(tmp_path, "megabus", 2000)
    second = tmp_path / "again.csv"
    generate("megabus", 1500, second, seed=5)  # the same people again, in another file
    archive = tmp_path / "both.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(first, "a/first.csv")
        zipped.write(second, "b/second.csv")
    same_as_one_pass(client, tmp_path, [first, second, archive])


def test_the_client_links_people_while_it_makes_the_verdicts(client, tmp_path, monkeypatch):
    """As one machine does: the union-find over every source's digests (split files and
    whole ones) runs beside the split files' verdicts, and resolve_leak takes it."""
    import triage.identity.collector as collector_module

    first, _ = dump(tmp_path, "megabus", 2000)
    second = tmp_path / "again.csv"
    generate("megabus", 1500, second, seed=5)
    archive = _zip_of(tmp_path / "again.zip", {"again.csv": second.read_bytes()})
    one_pass = scan([str(first), str(second), str(archive)], key=KEY).leak_people()
    result = on_cluster(client, [first, second, archive]).collect()
    assert len(result.collectors()) == 3
    early = result.early_digests
    assert early is not None
    assert early.layout == collector_module._digest_layout(
        [c.held() for c in result.collectors()])[3]
    resolved = []
    monkeypatch.setattr(collector_module, "resolve_members",
                        lambda *a, **k: resolved.append(a) or pytest.fail("resolved again"))
    people = result.leak_people()
    assert not resolved
    assert people.distinct == one_pass.distinct
    assert people.nodes.equals(one_pass.nodes) and people.persons.equals(one_pass.persons)


def _zip_of(archive: Path, members: dict[str, bytes], links: int = 0) -> Path:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("exports/", b"")  # a directory entry: nothing to read
        for name, data in members.items():
            zipped.writestr(name, data)
        for n in range(links):  # links are skipped and counted, never followed
            link = zipfile.ZipInfo(f"link{n}")
            link.external_attr = (stat.S_IFLNK | 0o777) << 16
            zipped.writestr(link, b"/etc/passwd")
    return archive


def test_a_zip_of_plain_tables_is_shared_out_by_members(client, tmp_path):
    """Issue 8: archive members are tasks. Five members (three scenarios, two files of
    the same people) in three or more shares, and the one-pass result, link counts and
    people across members included."""
    members = {}
    for scenario, rows in (("megabus", 1500), ("appointments", 900), ("us_patients", 700)):
        path, _ = dump(tmp_path, scenario, rows)
        members[f"exports/{path.name}"] = path.read_bytes()
    again = tmp_path / "again.csv"
    generate("megabus", 1200, again, seed=5)  # the same people again, in another member
    members["exports/again.csv"] = again.read_bytes()
    members["exports/pixel.jsonl"] = dump(tmp_path, "pixel_events", 800)[0].read_bytes()
    archive = _zip_of(tmp_path / "leak.zip", members, links=2)
    job = same_as_one_pass(client, tmp_path, [archive], parts=4)
    (planned,) = job.inputs
    assert len(planned.shares) >= 3 and not planned.parts
    assert sorted(i for share in planned.shares for i in share) == [1, 2, 3, 4, 5]
    assert dict(planned.skipped) == {"symlink": 2}


def test_a_zip_with_a_nested_layer_or_a_secret_stays_one_task(tmp_path):
    """What no directory declares (a compressed or archived member expands by its own
    ratio), or what one walk must refuse, keeps the zip whole: one task, one walk."""
    from triage.sources.archive import leaf_zip
    from triage.sources.stream import ReadOptions

    table = b"id;email\n" + b"".join(b"%d;p%d@mail.fr\n" % (i, i) for i in range(500))
    options = ReadOptions()
    plain = leaf_zip(_zip_of(tmp_path / "plain.zip", {"a.csv": table, "b.csv": table},
                             links=1), options)
    assert plain is not None and [i for i, _ in plain.members] == [1, 2]
    assert [size for _, size in plain.members] == [len(table)] * 2
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as nested:
        nested.writestr("c.csv", table)
    for name, members in {
        "gzip": {"a.csv": table, "b.csv.gz": gzip.compress(table)},
        "gzip, named as a table": {"a.csv": table, "b.csv": gzip.compress(table)},
        "nested zip": {"a.csv": table, "inner.zip": inner.getvalue()},
        "same name twice": {"a.csv": table, "./a.csv": table},
        "one member": {"a.csv": table},
    }.items():
        assert leaf_zip(_zip_of(tmp_path / "case.zip", members), options) is None, name
    # Declared sizes over the input's expansion budget: one walk refuses it mid-stream.
    small_budget = ReadOptions(min_allowance=len(table), max_ratio=1)
    assert leaf_zip(_zip_of(tmp_path / "big.zip", {"a.csv": table, "b.csv": table}),
                    small_budget) is None
    assert leaf_zip(tmp_path / "plain.zip", ReadOptions(max_members=1)) is None


def test_member_shares_keep_the_order_and_gather_small_members():
    from triage.cluster.split import member_shares

    members = [(1, 60), (2, 30), (3, 200), (5, 10), (6, 10), (7, 95)]
    assert member_shares(members, 100) == [(1, 2), (3,), (5, 6), (7,)]
    assert member_shares(members, 10_000) == [(1, 2, 3, 5, 6, 7)]


def test_quoted_files_are_cut_at_even_quote_parity_and_stray_quotes_are_not_cut(tmp_path):
    rows = [f'{i},"line {i}\nstill {i}","a ""quoted"" word, {i}"\n' for i in range(4000)]
    quoted = tmp_path / "quoted.csv"
    quoted.write_text('id,note,other\n' + "".join(rows))
    source = next(iter(open_sources(quoted)))
    assert splittable(source)
    parts = byte_ranges(source, 20_000)
    assert len(parts) > 5
    data = quoted.read_bytes()
    for part in parts[1:]:
        assert data[:part.start].count(b'"') % 2 == 0 and data[part.start - 1:part.start] == b"\n"
    stray = tmp_path / "stray.csv"
    stray.write_text('id,note\n' + "".join(f'{i},"a, {i}"\n' for i in range(2000))
                     + '2000,5" disk\n' + "".join(f'{i},"b, {i}"\n' for i in range(2000)))
    source = next(iter(open_sources(stray)))
    assert source.dialect.quotechar == '"'
    assert len(byte_ranges(source, 20_000)) == 1


def test_a_cp1252_part_reads_alike_without_the_native_kernel(tmp_path, monkeypatch):
    """A worker without a C compiler decodes a legacy part with Python's codec, from the
    part's reader: the same rows and accounting as with the kernel, and as one pass."""
    import triage.native
    from triage.cluster.split import RangeReader
    from triage.cluster.tasks import _RangeMember
    from triage.sources import open_sources

    lines = [b"nom;commentaire"] + [f"Zoë{i};Œdème {i} € ".encode("cp1252") + b"\x81"
                                    for i in range(20_000)]
    path = tmp_path / "legacy.csv"
    path.write_bytes(b"\n".join(lines) + b"\n")

    def parts_read() -> tuple[list[dict], list[int]]:
        opened = next(iter(open_sources(path)))
        rows, parsed = [], []
        for part in byte_ranges(opened, split_bytes=path.stat().st_size // 3):
            source = DelimitedSource(_RangeMember(RangeReader(part, "cp1252")), opened.info,
                                     opened.dialect)
            rows += [row for batch in source.batches() for row in batch.iter_rows(named=True)]
            parsed.append(source.accounting.parsed)
        return rows, parsed

    native_rows, native_parsed = parts_read()
    triage.native.native_kernel.cache_clear()
    monkeypatch.setenv("TRIAGE_NATIVE", "0")
    try:
        python_rows, python_parsed = parts_read()
    finally:
        triage.native.native_kernel.cache_clear()
    assert len(native_parsed) >= 3
    assert python_rows == native_rows and python_parsed == native_parsed
    assert len(python_rows) == 20_000 and python_rows[7] == {"nom": "Zoë7",
                                                               "commentaire": "Œdème 7 € \x81"}


def test_quoted_file_split_in_parts_gives_the_one_pass_result(client, tmp_path):
    path = tmp_path / "quoted.csv"
    lines = [f'{i};"Dupont\n{i}";"{i % 97:02d}/01/1980";"p{i}@mail.fr";"""x"" y"\n'
             for i in range(6000)]
    path.write_text("id;nom;date_naissance;email;note\n" + "".join(lines))
    same_as_one_pass(client, tmp_path, [path], parts=5)


def test_file_with_a_title_block_split_in_parts_gives_the_one_pass_result(client, tmp_path):
    # The first part counts the title block; the others read the header alone.
    path, _ = dump(tmp_path, "megabus", 3000)
    text = path.read_bytes()
    path.write_bytes(b"Export du 12/03/2019\n\nLaboratoire Biomed\n" + text)
    job = same_as_one_pass(client, tmp_path, [path], parts=6)
    assert len(job.inputs[0].parts) >= 3
    assert job.collect().results[0].accounting.reasons == {"preamble": 2}


def test_file_with_a_mixed_contact_column_split_in_parts_gives_the_one_pass_result(
        client, tmp_path):
    # Each part splits the column by the client's plan and counts each part's rows.
    path = tmp_path / "contacts.csv"
    lines = [f"Dupont;Jeanne;{1 + i % 28:02d}/{1 + i % 12:02d}/{1930 + i % 80};"
             + (f"jeanne.{i}@exemple.fr" if i % 5 < 3 else f"06 {i // 10000 % 100:02d} "
                f"{i // 100 % 100:02d} {i % 100:02d} {10 + i % 89}") + "\n"
             for i in range(6000)]
    path.write_text("nom;prenom;date_naissance;contact\n" + "".join(lines))
    job = same_as_one_pass(client, tmp_path, [path], parts=5)
    result = job.collect()
    (state,) = result.scans.values()
    (contact,) = [f for f in state.findings if f.name == "contact"]
    assert contact.categories == ("email", "phone")
    rows = {c["id"]: c["rows"] for c in summary_facts(result, leak_id="l",
                                                       leak_name="l")["categories"]}
    assert (rows["email"], rows["phone"]) == (3600, 2400)


def test_no_key_and_no_plaintext_in_the_task_graph(client, tmp_path):
    path, truth = dump(tmp_path, "megabus", 3000)
    canaries = [str(value) for canary in truth["canaries"] for category, value in canary.items()
                if category not in ("rows", "columns") and len(str(value)) >= 6]
    assert canaries
    job = on_cluster(client, [path])
    job.submit()
    parts = len(job.inputs[0].parts)
    tree = parts - min(ClusterScan.TAIL_PARTS, parts - 1)  # the other parts go to the client
    expected = parts + 1 + (tree - 1)  # reads, the file's hash, the merges down to one

    def graph(dask_scheduler) -> list[bytes]:  # what the scheduler holds and sends to workers
        from distributed.protocol import serialize
        return [b"".join(bytes(f) for f in serialize(ts.run_spec, serializers=["pickle"])[1])
                for ts in dask_scheduler.tasks.values() if ts.run_spec is not None]

    deadline = time.monotonic() + 10
    while len(specs := client.run_on_scheduler(graph)) < expected:
        assert time.monotonic() < deadline, "the scheduler never held the whole graph"
        time.sleep(0.05)
    submitted = pickle.dumps([(i.given, i.path, i.parts, i.plan) for i in job.inputs])
    for blob in [*specs, submitted]:
        for secret in (SECRET, base64.b64encode(SECRET), KEY.subkey("identifiers:v1")):
            assert secret not in blob
        for canary in canaries:
            assert canary.encode() not in blob
    assert KEY.key_id.encode() in b"".join(specs)  # only the key id goes along
    result = job.collect()

    # Then the index: what the client hands to Dask for its workers to write partitions.
    recording = Recording(client)
    with partition_writer(WorkerIndexWriter(recording)):
        write_index(result, tmp_path / "index", leak_id="leak", leak_name="leak")
    assert len(recording.sent) >= 3  # the scattered entries and a task per worker
    sent = b"".join(recording.sent)
    for secret in (SECRET, base64.b64encode(SECRET), KEY.subkey("identifiers:v1")):
        assert secret not in sent
    for canary in canaries:
        assert canary.encode() not in sent
    # The canaries' digests do travel (as the entries' u64 halves): the bytes searched
    # are the entries themselves, not a compressed form of them.
    email = next(c["email"] for c in truth["canaries"] if c.get("email"))
    digest = KeyedHasher(KEY.subkey(PURPOSE_IDENTIFIERS)).digest_one(
        hmac_prefix("email", FORMS["email"]), Canonicaliser("email").one(email))
    assert int.from_bytes(digest[:8], "big").to_bytes(8, "little") in sent


class Recording:
    """A Client that keeps, pickled, everything it is given to send to the cluster."""

    def __init__(self, client) -> None:
        self.client, self.sent = client, []

    def scatter(self, data, **options):
        self.sent.append(cloudpickle.dumps(data))
        return self.client.scatter(data, **options)

    def submit(self, function, *args, **options):
        self.sent.append(cloudpickle.dumps((function, args)))
        return self.client.submit(function, *args, **options)

    def __getattr__(self, name):
        return getattr(self.client, name)


def test_the_workers_write_the_partitions_and_the_client_the_manifest(client, tmp_path):
    path, _ = dump(tmp_path, "us_patients", 3000)
    result = on_cluster(client, [path]).collect()
    with distributed.get_task_stream(client) as stream, \
            partition_writer(WorkerIndexWriter(client)):
        manifest = write_index(result, tmp_path / "index", leak_id="leak", leak_name="leak")
    writers = {t["worker"] for t in stream.data
               if t["key"].startswith("write_index_partitions")}
    assert writers == set(client.scheduler_info()["workers"])  # both, in parallel
    assert len(manifest["leaks"][0]["partitions"]) == 16
    assert not (tmp_path / "index" / ".manifest.json.partial").exists()
    write_index(scan([str(path)], key=KEY), tmp_path / "one", leak_id="leak", leak_name="leak")
    assert index_files(tmp_path / "index") == index_files(tmp_path / "one")


def test_entries_lost_with_a_worker_are_sent_again(client, tmp_path):
    path, _ = dump(tmp_path, "megabus", 3000)
    result = on_cluster(client, [path]).collect()
    write_index(result, tmp_path / "one", leak_id="leak", leak_name="leak")

    class LosingAWorker(Recording):
        """Kills the worker holding the first group's entries before its task is sent."""

        def scatter(self, data, **options):
            futures = super().scatter(data, **options)
            if len(self.sent) == 1:
                (holder,) = self.client.who_has(futures[0])[futures[0].key]
                pid = self.client.run(os.getpid, workers=[holder])[holder]
                os.kill(pid, signal.SIGKILL)
            return futures

    recording = LosingAWorker(client)
    with partition_writer(WorkerIndexWriter(recording)):
        write_index(result, tmp_path / "cluster", leak_id="leak", leak_name="leak")
    assert len([blob for blob in recording.sent if b"write_index_partitions" not in blob]) == 2
    assert index_files(tmp_path / "cluster") == index_files(tmp_path / "one")


def test_index_destinations_the_workers_share_or_not(client, tmp_path):
    path, _ = dump(tmp_path, "appointments", 1500)
    result = on_cluster(client, [path]).collect()
    write_index(result, tmp_path / "one", leak_id="leak", leak_name="leak")
    with partition_writer(WorkerIndexWriter(client)):
        write_index(result, f"file://{tmp_path / 'by-url'}", leak_id="leak", leak_name="leak")
        assert index_files(tmp_path / "by-url") == index_files(tmp_path / "one")
        # Each worker process has a memory:// of its own: the client finds nothing there.
        with pytest.raises(TriageError, match="not all visible here"):
            write_index(result, f"memory://cluster-{os.getpid()}", leak_id="leak",
                        leak_name="leak")
        with pytest.raises(TriageError, match="holding credentials"):
            write_index(result, "memory://user:secret@host/index", leak_id="leak",
                        leak_name="leak")


def test_states_travel_without_their_key():
    with pytest.raises(TypeError, match="never pickled"):
        pickle.dumps(KEY)
    import polars as pl

    from triage.identity.collector import IdentifierPlan, IdentityCollector
    collector = IdentityCollector(KEY, {"email": IdentifierPlan("email", ("email",))})
    collector.update(pl.DataFrame({"email": ["a@b.fr", "c@d.fr"]}))
    blob = pickle.dumps(collector)
    assert SECRET not in blob and KEY.subkey("identifiers:v1") not in blob
    travelled = pickle.loads(blob)
    assert travelled.key is None and travelled.people()["distinct"] == 2
    with pytest.raises(ValueError, match="without its key"):
        travelled.update(pl.DataFrame({"email": ["e@f.fr"]}))
    with pytest.raises(ValueError, match="not the key"):
        travelled.attach_key(HmacKey(bytes(32)))
    travelled.attach_key(KEY)
    travelled.update(pl.DataFrame({"email": ["e@f.fr"]}))
    assert travelled.people()["distinct"] == 3


def test_a_worker_killed_mid_task_is_replaced_and_the_result_is_exact(client, tmp_path):
    path, _ = dump(tmp_path, "megabus", 12000)
    expected = comparable(scan([str(path)], key=KEY), tmp_path / "one")
    job = on_cluster(client, [path], parts=8)
    job.submit()
    victim = None
    deadline = time.monotonic() + 30
    while victim is None and time.monotonic() < deadline:
        # (pid, tasks running) of each worker: kill one that is inside a task right now.
        running = client.run(lambda dask_worker: (os.getpid(), len(dask_worker.state.executing)))
        victim = next((w for w, (_, executing) in running.items() if executing), None)
    assert victim is not None, "no task started"
    os.kill(running[victim][0], signal.SIGKILL)
    got = comparable(job.collect(), tmp_path / "cluster", client)
    assert got == expected
    assert victim not in client.scheduler_info()["workers"]


def test_the_command_runs_on_a_local_cluster(tmp_path):
    path, _ = dump(tmp_path, "appointments", 1500)
    key = tmp_path / "hmac.key"
    key.write_bytes(SECRET)
    key.chmod(0o600)
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")}
    outputs = {}
    for mode, extra in (("one", []), ("cluster", ["--cluster", "local:2"])):
        done = subprocess.run([sys.executable, "-m", "triage", "scan", str(path), "--key",
                               str(key), "-o", str(tmp_path / mode), "--leak-id", "x",
                               "--plaintext", "-q", *extra],
                              capture_output=True, text=True, timeout=120, env=env, check=False)
        assert done.returncode == 0, done.stderr[-2000:]
        outputs[mode] = ((tmp_path / mode / "findings.json").read_text(),
                         index_files(tmp_path / mode / "index"))
    assert outputs["one"] == outputs["cluster"]


def test_without_dask_the_cluster_option_says_how_to_install(tmp_path):
    path, _ = dump(tmp_path, "control", 200)
    blocker = tmp_path / "nodask"
    blocker.mkdir()
    (blocker / "distributed.py").write_text("raise ImportError('no dask here')\n")
    env = {**os.environ, "PYTHONPATH": str(blocker), "XDG_CONFIG_HOME": str(tmp_path / "c")}
    done = subprocess.run([sys.executable, "-m", "triage", "scan", str(path), "-o",
                           str(tmp_path / "out"), "--plaintext", "-q", "--cluster", "local:2"],
                          capture_output=True, text=True, timeout=60, env=env, check=False)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "pip install 'triage[cluster]'" in done.stderr


def test_an_input_that_fails_planning_gives_one_line_and_exit_2(tmp_path):
    """Planning runs beside the local cluster's start; its errors still reach the user
    as the single-machine scan gives them."""
    path = tmp_path / "one-line.csv"
    path.write_bytes(b"nom;email;" * 40_000)  # no line break in the first 256 KiB
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "c"),
           "TRIAGE_HMAC_KEY": base64.b64encode(SECRET).decode()}
    outcomes = [subprocess.run([sys.executable, "-m", "triage", "scan", str(path), "-o",
                                str(tmp_path / mode), "--plaintext", "-q", *extra],
                               capture_output=True, text=True, timeout=120, env=env,
                               check=False)
                for mode, extra in (("one", []), ("cluster", ["--cluster", "local:2"]))]
    one, cluster = outcomes
    assert one.returncode == cluster.returncode == 2
    assert cluster.stderr.strip().count("\n") == 0 and "Traceback" not in cluster.stderr
    assert cluster.stderr == one.stderr


def test_an_archive_password_is_refused_before_anything_is_planned(tmp_path):
    from triage.cluster import scan_on_cluster
    from triage.sources.stream import reading_options

    path = tmp_path / "one-line.csv"
    path.write_bytes(b"nom;email;" * 40_000)  # planning it would fail otherwise
    with reading_options(password=b"secret"), \
            pytest.raises(TriageError, match="cannot open encrypted archives"):
        scan_on_cluster([str(path)], address="local:2", key=None, key_file=None)


def test_without_a_key_a_local_cluster_counts_people_and_a_remote_one_is_refused(tmp_path):
    from triage.cluster import scan_on_cluster
    from triage.errors import TriageError

    path, _ = dump(tmp_path, "us_patients", 2000)
    one = summary_facts(scan([str(path)], key=None), leak_id="x", leak_name="x")
    # A throwaway key, handed to the local workers as they start.
    result = scan_on_cluster([str(path)], address="local:2", key=None, key_file=None,
                             region="FR", split_bytes=path.stat().st_size // 3)
    assert not result.keyed
    many = summary_facts(result, leak_id="x", leak_name="x")
    assert many["people"] == one["people"] and many["categories"] == one["categories"]
    with pytest.raises(TriageError, match="needs the HMAC key on every worker"):
        scan_on_cluster([str(path)], address="tcp://127.0.0.1:9", key=None, key_file=None)


def test_a_local_cluster_listens_on_loopback_only(client):
    assert all(address.startswith("tcp://127.0.0.1:")
               for address in [client.scheduler.address, *client.scheduler_info()["workers"]])
    scheduler_http = client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.http_server
                                             .address)
    workers_http = client.run(lambda dask_worker: dask_worker.http_server.address)
    assert {scheduler_http, *workers_http.values()} == {"127.0.0.1"}


def _mapped_blocks_of_a_malloc(size: int) -> int:
    """How many blocks glibc maps afresh (rather than serving from its heap) to
    malloc ``size`` bytes in this process: its allocator policy at work."""
    import ctypes

    class MallocInfo(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
            "uordblks", "fordblks", "keepcost")]

    libc = ctypes.CDLL(None)
    libc.mallinfo2.restype = MallocInfo
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    before = libc.mallinfo2().hblks
    block = libc.malloc(size)
    mapped = libc.mallinfo2().hblks - before
    libc.free(block)
    return mapped


def test_local_workers_start_with_the_programs_allocator_policy(client):
    # Not Dask's MALLOC_TRIM_THRESHOLD_=65536, which made every large array fault afresh.
    settings = client.run(lambda: {name: value for name, value in os.environ.items()
                                   if name.startswith("MALLOC_")})
    assert len(settings) == 2
    assert all(found == ALLOCATOR_ENV for found in settings.values())
    # And glibc took it: an 8 MiB block comes from the heap (mapped afresh by default;
    # Dask leaves its pre-spawn variables in this process's environment, hence the copy).
    import ctypes
    if not hasattr(ctypes.CDLL(None), "mallinfo2"):
        pytest.skip("glibc before 2.33 (no mallinfo2) or another C library")
    plain = {name: value for name, value in os.environ.items() if not name.startswith("MALLOC_")}
    probe = subprocess.run(
        [sys.executable, "-c",
         "import test_cluster as t; print(t._mapped_blocks_of_a_malloc(8 << 20))"],
        capture_output=True, text=True, check=True, cwd=Path(__file__).parent, env=plain)
    assert probe.stdout.strip() == "1", "a process without the policy maps the block"
    assert set(client.run(_mapped_blocks_of_a_malloc, 8 << 20).values()) == {0}


def _arrow_pool() -> str:
    import pyarrow as pa
    return pa.default_memory_pool().backend_name


def test_local_workers_take_one_task_at_a_time_and_give_arrow_glibcs_heap(client):
    # A task waits at the scheduler for a free worker, so merges and reads run in the
    # planned order; Arrow's buffers come from the heap the scan grew (see connect).
    assert client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.WORKER_SATURATION) == 1
    assert set(client.run(_arrow_pool).values()) == {"system"}


def test_a_failing_task_is_reported_by_type_only(monkeypatch):
    from triage.cluster.tasks import TaskFailed, _quoting_nothing
    from triage.errors import TriageError

    @_quoting_nothing
    def parse_row():
        raise ValueError("could not parse 'zephyrine.canarielle@example.org;0612345678'")

    monkeypatch.delenv("TRIAGE_DEBUG", raising=False)
    with pytest.raises(TaskFailed) as failure:
        parse_row()
    assert str(failure.value) == "ValueError in parse_row"
    assert failure.value.__cause__ is None and failure.value.__suppress_context__

    @_quoting_nothing
    def refuse():
        raise TriageError("corrupt zip archive", path="leak.zip")

    with pytest.raises(TriageError, match="leak.zip: corrupt zip archive"):
        refuse()


@given(st.binary(max_size=3000), st.booleans())
@settings(max_examples=200, deadline=None)
def test_decoded_length_is_the_readers_utf8_length(raw, bom):
    # A split part's offsets are shifted by the decoded length of the parts before it;
    # the reader decodes cp1252, its five undefined bytes as latin-1.
    raw = (codecs.BOM_UTF8 if bom else b"") + raw
    decoded = raw.decode("cp1252", "triage-latin1").encode("utf-8")
    expected = len(decoded) - (len(codecs.BOM_UTF8) if bom else 0)
    assert decoded_length(raw, "cp1252") == expected
    assert decoded_length(raw, "utf-8") == len(raw) - (len(codecs.BOM_UTF8) if bom else 0)
