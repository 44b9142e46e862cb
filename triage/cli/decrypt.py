"""``triage decrypt``: open an age-encrypted summary, as ``age -d -i`` would."""

from __future__ import annotations

import contextlib
import os
import sys

import click

from triage.report.crypto import decrypt_file


@click.command("decrypt")
@click.argument("encrypted", metavar="FILE.age", type=click.Path(dir_okay=False))
@click.option("--identity", "-i", "identity", required=True, type=click.Path(dir_okay=False),
              help="age identity file (from `triage keygen age` or age-keygen).")
def command(encrypted: str, identity: str) -> None:
    """Decrypt FILE.age with IDENTITY and write the plaintext to stdout.

    Nothing is written to disk: redirect stdout where the plaintext may go. The
    standard CLI does the same: age -d -i IDENTITY FILE.age
    """
    # age itself opens an identity file whatever its mode; so does this, with a word,
    # since the identity opens every summary encrypted to it.
    with contextlib.suppress(OSError):
        if os.stat(identity).st_mode & 0o077:
            click.echo(f"triage: warning: {identity}: the identity file is readable by group "
                       "or others; chmod 600 it", err=True)
    plaintext = decrypt_file(encrypted, identity)
    # sys.stdout.buffer, not click.get_binary_stream (deprecated in click 8.5).
    sys.stdout.buffer.write(plaintext)
    sys.stdout.flush()
