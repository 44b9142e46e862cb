"""``triage overlap``: people two leaks of one index have in common."""

from __future__ import annotations

import json

import click

from triage.identity.overlap import overlap


@click.command("overlap")
@click.argument("index", type=click.Path(exists=True, file_okay=False))
@click.argument("leak_a")
@click.argument("leak_b")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def command(index: str, leak_a: str, leak_b: str, as_json: bool) -> None:
    """Count people of LEAK_A found in LEAK_B by any shared identifier, per kind.

    Works on keyed digests only: no key and no plaintext are needed.
    """
    result = overlap(index, leak_a, leak_b)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(f"{leak_a}: {result['people_a']:,} people; {leak_b}: {result['people_b']:,} people")
    click.echo(f"people of {leak_a} in {leak_b}: {result['people_a_in_b']:,}; "
               f"of {leak_b} in {leak_a}: {result['people_b_in_a']:,}")
    for kind, counts in result["by_identifier_kind"].items():
        click.echo(f"  {kind:<20} shared identifiers {counts['shared_identifiers']:>10,}  "
                   f"people {counts['people_a']:>10,} / {counts['people_b']:,}")
