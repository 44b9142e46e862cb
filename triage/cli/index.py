"""``triage index``: add a dump to a victim-lookup index, in one pass."""

from __future__ import annotations

from pathlib import Path

import click

from triage.cli.options import Region, allow_partial_option, check_output_dir, warn_of_lost_rows
from triage.sources import reading_options


@click.command("index")
@click.argument("dump", nargs=-1, required=True, type=click.Path())
@click.option("--key", "key_file", type=click.Path(dir_okay=False),
              help="HMAC key file (0600); without it, TRIAGE_HMAC_KEY (base64) is used.")
@click.option("--leak-id", required=True, help="Id of this leak in the index (new: an index "
              "only grows).")
@click.option("--leak-name", help="Human name of the leak (default: the first file's name).")
@click.option("-o", "--output", "index_dir", required=True, type=click.Path(file_okay=False),
              help="Index directory (created, or an existing index made with the same key), or "
                   "an fsspec URL (s3://bucket/index with s3fs; one writer at a time there).")
@click.option("--region", default="FR", show_default=True, type=Region(),
              help="Default phone region and date order (ISO 3166 code).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@allow_partial_option
def command(dump: tuple[str, ...], key_file: str | None, leak_id: str, leak_name: str | None,
            index_dir: str, region: str, quiet: bool, allow_partial: bool) -> None:
    """Detect the identifiers of DUMP, hash them with the keyed HMAC and append the leak
    to INDEX, in the same single pass as `triage scan` (which also writes a summary).
    The input files are also read raw once more, beside the pass, for their SHA-256."""
    from triage.identity.index import without_credentials
    from triage.identity.keys import load_hmac_key
    from triage.scan import scan, write_index

    key = load_hmac_key(key_file)
    if "://" not in index_dir:  # a URL's store says what it refuses when it is written
        check_output_dir(index_dir)
    with reading_options(allow_partial=allow_partial):
        result = scan(dump, key=key, region=region, progress=not quiet)
    warn_of_lost_rows(result.results)
    manifest = write_index(result, index_dir, leak_id=leak_id,  # a path or an fsspec URL
                           leak_name=leak_name or Path(dump[0]).name)
    entry = next(e for e in manifest["leaks"] if e["leak_id"] == leak_id)
    click.echo(f"leak {leak_id}: {entry['identifiers']:,} identifiers of {entry['people']:,} "
               f"people added to {without_credentials(index_dir)} (key id {manifest['key_id']})")
