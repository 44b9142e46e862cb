"""``triage scan``: one pass from a dump to an encrypted impact summary."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path

import click

from triage.cli.options import (
    Region,
    allow_partial_option,
    check_output_dir,
    os_errors_as_one_line,
    warn_of_lost_rows,
)
from triage.errors import TriageError
from triage.sources import reading_options

SUMMARY_FILES = ("summary.json", "summary.html", "summary.md")  # each also as .age


def _default_leak_id(paths: tuple[str, ...]) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(paths[0]).name.split(".")[0])[:40].strip("-")
    return f"{stem or 'leak'}-{datetime.now(UTC):%Y%m%d}"


def _write_json(path: Path, document: dict) -> None:
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


@click.command("scan")
@click.argument("dump", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", "outdir", required=True, type=click.Path(file_okay=False),
              help="Output directory (created; must not already hold a summary).")
@click.option("--key", "key_file", type=click.Path(dir_okay=False),
              help="HMAC key file (0600) for the victim-lookup index. Without it (and without "
                   "TRIAGE_HMAC_KEY), people are counted with a throwaway key and no index is "
                   "written.")
@click.option("--recipient", "recipients", multiple=True, metavar="AGE_RECIPIENT",
              help="age recipient (age1...) the summary is encrypted to; repeatable. Default: "
                   "a local identity in your config directory, created once.")
@click.option("--leak-id", help="Id of this leak in the index and the summary.")
@click.option("--leak-name", help="Human name of the leak (default: the first file's name).")
@click.option("--region", default="FR", show_default=True, type=Region(),
              help="Default phone region and date order (ISO 3166 code).")
@click.option("--published", is_flag=True,
              help="The data was published or traded openly (raises ENISA's circumstances).")
@click.option("--plaintext", is_flag=True,
              help="Also write the summary unencrypted. Otherwise no plaintext summary ever "
                   "touches the disk.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option("--cluster", metavar="ADDRESS",
              help="Run on Dask distributed (pip install 'triage[cluster]'): a scheduler "
                   "ADDRESS (tcp://host:8786; every worker reads DUMP and the key from the "
                   "same paths, or the key from its own TRIAGE_HMAC_KEY), or local[:N] for N "
                   "worker processes here. Same result as one machine. Large CSV files are "
                   "cut into parts; a quoted one is first read raw once more to find where.")
@allow_partial_option
def command(dump: tuple[str, ...], outdir: str, key_file: str | None,
            recipients: tuple[str, ...], leak_id: str | None, leak_name: str | None,
            region: str, published: bool, plaintext: bool, quiet: bool,
            cluster: str | None, allow_partial: bool) -> None:
    """Profile, detect, hash and summarise DUMP in one read of the data.

    Writes OUTDIR/profile.json, findings.json, index/ (with a key) and
    summary.{json,html,md}.age, each encrypted to every recipient. The input
    files are also read raw once more, beside the pass, to record their SHA-256.
    """
    from triage.identity.keys import load_hmac_key
    from triage.report import crypto
    from triage.report.render import render_recap
    from triage.report.summary import build_summary, write_summary
    from triage.scan import scan, summary_facts

    out = Path(outdir)
    if out.exists() and any((out / f"{name}.age").exists() or (out / name).exists()
                            for name in SUMMARY_FILES):
        raise TriageError("already holds a summary; choose a new output directory", path=outdir)
    check_output_dir(outdir, ("profile.json", "findings.json"))
    key = None
    if key_file or os.environ.get("TRIAGE_HMAC_KEY"):
        key = load_hmac_key(key_file)
    parsed_recipients = list(recipients)
    for recipient in parsed_recipients:
        crypto.parse_recipient(recipient)  # refuse a bad recipient before the long pass
    identity_note = None
    if not parsed_recipients and not plaintext:
        with os_errors_as_one_line("create your local age identity", crypto.config_dir()):
            identity_path, recipient = crypto.default_identity()
        parsed_recipients = [recipient]
        identity_note = identity_path

    leak_id = leak_id or _default_leak_id(dump)
    with reading_options(allow_partial=allow_partial):
        if cluster:
            from triage.cluster import IndexTarget, scan_on_cluster

            # The workers write the index while the cluster is up (its manifest here).
            result = scan_on_cluster(dump, address=cluster, key=key, key_file=key_file,
                                     region=region, index=IndexTarget(
                                         str(out / "index"), leak_id,
                                         leak_name or Path(dump[0]).name))
        else:
            result = scan(dump, key=key, region=region, progress=not quiet)
    warn_of_lost_rows(result.results)
    facts = summary_facts(result, leak_id=leak_id, leak_name=leak_name or Path(dump[0]).name,
                          circumstances={"published": published})
    summary = build_summary(facts)

    with os_errors_as_one_line("write the output", outdir):
        out.mkdir(parents=True, exist_ok=True)
        _write_json(out / "profile.json", result.profile_document())
        _write_json(out / "findings.json", result.findings_document())
        written = [out / "profile.json", out / "findings.json"]
        if result.keyed:
            if not cluster:
                from triage.scan import write_index

                write_index(result, out / "index", leak_id=leak_id,
                            leak_name=leak_name or Path(dump[0]).name)
            written.append(out / "index")
        written += write_summary(summary, out, parsed_recipients, plaintext=plaintext)
    click.echo(render_recap(summary), nl=False)
    click.echo("written: " + ", ".join(str(p) for p in written))
    if identity_note is not None:
        click.echo(f"encrypted to your local identity; read with: triage decrypt "
                   f"{out / 'summary.md.age'} -i {identity_note}")
