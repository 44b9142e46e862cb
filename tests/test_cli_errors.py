"""Bad usage and bad input at the command line: one line on stderr naming what is wrong
(the option, the file), exit 2; never a traceback, an "internal error", or a value of
the input. Output paths, numeric options, regions, identifiers, index manifests, and
the errors of a local Dask cluster."""

from __future__ import annotations

import copy
import gzip
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from test_identity_support import CANARY_EMAIL, build_index, patients

from triage.cli import main
from triage.errors import TriageError
from triage.identity.index import read_manifest
from triage.identity.keys import generate_key_file, load_hmac_key
from triage.resources import load_schema

REPO = Path(__file__).resolve().parent.parent


def failed_in_one_line(result) -> str:  # type: ignore[no-untyped-def]
    """The one stderr line of a command that failed as a user's error (exit 2)."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("triage: error: "), result.stderr
    assert CANARY_EMAIL not in result.output
    return lines[0]


def run_triage(*args: str, env: dict[str, str] | None = None,
               cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH: the checkout's triage, from any working directory.
    return subprocess.run([sys.executable, "-m", "triage", *args], capture_output=True,
                          text=True, timeout=120, cwd=cwd, check=False,
                          env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})})


@pytest.fixture(scope="module")
def dump(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("dump") / "patients.csv"
    patients(60).write_csv(path)
    return path


@pytest.fixture(scope="module")
def key_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("key") / "hmac.key"
    generate_key_file(path)
    return path


@pytest.fixture(scope="module")
def index(tmp_path_factory, key_file) -> Path:
    """Two leaks under the key of ``key_file``."""
    folder = tmp_path_factory.mktemp("index") / "index"
    key = load_hmac_key(str(key_file))
    build_index(key, folder, "leak-a", patients(200), "Clinic A")
    build_index(key, folder, "leak-b", patients(100, seed=1), "Clinic B")
    return folder


# -- outputs ------------------------------------------------------------------------

@pytest.mark.parametrize("where", ["under a file", "in /proc"])
def test_an_output_that_cannot_be_created_is_one_line_naming_it(tmp_path, dump, key_file,
                                                                 where):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    if where == "in /proc":
        if not Path("/proc/self").is_dir():
            pytest.skip("no /proc here")
        target, reason = Path("/proc") / f"triage-{tmp_path.name}", "No such file or directory"
    else:
        target, reason = blocker / "out", "Not a directory"
    for args in (["scan", str(dump), "--plaintext", "-q", "-o", str(target)],
                 ["index", str(dump), "--key", str(key_file), "--leak-id", "x", "-q",
                  "-o", str(target)],
                 ["synth", "control", "-n", "5", "-q", "-o", str(target / "dump.csv")]):
        line = failed_in_one_line(CliRunner().invoke(main, args))
        assert str(target) in line and f"({reason})" in line, (args[0], line)


def test_outputs_are_checked_before_the_pass_and_the_check_leaves_nothing(tmp_path, dump):
    out = tmp_path / "out"
    (out / "profile.json").mkdir(parents=True)  # a folder where a file is to be written
    line = failed_in_one_line(CliRunner().invoke(
        main, ["scan", str(dump), "--plaintext", "-q", "-o", str(out)]))
    assert str(out / "profile.json") in line
    assert not (out / "findings.json").exists(), "the scan ran before the check"
    # A new output folder is made to find out whether it can be, then removed again when
    # the input then fails: nothing is left behind.
    fresh = tmp_path / "new" / "deeper" / "out"
    line = failed_in_one_line(CliRunner().invoke(
        main, ["scan", str(tmp_path / "missing.csv"), "--plaintext", "-q", "-o", str(fresh)]))
    assert "missing.csv" in line and not (tmp_path / "new").exists()


def test_a_local_identity_that_cannot_be_created_is_one_line(tmp_path, dump, monkeypatch):
    config = tmp_path / "config-is-a-file"
    config.write_text("")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    line = failed_in_one_line(CliRunner().invoke(
        main, ["scan", str(dump), "-q", "-o", str(tmp_path / "out")]))
    assert str(config) in line and "(Not a directory)" in line


def test_standard_output_with_no_room_left_is_one_line(dump):
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "triage", "profile", "-q", str(dump)],
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=120,
                              cwd=REPO, check=False, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 2
    # One line: the interpreter's last flush at exit must not add an "Exception ignored".
    assert done.stderr == ("triage: error: standard output: cannot write "
                           "(No space left on device)\n")


# -- numeric options ----------------------------------------------------------------

@pytest.mark.parametrize("option, value", [
    ("--port", "99999"), ("--port", "-1"), ("--rate", "-1"), ("--rate", "0"),
    ("--rate", "nan"), ("--rate", "inf"), ("--burst", "0"), ("--min-latency-ms", "-1"),
    ("--min-latency-ms", "nan")])
def test_serve_refuses_numbers_out_of_range_before_anything_starts(tmp_path, option, value):
    # The index is an empty folder: the option must be refused before it is opened.
    line = failed_in_one_line(CliRunner().invoke(main, ["serve", str(tmp_path),
                                                        f"{option}={value}"]))
    assert f"'{option}'" in line


def test_synth_refuses_a_negative_seed(tmp_path):
    line = failed_in_one_line(CliRunner().invoke(
        main, ["synth", "control", "-n", "5", "--seed=-1", "-o", str(tmp_path / "d.csv")]))
    assert "'--seed'" in line


def test_serve_on_a_port_in_use_is_one_line(index, key_file):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_triage("serve", str(index), "--key", str(key_file), "--port", str(port))
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        f"triage: error: 127.0.0.1: cannot listen on port {port} (Address already in use)"]


# -- regions and identifiers --------------------------------------------------------

@pytest.mark.parametrize("region", ["ZZ", "xx1", "../../", ""])
def test_an_unknown_region_is_refused_by_every_command(tmp_path, dump, key_file, region):
    for args in (["scan", str(dump), "--plaintext", "-q", "-o", str(tmp_path / "scan")],
                 ["index", str(dump), "--key", str(key_file), "--leak-id", "x", "-q", "-o",
                  str(tmp_path / "index")],
                 # Empty folders as indexes: the region must be refused before they are read.
                 ["lookup", str(tmp_path), "--email", "a@example.fr"],
                 ["serve", str(tmp_path)]):
        line = failed_in_one_line(CliRunner().invoke(main, [*args, f"--region={region}"]))
        assert "'--region'" in line and "phonenumbers.SUPPORTED_REGIONS" in line, args[0]
    assert not (tmp_path / "scan").exists() and not (tmp_path / "index").exists()


@pytest.mark.parametrize("options, stdin, named", [
    (["--email", ""], None, "--email"),
    (["--phone", "   "], None, "--phone"),
    (["--national-id", ""], None, "--national-id"),
    (["--health-insurance-id", ""], None, "--health-insurance-id"),
    (["--name", "", "--birth-date", "1985-03-02"], None, "--name"),
    (["--name", "HELENE NOM1", "--birth-date", ""], None, "--birth-date"),
    (["--email", "-"], "", "--email"),
    (["--phone", "-"], "\n", "--phone"),
    (["--name", "HELENE NOM1", "--birth-date", "-"], "", "--birth-date"),
])
def test_an_empty_identifier_is_a_usage_error_not_a_miss(index, key_file, options, stdin,
                                                         named):
    result = CliRunner().invoke(main, ["lookup", str(index), "--key", str(key_file),
                                       *options, "--json"], input=stdin)
    assert f"{named}: no value" in failed_in_one_line(result)


@pytest.mark.parametrize("options", [
    ["--email", "zq81-no-at-sign"], ["--phone", "12"], ["--national-id", "1-2"],
    ["--name", "...", "--birth-date", "1985-03-02"]])
def test_an_identifier_with_no_canonical_form_is_a_usage_error(index, key_file, options):
    line = failed_in_one_line(CliRunner().invoke(
        main, ["lookup", str(index), "--key", str(key_file), *options]))
    assert options[0] in line and options[1] not in line


def test_the_birth_date_alone_may_come_from_stdin(index, key_file):
    result = CliRunner().invoke(main, ["lookup", str(index), "--key", str(key_file), "--name",
                                       "HELENE NOM1", "--birth-date", "-", "--json"],
                                input="1985-03-02\n")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["found"]


# -- index manifests ----------------------------------------------------------------

def _without_people(manifest: dict) -> None:
    del manifest["leaks"][0]["people"]


def _partitions_not_a_list(manifest: dict) -> None:
    manifest["leaks"][0]["partitions"] = "leaks/x"


def _without_key_id(manifest: dict) -> None:
    del manifest["key_id"]


BROKEN = {"lacks a leak's people": _without_people,
          "partitions not a list": _partitions_not_a_list,
          "lacks its key id": _without_key_id,
          "not an object": "[]",
          "nested too deeply": "[" * 100_000}


def broken_copy(index: Path, tmp_path: Path, how: str) -> Path:
    copied = tmp_path / "index"
    subprocess.run(["cp", "-r", str(index), str(copied)], check=True)
    manifest = copied / "manifest.json"
    breaking = BROKEN[how]
    if isinstance(breaking, str):
        manifest.write_text(breaking)
    else:
        document = json.loads(manifest.read_text())
        breaking(document)
        manifest.write_text(json.dumps(document))
    return copied


@pytest.mark.parametrize("how", sorted(BROKEN))
def test_a_broken_manifest_is_one_line_naming_it_for_every_command(index, key_file, dump,
                                                                   tmp_path, how):
    broken = broken_copy(index, tmp_path, how)
    key = ["--key", str(key_file)]
    for args in (["overlap", str(broken), "leak-a", "leak-b"],
                 ["lookup", str(broken), *key, "--email", "patient3@example.fr"],
                 ["index", str(dump), *key, "--leak-id", "leak-c", "-q", "-o", str(broken)]):
        line = failed_in_one_line(CliRunner().invoke(main, args))
        assert str(broken / "manifest.json") in line, (args[0], line)


def test_serve_refuses_a_broken_manifest_before_listening(index, key_file, tmp_path):
    broken = broken_copy(index, tmp_path, "lacks a leak's people")
    with socket.socket() as taken:  # were the manifest let through, no server would start
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        done = run_triage("serve", str(broken), "--key", str(key_file), "--port",
                          str(taken.getsockname()[1]))
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.splitlines()
    assert str(broken / "manifest.json") in line and "leaks/0 lacks people" in line


def _positions(node, at=()):  # type: ignore[no-untyped-def]
    yield at, node
    children = node.items() if isinstance(node, dict) else \
        enumerate(node) if isinstance(node, list) else ()
    for name, child in children:
        yield from _positions(child, (*at, name))


def _mutations(manifest: dict):  # type: ignore[no-untyped-def]
    """The manifest with each field removed, each value replaced by values of other types
    and ranges, and each object given a field more."""
    wrong = ["x", "0" * 64, -1, 0, 1, 2, 5, 1.5, True, None, [], {}, ["x"], {"x": 1}]
    for at, node in _positions(manifest):
        if at:
            removed = copy.deepcopy(manifest)
            parent = removed
            for name in at[:-1]:
                parent = parent[name]
            del parent[at[-1]]
            yield removed
            for value in wrong:
                replaced = copy.deepcopy(manifest)
                parent = replaced
                for name in at[:-1]:
                    parent = parent[name]
                parent[at[-1]] = value
                yield replaced
        if isinstance(node, dict):
            grown = copy.deepcopy(manifest)
            target = grown
            for name in at:
                target = target[name]
            target["unexpected"] = 1
            yield grown


def test_every_broken_manifest_is_refused_naming_the_field_not_the_value(index):
    """Each mutation of a real manifest (format 2 and format 1) that breaks the schema is
    refused where the manifest is read, in one line that names the field, not a value."""
    manifest = json.loads((index / "manifest.json").read_text())
    manifest["leaks"][0]["name"] = "Leak of Zebulon Quaxworth"
    format_1 = copy.deepcopy(manifest)
    leak = format_1["leaks"][0]
    (partition,) = leak.pop("partitions")
    del leak["prefix_digits"]
    leak.update(file=partition["file"], bytes=partition["bytes"], sha256=partition["sha256"])
    format_1["format_version"] = 1
    validator = jsonschema.Draft202012Validator(load_schema("index-manifest.schema.json"))
    assert validator.is_valid(manifest) and validator.is_valid(format_1)
    refused = 0
    for document in (manifest, format_1):
        for mutated in _mutations(document):
            if validator.is_valid(mutated):
                continue
            (index / "manifest.json").write_text(json.dumps(mutated))
            with pytest.raises(TriageError) as error:
                read_manifest(index)
            message = str(error.value)
            assert "\n" not in message and "Quaxworth" not in message
            assert ("unsupported index format" in message
                    or "does not follow schemas/index-manifest.schema.json" in message)
            refused += 1
    assert refused > 100


# -- a local Dask cluster -----------------------------------------------------------

def test_a_cluster_task_failing_gives_the_one_line_one_machine_gives(tmp_path):
    pytest.importorskip("distributed")
    whole = gzip.compress(patients(400).write_csv().encode())
    path = tmp_path / "truncated.csv.gz"
    path.write_bytes(whole[:len(whole) // 2])
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config"), "TRIAGE_DEBUG": "0"}
    # Named relative to the working directory, as users do; the workers open it by its
    # absolute path.
    one, cluster = (run_triage("scan", path.name, "-o", mode, "--plaintext", "-q", *extra,
                               env=env, cwd=tmp_path)
                    for mode, extra in (("one", []), ("cluster", ["--cluster", "local:1"])))
    assert one.returncode == cluster.returncode == 2
    assert "input ends early" in one.stderr and one.stderr.count("\n") == 1
    # Not Dask's "Compute Failed" and traceback from the worker, nor an absolute path for
    # the one the user gave.
    assert cluster.stderr == one.stderr


def _deep(depth: int) -> int:
    return _deep(depth + 1)


def _reader_refusing_a_deep_document(path: str) -> None:
    try:
        _deep(0)
    except RecursionError:  # as a reader refuses a document nested too deeply
        raise TriageError("nested too deeply", path=path, line=1) from None


def test_a_tasks_triage_error_reaches_the_client_as_itself():
    """Dask pickles a task's exception with its context and traceback; a RecursionError's
    thousand frames do not pickle, and Dask then sent a bare Exception (an internal error
    to the CLI) in place of the task's own one line."""
    pytest.importorskip("distributed")
    from triage.cluster import connect
    from triage.cluster.tasks import _quoting_nothing

    task = _quoting_nothing(_reader_refusing_a_deep_document)
    with connect("local:1") as client, pytest.raises(TriageError) as failure:
        client.submit(task, "deep.jsonl", pure=False).result()
    assert str(failure.value) == "deep.jsonl, line 1: nested too deeply"


def test_a_failed_task_carries_no_exception_that_could_quote_a_row(monkeypatch):
    from triage.cluster.tasks import TaskFailed, _quoting_nothing

    @_quoting_nothing
    def parse_row() -> None:
        raise ValueError(f"could not parse {CANARY_EMAIL!r}")

    monkeypatch.delenv("TRIAGE_DEBUG", raising=False)
    with pytest.raises(TaskFailed) as failure:
        parse_row()
    # Dask pickles the context along (tblib): the parser's message would travel with it.
    assert failure.value.__context__ is None and failure.value.__cause__ is None


def test_the_cli_names_the_type_a_cluster_task_failed_with(tmp_path, dump, monkeypatch):
    import triage.cluster
    from triage.cluster.tasks import TaskFailed

    def failing(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise TaskFailed("RecursionError in scan_file")

    monkeypatch.setattr(triage.cluster, "scan_on_cluster", failing)
    monkeypatch.delenv("TRIAGE_DEBUG", raising=False)
    result = CliRunner().invoke(main, ["scan", str(dump), "--plaintext", "-q", "-o",
                                       str(tmp_path / "out"), "--cluster", "local:1"])
    assert result.exit_code == 3
    assert result.stderr.startswith("triage: internal error (RecursionError in scan_file);")


def test_a_local_cluster_is_refused_more_workers_than_cpus():
    pytest.importorskip("distributed")
    from triage.cluster import local_workers

    cpus = max(2, os.cpu_count() or 1)
    assert local_workers(f"local:{cpus}") == cpus
    with pytest.raises(TriageError, match=f"at most {cpus}, one per CPU"):
        local_workers(f"local:{cpus + 1}")
    with pytest.raises(TriageError, match="at most"):
        local_workers("local:1000")


def test_a_source_none_of_whose_rows_could_be_read_is_warned_of(tmp_path):
    dump = tmp_path / "export.json"
    dump.write_text("not json at all\nnor this\n")
    done = run_triage("profile", str(dump), "-q")
    assert done.returncode == 0
    assert done.stderr == (f"triage: warning: {dump}: none of its 2 rows could be read "
                           "(invalid_json 2)\n")
