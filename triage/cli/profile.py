"""``triage profile``: what is in each column, without showing any value."""

from __future__ import annotations

import json

import click

from triage.cli.options import allow_partial_option, warn_of_lost_rows
from triage.pipeline import profile_document, run
from triage.sources import reading_options


def _printable(text: str) -> str:
    """Control characters in a shape (a newline inside a quoted cell) as escapes: the
    table keeps one line per column."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def _render_table(result) -> str:  # type: ignore[no-untyped-def]
    doc = result.profile_document()
    rows = doc["rows"]
    src = doc["source"]
    lines = [
        (f"{src['name']}  format={src['format']} encoding={src.get('encoding')} "
         f"delimiter={src.get('delimiter')!r} compression={src.get('compression')}"),
        f"rows: read {rows['read']:,}  parsed {rows['parsed']:,}  rejected {rows['rejected']:,}"
        + (f"  reasons {rows['reasons']}" if rows["reasons"] else "")
        + (f"  repaired {rows['repaired']}" if rows["repaired"] else ""),
        "",
        (f"{'column':<28} {'type':<10} {'nulls':>9} {'empty':>9} {'distinct':>10} "
         f"{'len':>9}  top shape"),
    ]
    for col in doc["columns"]:
        length = col["length"]
        span = f"{length['min']}-{length['max']}" if length["min"] is not None else "-"
        shape = col["shapes"][0] if col["shapes"] else None
        top = f"{_printable(shape['shape'])} ({shape['share']:.0%})" if shape else ""
        lines.append(f"{_printable(col['name'])[:28]:<28} {col['type']['kind']:<10} {col['nulls']:>9,} "
                     f"{col['empty']:>9,} {col['distinct']:>10,} {span:>9}  {top}")
    return "\n".join(lines)


@click.command("profile")
@click.argument("dump", nargs=-1, required=True, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document "
              "(schemas/profile.schema.json) instead of a table.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@allow_partial_option
def command(dump: tuple[str, ...], as_json: bool, quiet: bool, allow_partial: bool) -> None:
    """Profile every column of DUMP in one pass: types, nulls, distinct counts, shapes.

    Never prints a value: only counts, lengths, types and value shapes
    (``Aa``, ``99/99/9999``). Numeric min/max are withheld where a value has 7 or
    more integer digits (decimals too); date ranges are given to the month.
    """
    with reading_options(allow_partial=allow_partial):
        results = run(dump, progress=not quiet)
    warn_of_lost_rows(results)
    if as_json:
        click.echo(json.dumps(profile_document(results), ensure_ascii=False, indent=2))
        return
    click.echo("\n\n".join(_render_table(r) for r in results))
