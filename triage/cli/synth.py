"""``triage synth``: write a synthetic leaked dump and its ground-truth file."""

from __future__ import annotations

import click

import synthetic
from triage.cli.options import os_errors_as_one_line
from triage.errors import TriageError


@click.command("synth")
@click.argument("scenario", type=click.Choice(synthetic.scenarios()))
@click.option(
    "--rows", "-n", type=click.IntRange(min=0), required=True, help="Number of data rows."
)
@click.option(
    "--output",
    "-o",
    "output",
    type=click.Path(dir_okay=False, writable=True),
    required=True,
    help="Dump to write; the truth goes to OUTPUT.truth.json.",
)
@click.option(
    "--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Same seed, same bytes."
)
@click.option(
    "--messy", is_flag=True, help="Plant the defects of real exports (see docs/synthetic.md)."
)
@click.option("--obfuscate-headers", is_flag=True, help="Name the columns C01, C02 …")
@click.option(
    "--locale",
    type=click.Choice(synthetic.HEADER_LOCALES),
    default=None,
    help="Language of the header names (default: the scenario's own).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def command(
    scenario: str,
    rows: int,
    output: str,
    seed: int,
    messy: bool,
    obfuscate_headers: bool,
    locale: str | None,
    quiet: bool,
) -> None:
    """Generate SCENARIO: a synthetic dump shaped like a real health-data leak."""
    with os_errors_as_one_line("write the dump", output):
        try:
            truth = synthetic.generate(
                scenario,
                rows,
                output,
                seed=seed,
                messy=messy,
                obfuscate_headers=obfuscate_headers,
                locale=locale,
                progress=not quiet,
            )
        except ValueError as exc:  # a size the scenario's identifier formats cannot hold
            raise TriageError(str(exc), path=output) from exc
    if not quiet:
        click.echo(
            f"{output}: {truth['rows']} rows, {truth['people']} people, "
            f"{len(truth['columns'])} columns; truth in {output}.truth.json",
            err=True,
        )
