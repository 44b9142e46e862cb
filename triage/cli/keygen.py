"""``triage keygen``: make keys. ``keygen hmac`` makes the identity (HMAC) key."""

from __future__ import annotations

import click

from triage.identity.keys import generate_key_file


@click.group("keygen")
def command() -> None:
    """Make the keys triage needs; a key is written once and never printed."""


@command.command("hmac")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False),
              help="Key file to create (mode 0600); an existing file is never overwritten.")
def hmac_command(output: str) -> None:
    """Write a new 32-byte HMAC key for digests, people counting and the lookup index.

    Keep it apart from the index: whoever holds both can test guesses. Only its
    key id (a fingerprint) is printed. For services, the key may instead be given
    base64-encoded in the TRIAGE_HMAC_KEY environment variable.
    """
    key = generate_key_file(output)
    click.echo(f"wrote {output} (mode 0600), key id {key.key_id}")


@command.command("age")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False),
              help="Identity file to create (mode 0600); an existing file is never overwritten.")
def age_command(output: str) -> None:
    """Write a new age identity for reading summaries, and print its recipient.

    Give the recipient (age1...) to whoever runs `triage scan --recipient`; keep
    the identity file to yourself. The standard `age -d -i FILE` reads it too.
    """
    from triage.report.crypto import generate_identity

    click.echo(generate_identity(output))
