"""``triage lookup``: is one person in the indexed leaks, and what of theirs leaked?"""

from __future__ import annotations

import json
import sys

import click

from triage.cli.options import Region
from triage.identity.keys import load_hmac_key
from triage.identity.lookup import LookupIndex

#: The option each identifier kind comes from, to name it in usage errors.
_OPTIONS = {"email": "--email", "phone": "--phone", "national_id": "--national-id",
            "health_insurance_id": "--health-insurance-id", "name_birth": "--name"}


def _value(raw: str, option: str) -> str:
    """The value of ``option``; "-" reads it from stdin, so it never shows in argv or
    shell history. Empty is a usage error: it could only ever answer "not found"."""
    value = sys.stdin.readline().rstrip("\r\n") if raw == "-" else raw
    if not value.strip():
        where = "on stdin" if raw == "-" else "given"
        raise click.UsageError(f"{option}: no value {where}")
    return value


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
@click.option("--region", type=Region(),
              help="Default phone region, e.g. FR (default: the index's).")
@click.option("--json", "as_json", is_flag=True, help="Print schemas/lookup.schema.json.")
def command(index: str, key_file: str | None, email: str | None, phone: str | None,
            national_id: str | None, health_insurance_id: str | None, name: str | None,
            birth_date: str | None, region: str | None, as_json: bool) -> None:
    """Look one identifier up in every leak of INDEX.

    Give exactly one of --email, --phone, --national-id, --health-insurance-id,
    or --name with --birth-date. A value of "-" is read from stdin instead of
    the command line (which other local users can see). An index made with
    another key, or an empty or invalid identifier, is an error, never a silent
    "not found".
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
    if kind == "name_birth" and raw == birth_date == "-":
        raise click.UsageError("read --name or --birth-date from stdin, not both")
    value = _value(raw, _OPTIONS[kind])
    if kind == "name_birth":
        birth_date = _value(birth_date, "--birth-date")
    lookup_index = LookupIndex(index, load_hmac_key(key_file), region=region)
    # An identifier with no canonical form is in no index: say so, rather than answer
    # "not found" to a typo (the HTTP service answers it like a miss, for its timing).
    if lookup_index.digest(kind, value, birth_date) is None:
        what = ("a usable name and birth date" if kind == "name_birth"
                else f"a valid {kind.replace('_', ' ')}"
                + (f" for region {lookup_index.region}" if kind == "phone" else ""))
        raise click.UsageError(f"{_OPTIONS[kind]}: the value given is not {what}")
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
