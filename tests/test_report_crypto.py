"""age encryption of summaries: several recipients, interop with the age CLI, clear failures."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from triage.cli import main
from triage.errors import TriageError
from triage.report import crypto

PLAINTEXT = b'{"people": {"distinct": 491840}}\n' * 5000  # > 64 KiB: several age chunks


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def alice(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "alice.txt"
    return path, crypto.generate_identity(path)


@pytest.fixture
def sealed(tmp_path: Path, alice: tuple[Path, str]) -> Path:
    return crypto.encrypt_to_file(PLAINTEXT, [alice[1]], tmp_path / "summary.json.age")


def test_generate_identity_is_private_and_never_overwritten(alice: tuple[Path, str]) -> None:
    path, recipient = alice
    assert recipient.startswith("age1")
    assert _mode(path) == 0o600
    assert f"# public key: {recipient}" in path.read_text()
    before = path.read_bytes()
    with pytest.raises(TriageError, match="refusing to overwrite"):
        crypto.generate_identity(path)
    assert path.read_bytes() == before


def test_default_identity_is_created_once_in_xdg_config(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    path, recipient = crypto.default_identity()
    assert path == tmp_path / "cfg" / "triage" / "identity.txt"
    assert _mode(path) == 0o600
    assert crypto.default_identity() == (path, recipient)


def test_default_identity_falls_back_to_home_config(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    path, _ = crypto.default_identity()
    assert path == tmp_path / ".config" / "triage" / "identity.txt"


def test_every_recipient_can_decrypt(tmp_path: Path, alice: tuple[Path, str]) -> None:
    bob = tmp_path / "bob.txt"
    bob_recipient = crypto.generate_identity(bob)
    sealed = crypto.encrypt_to_file(PLAINTEXT, [alice[1], bob_recipient], tmp_path / "s.age")
    assert crypto.decrypt_file(sealed, alice[0]) == PLAINTEXT
    assert crypto.decrypt_file(sealed, bob) == PLAINTEXT


def test_only_ciphertext_reaches_the_disk(tmp_path: Path, sealed: Path) -> None:
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alice.txt", "summary.json.age"]
    data = sealed.read_bytes()
    assert data.startswith(b"age-encryption.org/v1\n")
    assert b"491840" not in data


def test_no_recipient_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TriageError, match="no recipient"):
        crypto.encrypt_to_file(b"x", [], tmp_path / "x.age")
    assert not (tmp_path / "x.age").exists()


def test_a_bad_recipient_is_a_clear_error() -> None:
    with pytest.raises(TriageError, match="invalid age recipient"):
        crypto.encrypt(b"x", ["age1notarecipient"])


def test_a_bad_identity_line_is_not_quoted(tmp_path: Path) -> None:
    path = tmp_path / "id.txt"
    path.write_text("# comment\nAGE-SECRET-KEY-1SECRETMATERIAL\n")
    with pytest.raises(TriageError, match="line 2") as caught:
        crypto.load_identities(path)
    assert "SECRETMATERIAL" not in str(caught.value)


# -- failures a responder meets: each one line, no traceback -------------------------------

def _cli_decrypt(path: Path, identity: Path) -> tuple[int, bytes, str]:
    result = CliRunner().invoke(main, ["decrypt", str(path), "-i", str(identity)])
    return result.exit_code, result.stdout_bytes, result.stderr


def test_cli_decrypt_writes_plaintext_to_stdout(sealed: Path, alice: tuple[Path, str]) -> None:
    code, out, _ = _cli_decrypt(sealed, alice[0])
    assert code == 0
    assert out == PLAINTEXT


def test_an_identity_readable_by_others_opens_with_a_warning(sealed: Path,
                                                             alice: tuple[Path, str]) -> None:
    assert "warning" not in _cli_decrypt(sealed, alice[0])[2]
    alice[0].chmod(0o644)
    code, out, err = _cli_decrypt(sealed, alice[0])
    assert code == 0 and out == PLAINTEXT
    assert err == (f"triage: warning: {alice[0]}: the identity file is readable by group or "
                   "others; chmod 600 it\n")


def test_wrong_identity(tmp_path: Path, sealed: Path) -> None:
    mallory = tmp_path / "mallory.txt"
    crypto.generate_identity(mallory)
    code, out, err = _cli_decrypt(sealed, mallory)
    assert code == 2 and out == b""
    assert "not encrypted to this identity" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def _payload_start(data: bytes) -> int:
    """Where an age file's payload starts: after the header's last line, "--- MAC".

    (Searching for the newline from the "\n---" itself found that very newline, so
    "header" below hit the end of the stanzas instead of the MAC; the random grease
    stanza sometimes ends within 10 bytes of it, and a newline was replaced.)"""
    return data.index(b"\n", data.index(b"\n---") + 1) + 1


@pytest.mark.parametrize(("where", "expected"), [
    ("header", "header was altered"),
    ("payload", "truncated or was altered"),
    ("last byte", "truncated or was altered"),
])
def test_tampered_byte(sealed: Path, alice: tuple[Path, str], where: str, expected: str) -> None:
    data = bytearray(sealed.read_bytes())
    payload_start = _payload_start(data)
    position = {"header": payload_start - 10, "payload": payload_start + 1000,
                "last byte": len(data) - 1}[where]
    if where == "header":  # inside the base64 MAC: swap for another base64 letter
        data[position] = ord("B") if data[position] == ord("A") else ord("A")
    else:
        data[position] ^= 0x01
    sealed.write_bytes(bytes(data))
    code, out, err = _cli_decrypt(sealed, alice[0])
    assert code == 2 and out == b""
    assert expected in err and "Traceback" not in err


@pytest.mark.parametrize(("keep", "expected"), [
    (lambda n, start: 40, "not a valid age file"),
    (lambda n, start: start + 16 + 65552 + 7, "the file is truncated"),
    (lambda n, start: n - 100, "truncated or was altered"),
    (lambda n, start: 0, "not a valid age file"),
])
def test_truncated_file(sealed: Path, alice: tuple[Path, str], keep, expected: str) -> None:  # type: ignore[no-untyped-def]
    data = sealed.read_bytes()
    payload_start = _payload_start(data)
    sealed.write_bytes(data[:keep(len(data), payload_start)])
    code, out, err = _cli_decrypt(sealed, alice[0])
    assert code == 2 and out == b""
    assert expected in err and "Traceback" not in err


def test_missing_files_are_clear(tmp_path: Path, alice: tuple[Path, str]) -> None:
    code, _, err = _cli_decrypt(tmp_path / "absent.age", alice[0])
    assert code == 2 and "encrypted file not found" in err
    code, _, err = _cli_decrypt(tmp_path / "absent.age", tmp_path / "absent.txt")
    assert code == 2 and "identity file not found" in err


# -- interop: responders open summaries with the standard age CLI ---------------------------

AGE = shutil.which("age")
needs_age = pytest.mark.skipif(AGE is None, reason="the `age` CLI is not installed "
                               "(Debian package `age`; .ci/run installs it)")


@needs_age
def test_age_cli_decrypts_what_triage_encrypts(tmp_path: Path, sealed: Path,
                                                alice: tuple[Path, str]) -> None:
    result = subprocess.run([AGE, "--decrypt", "--identity", str(alice[0]), str(sealed)],
                            capture_output=True, check=True, timeout=30)
    assert result.stdout == PLAINTEXT


@needs_age
def test_triage_decrypts_what_age_encrypts(tmp_path: Path) -> None:
    keygen = shutil.which("age-keygen")
    if keygen is None:
        pytest.skip("age-keygen is not installed")
    identity = tmp_path / "key.txt"
    subprocess.run([keygen, "-o", str(identity)], capture_output=True, check=True, timeout=30)
    recipient = subprocess.run([keygen, "-y", str(identity)], capture_output=True, text=True,
                               check=True, timeout=30).stdout.strip()
    sealed = tmp_path / "x.age"
    subprocess.run([AGE, "--encrypt", "-r", recipient, "-o", str(sealed)], input=PLAINTEXT,
                   capture_output=True, check=True, timeout=30)
    assert crypto.decrypt_file(sealed, identity) == PLAINTEXT
    assert os.path.getsize(sealed) > len(PLAINTEXT)
