"""The HMAC key: generated, loaded and fingerprinted without ever being shown.

The key is the only thing that makes an index useless to a thief, so it is never
taken from a command-line value (argv is visible to every local user and lands in
shell history), key files readable by group or others are refused, and the key
only ever shows as its key id, a short fingerprint derived with HMAC so that the
id reveals nothing about the key. Each use gets its own sub-key (HKDF), so a
digest made for the index cannot be replayed as, say, a rate-limit bucket name.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from triage.errors import TriageError

#: Environment variable holding the key as base64, for services and CI.
KEY_ENV = "TRIAGE_HMAC_KEY"
KEY_BYTES = 32
_KEY_ID_LABEL = b"triage:key-id:v1"

#: A loaded key with fewer distinct byte values was typed or made up, not drawn at
#: random: 32 random bytes have about 30, and fewer than 20 with a probability of
#: 1.4e-10. A guessable key makes the index as weak as unkeyed hashes.
MIN_DISTINCT_BYTES = 20
#: Bytes of a file that is base64 text (the form of TRIAGE_HMAC_KEY) rather than a key.
_BASE64_TEXT = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\r\n")

#: HKDF ``info`` labels, one per purpose; changing one changes every digest made with it.
PURPOSE_IDENTIFIERS = "identifiers:v1"
PURPOSE_CLIENTS = "rate-limit-clients:v1"


@dataclass(frozen=True)
class HmacKey:
    """A secret key; ``repr`` and ``str`` show only its key id."""

    _secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self._secret) < KEY_BYTES:
            raise TriageError(f"HMAC key is {len(self._secret)} bytes; at least {KEY_BYTES} "
                              "are required (make one with `triage keygen hmac -o FILE`)")

    @property
    def key_id(self) -> str:
        """A 16-hex-digit fingerprint: safe to print, store in manifests and compare."""
        return hmac.new(self._secret, _KEY_ID_LABEL, hashlib.sha256).hexdigest()[:16]

    def subkey(self, purpose: str) -> bytes:
        """A 32-byte key for one purpose, derived with HKDF-SHA256."""
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                    info=f"triage:{purpose}".encode()).derive(self._secret)

    def __reduce__(self) -> str | tuple[object, ...]:
        # Pickling contract: a key never travels (task graphs, results, logs of a
        # cluster); every process loads it from its own file or environment.
        raise TypeError("an HMAC key is never pickled: each process loads it itself "
                        f"(--key FILE or {KEY_ENV}); send its key_id instead")

    def __str__(self) -> str:
        return f"HmacKey(key_id={self.key_id})"

    __repr__ = __str__


def generate_key_file(path: str | Path) -> HmacKey:
    """Write 32 random bytes to a new file of mode 0600; never overwrite anything."""
    secret = secrets.token_bytes(KEY_BYTES)
    try:
        # O_EXCL: refuse an existing file, and the mode is set at creation, never widened.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise TriageError("refusing to overwrite an existing file", path=str(path)) from None
    except OSError as exc:
        raise TriageError(f"cannot create key file ({exc.strerror})", path=str(path)) from None
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(handle.fileno(), 0o600)  # a umask cannot have made it wider, but be explicit
        handle.write(secret)
    return HmacKey(secret)


def _read_key_file(path: Path) -> bytes:
    try:
        info = path.stat()
    except OSError as exc:
        raise TriageError(f"cannot read key file ({exc.strerror})", path=str(path)) from None
    if not stat.S_ISREG(info.st_mode):
        raise TriageError("key file is not a regular file", path=str(path))
    if info.st_mode & 0o077:
        raise TriageError(f"key file mode is {stat.S_IMODE(info.st_mode):04o}; it must not be "
                          "readable by group or others (chmod 600)", path=str(path))
    return path.read_bytes()


def _raw_key_file(path: Path) -> HmacKey:
    key = HmacKey(_read_key_file(path))
    if set(key._secret) <= _BASE64_TEXT:
        # Taken as raw bytes, the same key would get another key id here than in the
        # environment variable: the index would refuse every lookup made the other way.
        # (All 32 bytes of a random key fall in the base64 alphabet once in 1e19.)
        raise TriageError(f"key file holds base64 text, not the raw key: decode it "
                          f"(base64 -d) or put the text in {KEY_ENV}", path=str(path))
    return key


def _random_looking(key: HmacKey, where: str) -> HmacKey:
    if len(set(key._secret)) < MIN_DISTINCT_BYTES:
        raise TriageError(f"{where} does not look random (too few distinct bytes): make a "
                          "key with `triage keygen hmac -o FILE`")
    return key


def load_hmac_key(path: str | Path | None) -> HmacKey:
    """Load the key from ``path`` (raw bytes), or from ``$TRIAGE_HMAC_KEY`` (base64) if None.

    A key that is not random is refused here, where users' keys come in; tests and
    benchmarks may still build an HmacKey from fixed bytes."""
    if path is not None:
        return _random_looking(_raw_key_file(Path(path)), "the key file")
    encoded = os.environ.get(KEY_ENV)
    if not encoded:
        raise TriageError(f"no HMAC key: give --key FILE or set {KEY_ENV} (base64)")
    try:
        secret = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise TriageError(f"{KEY_ENV} is not valid base64") from None
    return _random_looking(HmacKey(secret), f"the key in {KEY_ENV}")
