"""Options shared by the commands that read dumps (not a command itself)."""

from __future__ import annotations

from collections.abc import Iterable

import click

allow_partial_option = click.option(
    "--allow-partial", is_flag=True,
    help="Keep the rows read before a truncated compressed file or archive breaks, instead "
         "of failing (exit 0, with a warning).")


def warn_partial(results: Iterable) -> None:  # type: ignore[type-arg]
    """One warning line per truncated source that --allow-partial kept."""
    for result in results:
        if getattr(result.info, "truncated_at_byte", None) is not None:
            click.echo(f"triage: warning: {result.info.name}: input ends early (truncated) "
                       f"after {result.accounting.read:,} rows; kept them (--allow-partial)",
                       err=True)
