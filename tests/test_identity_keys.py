from __future__ import annotations

import base64
import os
import stat

import pytest
from click.testing import CliRunner

from triage.cli import main
from triage.errors import TriageError
from triage.identity.keys import (
    KEY_ENV,
    PURPOSE_CLIENTS,
    PURPOSE_IDENTIFIERS,
    HmacKey,
    generate_key_file,
    load_hmac_key,
)


def test_keygen_writes_32_bytes_mode_0600_and_prints_only_the_key_id(tmp_path):
    path = tmp_path / "hmac.key"
    result = CliRunner().invoke(main, ["keygen", "hmac", "-o", str(path)])
    assert result.exit_code == 0, result.output
    secret = path.read_bytes()
    assert len(secret) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = load_hmac_key(str(path))
    assert key.key_id in result.output
    assert secret.hex() not in result.output
    assert base64.b64encode(secret).decode() not in result.output


def test_keygen_never_overwrites(tmp_path):
    path = tmp_path / "hmac.key"
    path.write_bytes(b"precious")
    result = CliRunner().invoke(main, ["keygen", "hmac", "-o", str(path)])
    assert result.exit_code == 2
    assert path.read_bytes() == b"precious"


def test_keygen_is_a_group_with_hmac():
    result = CliRunner().invoke(main, ["keygen", "--help"])
    assert result.exit_code == 0 and "hmac" in result.output


def test_short_keys_and_readable_key_files_are_refused(tmp_path):
    with pytest.raises(TriageError, match="at least 32"):
        HmacKey(b"x" * 31)
    path = tmp_path / "k"
    generate_key_file(path)
    os.chmod(path, 0o640)
    with pytest.raises(TriageError, match="group or others"):
        load_hmac_key(str(path))
    short = tmp_path / "short"
    short.write_bytes(b"y" * 16)
    os.chmod(short, 0o600)
    with pytest.raises(TriageError, match="at least 32"):
        load_hmac_key(str(short))


def test_key_from_environment_base64(monkeypatch):
    secret = os.urandom(32)
    monkeypatch.setenv(KEY_ENV, base64.b64encode(secret).decode())
    assert load_hmac_key(None).key_id == HmacKey(secret).key_id
    monkeypatch.setenv(KEY_ENV, "not base64!")
    with pytest.raises(TriageError, match="base64"):
        load_hmac_key(None)
    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(TriageError, match="no HMAC key"):
        load_hmac_key(None)


def test_key_shows_only_its_id_and_subkeys_differ_per_purpose():
    secret = os.urandom(32)
    key = HmacKey(secret)
    assert len(key.key_id) == 16 and key.key_id != secret.hex()[:16]
    assert secret.hex() not in repr(key) and str(secret) not in str(key)
    assert key.subkey(PURPOSE_IDENTIFIERS) != key.subkey(PURPOSE_CLIENTS)
    assert key.subkey(PURPOSE_IDENTIFIERS) != secret
    assert HmacKey(secret).key_id == key.key_id  # stable


def test_no_command_takes_a_key_value_on_the_command_line():
    # A --key option must name a file; nothing accepts the key itself in argv.
    from triage.cli import lookup, serve
    for command in (lookup.command, serve.command):
        names = {opt for param in command.params for opt in getattr(param, "opts", [])}
        assert "--key" in names
        assert not any("hmac-key" in n or n == "--key-value" for n in names)


@pytest.mark.parametrize("secret", [bytes(32), b"\x01\x02" * 20, b"my passphrase is long enough!!!!"])
def test_a_key_that_is_not_random_is_refused_from_file_and_environment(tmp_path, monkeypatch,
                                                                        secret):
    path = tmp_path / "k.key"
    path.write_bytes(secret)
    os.chmod(path, 0o600)
    with pytest.raises(TriageError, match="does not look random"):
        load_hmac_key(str(path))
    monkeypatch.setenv(KEY_ENV, base64.b64encode(secret).decode())
    with pytest.raises(TriageError, match="does not look random"):
        load_hmac_key(None)


def test_a_key_file_of_base64_text_is_refused_not_taken_as_raw_bytes(tmp_path, monkeypatch):
    secret = os.urandom(32)
    path = tmp_path / "k.key"
    path.write_text(base64.b64encode(secret).decode() + "\n")
    os.chmod(path, 0o600)
    with pytest.raises(TriageError, match="base64 text") as refused:
        load_hmac_key(str(path))
    assert base64.b64encode(secret).decode() not in str(refused.value)
    monkeypatch.setenv(KEY_ENV, path.read_text())
    assert load_hmac_key(None).key_id == HmacKey(secret).key_id
