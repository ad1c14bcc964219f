"""The self-contained HTML leaderboard: inline CSS, images as data URIs, no script.

Every piece of text passes through `html_text` (html.escape, quotes included);
the only markup is written here. A Content-Security-Policy forbids scripts and any
load that is not an inline image, as a second fence behind the escaping.
"""

from __future__ import annotations

import base64
from typing import Any

from janus_eval.analyse.markup import html_text as e
from janus_eval.analyse.reporting.document import ReportData, Section
from janus_eval.analyse.reporting.samples import Failure, FailureSet, Gallery
from janus_eval.analyse.reporting.tables import INTERVAL_NOTE, Cell, Table, key_label

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px auto; max-width: 1280px;
       padding: 0 16px; color: #1f2328; background: #fff; }
h1 { font-size: 24px; margin-bottom: 4px; }
h2 { border-bottom: 1px solid #d0d7de; padding-bottom: 4px; margin-top: 36px; }
h3 { font-size: 15px; margin-top: 20px; }
.meta, .note { color: #59636e; } .note::before { content: "⚠ "; }
nav a { margin-right: 12px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; vertical-align: top; text-align: left; }
th { background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.paper td { background: #f6f8fa; color: #59636e; font-style: italic; }
.delta { display: block; font-size: 11px; }
.up { color: #1a7f37; } .down { color: #cf222e; }
.plots { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
.plots img { max-width: 590px; border: 1px solid #d0d7de; }
details { margin: 8px 0; } summary { cursor: pointer; font-weight: 600; }
table.samples { width: 100%; table-layout: fixed; }
table.samples td { word-wrap: break-word; overflow-wrap: anywhere; }
pre { white-space: pre-wrap; margin: 0; font-size: 12px; }
dl { margin: 0; } dt { font-weight: 600; display: inline; } dd { display: inline; margin: 0 0 0 4px; }
dd::after { content: ""; display: block; }
.gallery { display: flex; flex-wrap: wrap; gap: 10px; }
.card { width: 340px; border: 1px solid #d0d7de; border-radius: 6px; padding: 6px; margin: 0; }
.card.fail { border-color: #cf222e; } .card.pass { border-color: #1a7f37; }
.thumbs { display: flex; flex-wrap: wrap; gap: 2px; }
.thumbs img { width: 80px; height: 80px; object-fit: cover; }
.verdict { font-weight: 600; } .verdict.pass { color: #1a7f37; } .verdict.fail { color: #cf222e; }
.missing { font-size: 11px; color: #59636e; }
figcaption p { margin: 4px 0; font-size: 12px; }
"""


def _cell(cell: Cell, tag: str = "td") -> str:
    cls = ' class="num"' if cell.numeric else ""
    inner = e(cell.text)
    if cell.delta is not None:
        tone = "up" if cell.delta >= 0 else "down"
        inner += f'<span class="delta {tone}">{cell.delta:+.2f} vs paper</span>'
    return f"<{tag}{cls}>{inner}</{tag}>"


def table(t: Table) -> str:
    head = "".join(f"<th>{e(h)}</th>" for h in t.header)
    body = []
    for i, row in enumerate(t.rows):
        cls = ' class="paper"' if i in t.paper_rows else ""
        body.append(f"<tr{cls}>" + "".join(_cell(c) for c in row) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _fields(fields: list[tuple[str, Any]]) -> str:
    items = "".join(f"<dt>{e(k)}:</dt><dd>{e(v, 500)}</dd>" for k, v in fields)
    return f"<dl>{items}</dl>"


def _sample_rows(items: list[Failure], with_error: bool) -> str:
    rows = []
    for f in items:
        last = (
            f"<td><pre>{e(f.error, 2000)}</pre></td>"
            if with_error
            else f"<td><pre>{e(f.parsed, 500)}</pre></td>"
        )
        rows.append(
            f"<tr><td><code>{e(f.sample_id, 200)}</code></td><td>{_fields(f.fields)}</td>"
            f"<td><pre>{e(f.prediction, 4000)}</pre></td>{last}</tr>"
        )
    return "".join(rows)


def failure_browser(fs: FailureSet) -> str:
    parts = []
    shown = len(fs.failures)
    summary = (
        f"{e(fs.run)}: {fs.n_failed} wrong of {fs.n_scored} scored"
        + (f" (showing the first {shown})" if shown < fs.n_failed else "")
        + (f" · {fs.n_errors} not asked (errors)" if fs.n_errors else "")
    )
    head = (
        '<table class="samples"><colgroup><col style="width:14%"><col style="width:36%"><col style="width:34%">'
        '<col style="width:16%"></colgroup><thead><tr><th>sample</th><th>sample fields</th><th>prediction</th>'
    )
    parts.append(f"<details><summary>{summary}</summary>")
    if fs.failures:
        parts.append(
            head
            + "<th>parsed</th></tr></thead><tbody>"
            + _sample_rows(fs.failures, False)
            + "</tbody></table>"
        )
    if fs.errors:
        parts.append("<h4>Samples the model was not asked</h4>")
        parts.append(
            head + "<th>error</th></tr></thead><tbody>" + _sample_rows(fs.errors, True) + "</tbody></table>"
        )
    if not fs.failures and not fs.errors:
        parts.append("<p>No wrong answers.</p>")
    parts.append("</details>")
    return "".join(parts)


def gallery_view(g: Gallery) -> str:
    cards = []
    for item in g.items:
        tone = "pass" if item.passed else "fail" if item.passed is False else ""
        thumbs = (
            "".join(
                f'<img src="{_data_uri(t.data, "image/jpeg")}" alt="{e(item.prompt, 200)}">'
                if t.data is not None
                else f'<span class="missing">{e(t.note)}</span>'
                for t in item.thumbs
            )
            or '<span class="missing">no images recorded</span>'
        )
        parsed = f"<div><pre>{e(item.parsed, 600)}</pre></div>" if item.parsed not in (None, "") else ""
        cards.append(
            f'<figure class="card {tone}"><div class="thumbs">{thumbs}</div><figcaption>'
            f'<span class="verdict {tone}">{e(item.verdict)}</span> <code>{e(item.sample_id, 200)}</code>'
            f"<p>{e(item.prompt, 600)}</p>{parsed}</figcaption></figure>"
        )
    summary = f"{e(g.run)}: {g.n_passed} passed, {g.n_failed} not, of {g.n_records} (showing {len(g.items)})"
    return f'<details open><summary>{summary}</summary><div class="gallery">{"".join(cards)}</div></details>'


def section(sec: Section) -> str:
    parts = [f'<section id="task-{sec.index}"><h2>{e(sec.task)}</h2>']
    parts.append(f'<p class="meta">{e(sec.kind)} · headline {e(key_label(sec.headline))}</p>')
    if sec.plots:
        imgs = "".join(f'<img src="{_data_uri(p.png, "image/png")}" alt="{e(p.title)}">' for p in sec.plots)
        parts.append(f'<div class="plots">{imgs}</div>')
    parts.append("<h3>Every metric and subset</h3>" + table(sec.detail))
    if sec.galleries:
        parts.append("<h3>Generated images</h3>" + "".join(gallery_view(g) for g in sec.galleries))
    if sec.failures:
        parts.append("<h3>Wrong answers</h3>" + "".join(failure_browser(f) for f in sec.failures))
    parts.append("</section>")
    return "".join(parts)


def render_html(data: ReportData) -> str:
    nav = "".join(f'<a href="#task-{s.index}">{e(s.task)}</a>' for s in data.sections)
    notes = "".join(f'<p class="note">{e(n)}</p>' for n in data.notes)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>janus-eval leaderboard</title>"
        f"<style>{CSS}</style></head><body>"
        "<h1>janus-eval leaderboard</h1>"
        f'<p class="meta">generated {e(data.generated)} · {len(data.board.runs)} run(s) · '
        "deltas: run − the Janus-Pro report's value for the same model "
        '(<span class="up">green ≥ 0</span>, <span class="down">red &lt; 0</span>)</p>'
        f'<p class="meta">{e(INTERVAL_NOTE)}</p>'
        f"{notes}<nav>{nav}</nav>"
        f'<h2 id="leaderboard">Leaderboard</h2>{table(data.leaderboard)}'
        f'<h2 id="runs">Runs</h2>{table(data.runs)}'
        + "".join(section(s) for s in data.sections)
        + "</body></html>\n"
    )
