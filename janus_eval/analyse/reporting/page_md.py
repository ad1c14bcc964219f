"""The markdown leaderboard (GitHub-flavoured); images are files in `leaderboard_files/`.

Text goes through `md_cell` (HTML escaped, markdown punctuation and pipes
backslash-escaped), so a prediction cannot open a tag, a link or a table cell.
The sample views are shorter than the HTML page's; the HTML page has them all.
"""

from __future__ import annotations

from janus_eval.analyse.markup import md_cell as m
from janus_eval.analyse.reporting.document import ReportData, Section
from janus_eval.analyse.reporting.samples import FailureSet, Gallery
from janus_eval.analyse.reporting.tables import INTERVAL_NOTE, Table, key_label

MD_FAILURES = 10  # per run and task


def table(t: Table) -> list[str]:
    lines = ["| " + " | ".join(m(h) for h in t.header) + " |"]
    lines.append(
        "| " + " | ".join("---:" if c.numeric else "---" for c in (t.rows[0] if t.rows else [])) + " |"
    )
    if not t.rows:
        lines[-1] = "| " + " | ".join("---" for _ in t.header) + " |"
    for i, row in enumerate(t.rows):
        cells = []
        for c in row:
            text = m(c.text)
            if i in t.paper_rows and text:
                text = f"_{text}_"
            if c.delta is not None:
                text += f" ({'▲' if c.delta >= 0 else '▼'}{c.delta:+.2f})"
            cells.append(text)
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def failures(fs: FailureSet) -> list[str]:
    shown = fs.failures[:MD_FAILURES]
    lines = [
        f"**{m(fs.run)}**: {fs.n_failed} wrong of {fs.n_scored} scored"
        + (f", {fs.n_errors} not asked (errors)" if fs.n_errors else "")
        + (f"; the first {len(shown)} (all in leaderboard.html):" if shown else "."),
        "",
    ]
    if shown:
        lines += ["| sample | fields | prediction | parsed |", "| --- | --- | --- | --- |"]
        for f in shown:
            fields = "<br>".join(f"{m(k)}: {m(v, 200)}" for k, v in f.fields)
            lines.append(
                f"| {m(f.sample_id, 120)} | {fields} | {m(f.prediction, 300)} | {m(f.parsed, 100)} |"
            )
        lines.append("")
    return lines


def gallery(g: Gallery, thumb_paths: dict[int, str]) -> list[str]:
    lines = [f"**{m(g.run)}**: {g.n_passed} passed, {g.n_failed} not, of {g.n_records}:", ""]
    if g.items:
        lines += ["| images | sample | prompt | verdict |", "| --- | --- | --- | --- |"]
        for item in g.items:
            imgs = " ".join(
                f"![]({thumb_paths[id(t)]})" if id(t) in thumb_paths else m(t.note) for t in item.thumbs
            )
            lines.append(f"| {imgs} | {m(item.sample_id, 120)} | {m(item.prompt, 300)} | {m(item.verdict)} |")
        lines.append("")
    return lines


def section(sec: Section, thumb_paths: dict[int, str]) -> list[str]:
    lines = [f"## {m(sec.task)}", "", f"{m(sec.kind)} · headline {m(key_label(sec.headline))}", ""]
    for plot in sec.plots:
        lines += [f"![{m(plot.title)}]({plot.path})", ""]
    lines += table(sec.detail) + [""]
    if sec.galleries:
        lines += ["### Generated images", ""]
        for g in sec.galleries:
            lines += gallery(g, thumb_paths)
    if sec.failures:
        lines += ["### Wrong answers", ""]
        for fs in sec.failures:
            lines += failures(fs)
    return lines


def render_markdown(data: ReportData) -> str:
    lines = [
        "# janus-eval leaderboard",
        "",
        (
            f"Generated {m(data.generated)} from {len(data.board.runs)} run(s). Deltas (▲/▼) are run − the "
            "Janus-Pro report's value for the same model; the report's own rows are in italics. "
            + INTERVAL_NOTE
        ),
        "",
    ]
    lines += [f"> ⚠ {m(n)}" for n in data.notes]
    lines += ["## Leaderboard", ""] + table(data.leaderboard) + ["", "## Runs", ""] + table(data.runs) + [""]
    for sec in data.sections:
        lines += section(sec, data.thumb_paths)
    return "\n".join(lines) + "\n"
