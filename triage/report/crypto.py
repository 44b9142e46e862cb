"""age encryption of reports, so that a summary about victims never rests on disk in clear.

The format is age (https://age-encryption.org/v1) through pyrage, so a responder opens
a summary with the standard ``age`` CLI and no triage install. Plaintext exists only
in memory: :func:`encrypt_to_file` encrypts a ``bytes`` object and writes ciphertext,
never a temporary plaintext file.

Identity files use age-keygen's layout (comment lines, then ``AGE-SECRET-KEY-1…``), so
``age -d -i FILE`` reads them too. Error messages name files, never key material.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import pyrage
from pyrage import ssh, x25519

from triage.errors import TriageError

IDENTITY_FILE_NAME = "identity.txt"

# age's payload is a 16-byte nonce followed by STREAM chunks of 64 KiB plaintext + 16-byte tag.
_NONCE_BYTES = 16
_TAG_BYTES = 16


def _identity_text(identity: x25519.Identity) -> str:
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (f"# created: {created}\n"
            f"# public key: {identity.to_public()}\n"
            f"{identity}\n")


def _create_private_file(path: Path, text: str) -> None:
    """Write ``text`` to a new file readable by its owner only; refuse to replace one."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise TriageError("already exists; refusing to overwrite an identity",
                          path=str(path)) from None
    except OSError as exc:
        raise TriageError(f"cannot create identity file ({exc.strerror})", path=str(path)) from None
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text)


def generate_identity(path: str | os.PathLike[str]) -> str:
    """Create a new X25519 identity at ``path`` (mode 0600) and return its ``age1…`` recipient.

    This is ``triage keygen age -o FILE``: the caller prints the returned recipient,
    which is public and is what senders pass to ``--recipient``.
    """
    identity = x25519.Identity.generate()
    _create_private_file(Path(path), _identity_text(identity))
    return str(identity.to_public())


def config_dir() -> Path:
    """``$XDG_CONFIG_HOME/triage``, or ``~/.config/triage`` when XDG_CONFIG_HOME is unset."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "triage"


def default_identity() -> tuple[Path, str]:
    """Return ``(identity path, recipient)`` of the local identity, creating it the first time.

    Used when a scan names no recipient: the summary is then encrypted to this
    identity, so it stays readable by the local user only.
    """
    directory = config_dir()
    path = directory / IDENTITY_FILE_NAME
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            return path, generate_identity(path)
        except TriageError:
            if not path.exists():  # a real failure, not a concurrent creation
                raise
    identities = load_identities(path)
    return path, str(identities[0].to_public())


def load_identities(path: str | os.PathLike[str]) -> list[x25519.Identity]:
    """Read the X25519 identities of an age identity file (age-keygen layout)."""
    try:
        lines = Path(path).read_text(encoding="ascii").splitlines()
    except FileNotFoundError:
        raise TriageError("identity file not found", path=str(path)) from None
    except (OSError, UnicodeDecodeError):
        raise TriageError("cannot read identity file (not an age identity file?)",
                          path=str(path)) from None
    identities = []
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            identities.append(x25519.Identity.from_str(line))
        except pyrage.IdentityError:
            # Never quote the line: it is (part of) a secret key.
            raise TriageError("not a valid age X25519 identity (AGE-SECRET-KEY-1…)",
                              path=str(path), line=number) from None
    if not identities:
        raise TriageError("contains no age identity", path=str(path))
    return identities


def parse_recipient(text: str) -> x25519.Recipient | ssh.Recipient:
    """Parse an ``age1…`` recipient (or an ``ssh-ed25519``/``ssh-rsa`` public key, as age does)."""
    text = text.strip()
    try:
        if text.startswith("ssh-"):
            return ssh.Recipient.from_str(text)
        return x25519.Recipient.from_str(text)
    except pyrage.RecipientError:
        shown = text[:12] + "…" if len(text) > 12 else text
        raise TriageError(f"invalid age recipient {shown!r} (expected age1… or an ssh public key)"
                          ) from None


def encrypt(plaintext: bytes, recipients: Iterable[str]) -> bytes:
    """Encrypt ``plaintext`` to every recipient; any one of their identities can decrypt."""
    parsed = [parse_recipient(recipient) for recipient in dict.fromkeys(recipients)]
    if not parsed:
        raise TriageError("no recipient to encrypt to")
    return pyrage.encrypt(plaintext, parsed)


def encrypt_to_file(plaintext: bytes, recipients: Iterable[str],
                    path: str | os.PathLike[str]) -> Path:
    """Encrypt in memory and write only the ciphertext to ``path``; return the path."""
    ciphertext = encrypt(plaintext, recipients)
    path = Path(path)
    try:
        path.write_bytes(ciphertext)
    except OSError as exc:
        raise TriageError(f"cannot write encrypted file ({exc.strerror})", path=str(path)) from None
    return path


def _explain_decrypt_failure(message: str, ciphertext: bytes) -> str:
    """Turn pyrage's terse DecryptError text into what the user should understand."""
    if "No matching keys" in message:
        return "not encrypted to this identity (no matching key); use the identity of a recipient"
    if "Header MAC" in message:
        return "the age header was altered after encryption (header MAC check failed)"
    if "Header is invalid" in message or "fill whole buffer" in message:
        return "not a valid age file (its header is damaged or truncated, or it is not age)"
    if "decryption error" in message:
        # A chunk shorter than its tag cannot be an altered byte: the file was cut. Any other
        # failure of the authenticated payload could be either, and age cannot tell which.
        header_end = ciphertext.find(b"\n---")
        if header_end >= 0:
            payload = len(ciphertext) - (ciphertext.index(b"\n", header_end + 1) + 1)
            if 0 < (payload - _NONCE_BYTES) % (64 * 1024 + _TAG_BYTES) < _TAG_BYTES:
                return "the file is truncated (its last chunk is incomplete)"
        return ("the file is truncated or was altered after encryption "
                "(payload authentication failed)")
    return "cannot decrypt (the file is damaged or not an age file)"


def decrypt(ciphertext: bytes, identities: list[x25519.Identity], *, name: str) -> bytes:
    """Decrypt age ``ciphertext``; failures become one-line TriageErrors about ``name``."""
    try:
        return pyrage.decrypt(ciphertext, identities)
    except pyrage.DecryptError as exc:
        raise TriageError(_explain_decrypt_failure(str(exc), ciphertext), path=name) from None


def decrypt_file(path: str | os.PathLike[str], identity_path: str | os.PathLike[str]) -> bytes:
    """Decrypt the age file at ``path`` with the identities in ``identity_path``."""
    identities = load_identities(identity_path)
    try:
        ciphertext = Path(path).read_bytes()
    except FileNotFoundError:
        raise TriageError("encrypted file not found", path=str(path)) from None
    except OSError as exc:
        raise TriageError(f"cannot read encrypted file ({exc.strerror})", path=str(path)) from None
    return decrypt(ciphertext, identities, name=str(path))
