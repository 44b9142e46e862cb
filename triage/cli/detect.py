"""``triage detect``: which columns hold personal, health or tracking data."""

from __future__ import annotations

import json

import click

from triage.detect.dump import TableFindings, detect_dump, dump_document


def _render_table(tables: list[TableFindings]) -> str:
    lines = []
    for table in tables:
        lines.append(f"{table.table}  rows={table.rows:,}")
        lines.append(f"{'column':<32} {'category':<20} {'subtype':<18} {'conf':>5}  "
                     f"{'art.9':<5} evidence")
        for f in table.findings:
            values = f.evidence.get("values") or {}
            header = f.evidence.get("header") or {}
            why = []
            if header:
                why.append(f"header {header['match']}:{header['language']}")
            if values.get("valid_share") is not None:
                why.append(f"{values['valid_share']:.0%} of {values['sample_size']} valid")
            if f.mixed_with:
                why.append(" / ".join(f"{values[f'{part}_share']:.0%} {part}"
                                      for part in f.categories))
            category = "+".join(f.categories) or "-"
            lines.append(f"{f.name[:32]:<32} {category:<20} {f.subtype or '':<18} "
                         f"{f.confidence:>5.2f}  {'yes' if f.special_category else '':<5} "
                         f"{', '.join(why)}")
        lines.append("")
    return "\n".join(lines).rstrip()


@click.command("detect")
@click.argument("dump", type=click.Path())
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON document (schemas/findings.schema.json) instead of a table.")
def command(dump: str, as_json: bool) -> None:
    """Find the sensitive columns of DUMP: identifiers, health and tracking data.

    One verdict per column from its header (13 languages) and a bounded sample of
    its values (check digits, parsers, lexicons). Never prints a value: only
    categories, confidences and shares.
    """
    tables = detect_dump(dump)
    if as_json:
        click.echo(json.dumps(dump_document(dump, tables), ensure_ascii=False, indent=2))
        return
    click.echo(_render_table(tables))
