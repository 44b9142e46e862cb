"""``triage lookup``: is one person in the indexed leaks, and what of theirs leaked?"""

from __future__ import annotations

import json
import sys

import click

from triage.identity.keys import load_hmac_key
from triage.identity.lookup import LookupIndex


def _value(raw: str) -> str:
    # "-" reads the identifier from stdin, so it never shows in argv or shell history.
    return sys.stdin.readline().rstrip("\r\n") if raw == "-" else raw


@click.command("lookup")
@click.argument("index", type=click.Path(exists=True, file_okay=False))
@click.option("--key", "key_file", type=click.Path(dir_okay=False),
              help="HMAC key file (mode 0600); default: $TRIAGE_HMAC_KEY (base64).")
@click.option("--email")
@click.option("--phone")
@click.option("--national-id", "national_id")
@click.option("--health-insurance-id", "health_insurance_id")
@click.option("--name", help="Full name (first then last), with --birth-date.")
@click.option("--birth-date", "birth_date", help="YYYY-MM-DD, with --name.")
@click.option("--region", help="Default phone region, e.g. FR (default: the index's).")
@click.option("--json", "as_json", is_flag=True, help="Print schemas/lookup.schema.json.")
def command(index: str, key_file: str | None, email: str | None, phone: str | None,
            national_id: str | None, health_insurance_id: str | None, name: str | None,
            birth_date: str | None, region: str | None, as_json: bool) -> None:
    """Look one identifier up in every leak of INDEX.

    Give exactly one of --email, --phone, --national-id, --health-insurance-id,
    or --name with --birth-date. A value of "-" is read from stdin instead of
    the command line (which other local users can see). An index made with
    another key is an error, never a silent "not found".
    """
    given = {kind: value for kind, value in (("email", email), ("phone", phone),
                                             ("national_id", national_id),
                                             ("health_insurance_id", health_insurance_id))
             if value is not None}
    if name is not None or birth_date is not None:
        if name is None or birth_date is None:
            raise click.UsageError("--name and --birth-date go together")
        given["name_birth"] = name
    if len(given) != 1:
        raise click.UsageError("give exactly one identifier")
    kind, raw = next(iter(given.items()))
    value = _value(raw)
    if kind == "name_birth" and birth_date == "-":
        raise click.UsageError("read --name or --birth-date from stdin, not both")
    lookup_index = LookupIndex(index, load_hmac_key(key_file), region=region)
    answer = lookup_index.lookup(kind, value, birth_date)
    if as_json:
        click.echo(json.dumps(answer, ensure_ascii=False, indent=2))
        return
    if not answer["found"]:
        click.echo("not found in any leak of this index")
        return
    for leak in answer["leaks"]:
        seen = (f", seen {leak['first_seen']} to {leak['last_seen']}"
                if leak["first_seen"] else "")
        click.echo(f"found in {leak['name']} ({leak['leak_id']}){seen}: "
                   + ", ".join(leak["categories"]))
