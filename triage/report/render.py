"""Renderings of the summary document: JSON, Markdown, a terminal recap, and one HTML file.

The HTML page must open anywhere a responder can open a file, phone included, and
must not call out: inline CSS, inline SVG charts, system fonts, and a
Content-Security-Policy that forbids every fetch. Every string from the summary is
escaped; the summary itself holds counts, ids, region codes and months only.
"""

from __future__ import annotations

import html
import json
from typing import Any

from triage.report.geography import DEPARTEMENT_NAMES, GEOGRAPHY_VIEWS, US_STATE_NAMES

SEVERITY_COLOURS = {"low": "#2e7d32", "medium": "#b26a00", "high": "#d84315",
                    "very high": "#b71c1c"}


def _count(value: int | str) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _category_label(category_id: str) -> str:
    return category_id.replace("_", " ")


def _region_label(view: str, code: str) -> str:
    if view.startswith("fr_departement"):
        name = DEPARTEMENT_NAMES.get(code)
    elif view == "us_state":
        name = US_STATE_NAMES.get(code)
    else:
        name = None
    return f"{code} {name}" if name else code


def _formula_figures(severity: dict[str, Any]) -> str:
    factors = severity["factors"]
    return (f"{factors['dpc']['score']:g} × {factors['ei']['score']:g} + "
            f"{factors['cb']['score']:g}")


def _time_span(summary: dict[str, Any]) -> str:
    time = summary["time"]
    if not time["first"]:
        return "no dates"
    return time["first"] if time["first"] == time["last"] else f"{time['first']} to {time['last']}"


def render_json(summary: dict[str, Any]) -> str:
    """The summary document itself (schemas/summary.schema.json), as UTF-8 JSON text."""
    return json.dumps(summary, ensure_ascii=False, indent=2) + "\n"


_RECAP_GEOGRAPHY = {"fr_departement_postcode": "Lives in", "fr_departement_nir": "Born in",
                    "us_state": "US states", "country_phone": "Phone country"}


def render_recap(summary: dict[str, Any]) -> str:
    """A few lines for the terminal at the end of a scan: the headline figures, no identifier."""
    people, severity, rows = summary["people"], summary["severity"], summary["rows"]
    special = ", ".join(map(_category_label, summary["special_categories"])) or "none"
    lines = [
        f"People        {_count(people['distinct'])} distinct",
        f"Rows          {_count(rows['read'])} read, {_count(rows['rejected'])} rejected",
        f"Categories    {len(summary['categories'])} exposed; special: {special}",
        f"Time span     {_time_span(summary)}",
        (f"Severity      {severity['level']} (ENISA {severity['formula']} = "
         f"{_formula_figures(severity)} = {severity['score']:g})"),
    ]
    for view, breakdown in summary["geography"].items():
        top = [f"{_region_label(view, c['key'])} {_count(c['count'])}"
               for c in breakdown["cells"][:3]]
        lines.append(f"{_RECAP_GEOGRAPHY[view]:<13} " + ", ".join(top))
    lines += [f"Notify        {hint['rule']}: {hint['deadline']}"
              for hint in summary["notification"]["hints"]]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- Markdown

def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return lines + [""]


def render_markdown(summary: dict[str, Any]) -> str:
    """The summary as Markdown, for e-mail and tickets."""
    leak, people, severity = summary["leak"], summary["people"], summary["severity"]
    factors = severity["factors"]
    out = [f"# Impact summary: {leak['name']}", "",
           "> Confidential: this summary describes victims of a data breach. Keep it encrypted.",
           "",
           (f"Leak `{leak['id']}`, scanned {leak['scanned_at']} "
            f"with triage {leak['triage_version']}."),
           "", "## Headline", ""]
    out += _md_table(["", ""], [
        ["People (distinct)", _count(people["distinct"])],
        ["Rows read / parsed / rejected", " / ".join(_count(summary["rows"][k])
                                                     for k in ("read", "parsed", "rejected"))],
        ["Special categories",
         ", ".join(map(_category_label, summary["special_categories"])) or "none"],
        ["Severity (ENISA)", f"{severity['level']} ({severity['score']:g})"],
        ["Time span", _time_span(summary)],
        *[[f"Distinct {key}", _count(value)] for key, value in summary["sources"].items()],
    ])
    out += ["## Severity", "",
            (f"{severity['formula']} = {_formula_figures(severity)} = **{severity['score']:g}** "
             f"({severity['level']})"), ""]
    out += _md_table(["Factor", "Score", "Why"], [
        ["DPC, data processing context", f"{factors['dpc']['score']:g}", factors["dpc"]["why"]],
        ["EI, ease of identification", f"{factors['ei']['score']:g}", factors["ei"]["why"]],
        *[[f"CB, {part['circumstance']}", f"+{part['score']:g}", part["why"]]
          for part in factors["cb"]["parts"]],
    ])
    out += ["## Who may have to be told", "", f"_{summary['notification']['disclaimer']}_", ""]
    out += [f"- **{hint['rule']}** ({hint['deadline']}): {hint['hint']} "
            f"_Applies if {hint['applies_if']}._" for hint in summary["notification"]["hints"]]
    out += ["", "## Data exposed", ""]
    out += _md_table(["Category", "People", "Rows", "Special", "GDPR class", "Columns"], [
        [_category_label(c["id"]), _count(c["people"]), _count(c["rows"]),
         "yes" if c["special_category"] else "", c["gdpr_class"], str(c["columns"])]
        for c in summary["categories"]])
    if people["by_identifier_kind"]:
        out += ["### People by identifier kind", ""]
        out += _md_table(["Identifier", "People"],
                         [[_category_label(cell["key"]), _count(cell["count"])]
                          for cell in people["by_identifier_kind"]])
    for view, breakdown in summary["geography"].items():
        out += [f"## {GEOGRAPHY_VIEWS[view]}", ""]
        out += _md_table(["Region", "People"], [[_region_label(view, c["key"]), _count(c["count"])]
                                                for c in breakdown["cells"]]
                         + [["**Total**", _count(breakdown["total"])]])
    if summary["time"]["by_month"]["cells"]:
        out += ["## Rows per month", ""]
        out += _md_table(["Month", "Rows"], [[c["key"], _count(c["count"])]
                                             for c in summary["time"]["by_month"]["cells"]])
    out += ["## Files", ""]
    out += _md_table(["File", "Bytes", "SHA-256"],
                     [[f["name"], _count(f["size"]), f"`{f['sha256']}`"] for f in leak["files"]])
    out += ["## Method", ""] + [f"- {note}" for note in summary["method_notes"]]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- HTML

_CSS = """
:root { --ink:#1d2330; --muted:#5b6475; --line:#e2e6ee; --bg:#f6f7fb; --card:#fff;
        --bar:#3b6fd8; --special:#c2185b; --track:#eef1f7; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
             sans-serif; }
main { max-width: 980px; margin: 0 auto; padding: 16px; }
header { margin-bottom: 12px; }
h1 { font-size: 1.7rem; margin: .2em 0; }
h2 { font-size: 1.2rem; margin: 0 0 .6em; }
h3 { font-size: 1rem; margin: 1em 0 .4em; color: var(--muted); }
.confidential { display:inline-block; background:#fff3e0; color:#8a4b00; border:1px solid #ffd8a8;
                border-radius: 6px; padding: 2px 10px; font-size: .85rem; font-weight: 600; }
.sub { color: var(--muted); margin: 0; word-break: break-word; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 12px;
          padding: 16px; margin: 12px 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(165px, 1fr)); gap: 12px;
         background: none; border: 0; padding: 0; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 12px;
        padding: 12px 14px; }
.card .label { color: var(--muted); font-size: .8rem; text-transform: uppercase;
               letter-spacing: .04em; }
.card .value { font-size: 1.7rem; font-weight: 700; line-height: 1.2; margin-top: 4px; }
.card .note { color: var(--muted); font-size: .85rem; }
.card .value.long { font-size: 1.15rem; }
.severity { color: #fff; border: 0; }
.severity .label, .severity .note { color: rgba(255,255,255,.88); }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line);
         vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: .8rem; text-transform: uppercase; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.tag { display: inline-block; background: #fce4ec; color: var(--special); border-radius: 4px;
       padding: 0 6px; font-size: .78rem; font-weight: 600; }
.bars { display: grid; grid-template-columns: minmax(7em, 14em) 1fr auto; gap: 5px 10px;
        align-items: center; margin: 4px 0 8px; }
.bars .name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.bars svg { width: 100%; height: 16px; display: block; }
.bars .num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.track { fill: var(--track); }
.fill { fill: var(--bar); }
.fill.special { fill: var(--special); }
.total { color: var(--muted); font-size: .9rem; }
.timeline svg { width: 100%; height: 150px; display: block; background: var(--track);
                border-radius: 6px; }
.timeline .axis { position: relative; height: 1.4em; font-size: .78rem; color: var(--muted); }
.timeline .axis span { position: absolute; white-space: nowrap; padding-left: 2px;
                        border-left: 1px solid var(--line); }
.suppressed { fill: #9aa3b5; }
.formula { font-size: 1.05rem; background: var(--track); border-radius: 8px; padding: 8px 12px; }
.hints li { margin-bottom: .5em; }
details { margin: 4px 0 8px; }
summary { cursor: pointer; color: var(--bar); }
.muted { color: var(--muted); }
code { font-size: .8rem; word-break: break-all; }
@media (max-width: 520px) {
  main { padding: 10px; }
  h1 { font-size: 1.35rem; }
  .card .value { font-size: 1.35rem; }
  .bars { grid-template-columns: minmax(5em, 9em) 1fr auto; }
  /* Three-column tables whose last column is long text: put it under the first two. */
  table.stack thead { display: none; }
  table.stack tr { display: grid; grid-template-columns: 1fr auto;
                   border-bottom: 1px solid var(--line); }
  table.stack td { border: 0; }
  table.stack td:nth-child(3) { grid-column: 1 / -1; padding-top: 0; color: var(--muted); }
}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _card(label: str, value: str, note: str = "", css: str = "", style: str = "") -> str:
    note_html = f'<div class="note">{_e(note)}</div>' if note else ""
    style_attr = f' style="{_e(style)}"' if style else ""
    value_css = "value long" if len(value) > 11 else "value"
    return (f'<div class="card {css}"{style_attr}><div class="label">{_e(label)}</div>'
            f'<div class="{value_css}">{_e(value)}</div>{note_html}</div>')


def _bar_chart(rows: list[tuple[str, int | str, bool]], caption: str) -> str:
    """Horizontal bars: (label, count, highlighted). Suppressed counts get a label, no bar."""
    largest = max((count for _, count, _ in rows if isinstance(count, int)), default=0) or 1
    parts = [f'<div class="bars" role="img" aria-label="{_e(caption)}">']
    for label, count, highlighted in rows:
        width = 100 * count / largest if isinstance(count, int) else 0
        css = "fill special" if highlighted else "fill"
        fill = f'<rect class="{css}" width="{width:.2f}" height="10"/>' if width else ""
        parts.append(
            f'<div class="name" title="{_e(label)}">{_e(label)}</div>'
            f'<svg viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true">'
            f'<rect class="track" width="100" height="10"/>{fill}</svg>'
            f'<div class="num">{_e(_count(count))}</div>')
    parts.append("</div>")
    return "".join(parts)


def _timeline(cells: list[dict[str, Any]]) -> str:
    """Rows per month as vertical SVG bars, with the year axis in HTML so it stays legible."""
    months = _month_range(cells[0]["key"], cells[-1]["key"])
    counts = {cell["key"]: cell["count"] for cell in cells}
    largest = max((c for c in counts.values() if isinstance(c, int)), default=0) or 1
    slot = 1000 / len(months)
    bars = []
    for index, month in enumerate(months):
        count = counts.get(month, 0)
        if isinstance(count, int):
            height = 140 * count / largest
            css = "fill"
        else:  # a suppressed month: a stub that says "some rows", not how many
            height, css = 3, "suppressed"
        if count:
            bars.append(f'<rect class="{css}" x="{index * slot + slot * 0.1:.2f}" '
                        f'y="{150 - height:.2f}" width="{slot * 0.8:.2f}" height="{height:.2f}">'
                        f'<title>{_e(month)}: {_e(_count(count))} rows</title></rect>')
    years = [(index, month[:4]) for index, month in enumerate(months)
             if month.endswith("-01") or index == 0]
    step = max(1, len(years) // 8)  # at most ~8 year labels, so they never overlap on a phone
    axis = "".join(f'<span style="left:{index * 100 / len(months):.2f}%">{_e(year)}</span>'
                   for index, year in years[::step])
    return (f'<div class="timeline"><svg viewBox="0 0 1000 150" preserveAspectRatio="none" '
            f'role="img" aria-label="Rows per month">{"".join(bars)}</svg>'
            f'<div class="axis">{axis}</div></div>')


def _month_range(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:7])
    end = (int(last[:4]), int(last[5:7]))
    months = []
    while (year, month) <= end:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _table(header: list[tuple[str, bool]], rows: list[list[str]], css: str = "") -> str:
    """A table of already-escaped cells; header entries are (title, numeric)."""
    def cell(tag: str, content: str, numeric: bool) -> str:
        return f'<{tag} class="num">{content}</{tag}>' if numeric else f"<{tag}>{content}</{tag}>"

    head = "".join(cell("th", _e(title), numeric) for title, numeric in header)
    body = "".join("<tr>" + "".join(cell("td", content, numeric)
                                    for content, (_, numeric) in zip(row, header, strict=True))
                   + "</tr>" for row in rows)
    return (f'<div class="table-wrap"><table class="{css}"><thead><tr>{head}</tr></thead>'
            f'<tbody>{body}</tbody></table></div>')


#: Regions drawn as bars; a breakdown with more (births cover ~100 départements) lists
#: them all in a table folded under the chart.
CHART_REGIONS = 12


def _region_section(view: str, breakdown: dict[str, Any]) -> str:
    cells = breakdown["cells"]
    rows = [(_region_label(view, c["key"]), c["count"], False) for c in cells]
    html_parts = [f"<h3>{_e(GEOGRAPHY_VIEWS[view])}</h3>",
                  _bar_chart(rows[:CHART_REGIONS], GEOGRAPHY_VIEWS[view])]
    if len(rows) > CHART_REGIONS:
        table = _table([("Region", False), ("People", True)],
                       [[_e(label), _e(_count(count))] for label, count, _ in rows])
        html_parts.append(f"<details><summary>All {len(rows)} regions (the chart shows the "
                          f"{CHART_REGIONS} largest)</summary>{table}</details>")
    html_parts.append(f'<p class="total">Total of the cells: {_e(_count(breakdown["total"]))}</p>')
    return "".join(html_parts)


def render_html(summary: dict[str, Any]) -> str:
    """The summary as one self-contained, responsive HTML page."""
    leak, people, severity = summary["leak"], summary["people"], summary["severity"]
    factors = severity["factors"]
    special = summary["special_categories"]
    rows = summary["rows"]

    cards = [
        _card("People", _count(people["distinct"]), "distinct, not rows"),
        _card("Severity (ENISA)", severity["level"], f"score {severity['score']:g}",
              css="severity", style=f"background:{SEVERITY_COLOURS[severity['level']]}"),
        _card("Special categories", str(len(special)),
              ", ".join(map(_category_label, special)) or "none detected"),
        _card("Rows read", _count(rows["read"]), f"{_count(rows['rejected'])} rejected"),
        _card("Time span", _time_span(summary)),
    ]
    cards += [_card(f"Distinct {key}", _count(value)) for key, value in summary["sources"].items()]

    severity_rows = [
        ["DPC, data processing context", f"{factors['dpc']['score']:g}", _e(factors["dpc"]["why"])],
        ["EI, ease of identification", f"{factors['ei']['score']:g}", _e(factors["ei"]["why"])],
        *[[_e(f"CB, {part['circumstance']}"), f"+{part['score']:g}", _e(part["why"])]
          for part in factors["cb"]["parts"]],
    ]
    hints = "".join(f"<li><strong>{_e(h['rule'])}</strong> ({_e(h['deadline'])}): {_e(h['hint'])} "
                    f'<span class="muted">Applies if {_e(h["applies_if"])}.</span></li>'
                    for h in summary["notification"]["hints"])

    categories = summary["categories"]
    category_chart = _bar_chart([(_category_label(c["id"]), c["people"], c["special_category"])
                                 for c in categories], "People per category")
    category_table = _table(
        [("Category", False), ("People", True), ("Rows", True), ("GDPR class", False),
         ("Columns", True)],
        [[_e(_category_label(c["id"]))
          + (' <span class="tag">special</span>' if c["special_category"] else ""),
          _e(_count(c["people"])), _e(_count(c["rows"])), _e(c["gdpr_class"].replace("_", " ")),
          str(c["columns"])] for c in categories])
    identifiers = ""
    if people["by_identifier_kind"]:
        identifiers = "<h3>People by identifier kind</h3>" + _bar_chart(
            [(_category_label(c["key"]), c["count"], False) for c in people["by_identifier_kind"]],
            "People per identifier kind")

    geography = "".join(_region_section(view, breakdown)
                        for view, breakdown in summary["geography"].items()
                        ) or '<p class="muted">No location data found.</p>'

    by_month = summary["time"]["by_month"]
    busiest = max((c["count"] for c in by_month["cells"] if isinstance(c["count"], int)), default=0)
    timeline = (_timeline(by_month["cells"])
                + f'<p class="total">{_e(_time_span(summary))}; rows with a date: '
                  f'{_e(_count(by_month["total"]))}; busiest month: {_e(_count(busiest))} rows '
                  f'(full height)</p>') if by_month["cells"] else \
        '<p class="muted">No event dates found.</p>'

    files = _table([("File", False), ("Bytes", True), ("SHA-256", False)],
                   [[_e(f["name"]), _e(_count(f["size"])), f"<code>{_e(f['sha256'])}</code>"]
                    for f in leak["files"]], css="stack")
    notes = "".join(f"<li>{_e(note)}</li>" for note in summary["method_notes"])

    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="referrer" content="no-referrer">
<title>Impact summary: {_e(leak['name'])}</title>
<style>{_CSS}</style>
</head>
<body>
<main>
<header>
<span class="confidential">Confidential: describes victims of a data breach. Keep encrypted.</span>
<h1>Impact summary: {_e(leak['name'])}</h1>
<p class="sub">Leak {_e(leak['id'])} · scanned {_e(leak['scanned_at'])} · \
triage {_e(leak['triage_version'])}</p>
</header>
<section class="cards">{''.join(cards)}</section>
<section><h2>Severity (ENISA)</h2>
<p class="formula">{_e(severity['formula'])} = {_formula_figures(severity)} = \
<strong>{severity['score']:g}</strong> ({_e(severity['level'])})</p>
{_table([("Factor", False), ("Score", True), ("Why", False)], severity_rows, css="stack")}
</section>
<section><h2>Who may have to be told</h2>
<p class="muted">{_e(summary['notification']['disclaimer'])}</p>
<ul class="hints">{hints}</ul>
</section>
<section><h2>Data exposed</h2>
<h3>People per category</h3>
{category_chart}
{category_table}
{identifiers}
</section>
<section><h2>Where</h2>{geography}</section>
<section><h2>When</h2>{timeline}</section>
<section><h2>Files</h2>{files}</section>
<section><h2>Method</h2><ul>{notes}</ul></section>
</main>
</body>
</html>
"""
