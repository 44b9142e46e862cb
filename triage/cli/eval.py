"""``triage eval``: detection scored against a synthetic truth file."""

from __future__ import annotations

import json

import click

from triage.detect.evaluate import Evaluation, evaluate


def _render(result: Evaluation) -> str:
    lines = [(f"{'category':<22} {'precision':>9} {'recall':>7} {'f1':>6} {'tp':>4} {'fp':>4} "
              f"{'fn':>4}")]
    for name, s in sorted(result.categories.items()):
        lines.append(f"{name:<22} {s.precision:>9.3f} {s.recall:>7.3f} {s.f1:>6.3f} "
                     f"{s.tp:>4} {s.fp:>4} {s.fn:>4}")
    lines.append(f"macro F1 {result.macro_f1:.3f} over {len(result.categories)} categories, "
                 f"{result.columns} columns, {result.flagged} flagged")
    for column, truth, got in result.errors:
        lines.append(f"  {column}: truth {truth or '-'}, detected {got or '-'}")
    return "\n".join(lines)


@click.command("eval")
@click.argument("dump", type=click.Path())
@click.option("--truth", "truth", required=True, type=click.Path(),
              help="Truth file (DUMP.truth.json from `triage synth`).")
@click.option("--json", "as_json", is_flag=True, help="Print the scores as JSON.")
def command(dump: str, truth: str, as_json: bool) -> None:
    """Score detection on DUMP against TRUTH: per-category precision, recall, F1.

    Column level: each column is one decision. Macro F1 averages the categories
    present in the truth or the detections.
    """
    result = evaluate(dump, truth)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    click.echo(_render(result))
