"""The self-contained HTML leaderboard: inline CSS, images as data URIs, no script.

The page is the Jinja2 template `templates/leaderboard.html.j2`, rendered with autoescaping
on for every value (model text, prompts, run ids, manifest fields all arrive as data, never
as template source) and StrictUndefined, so a field the template names and the document
lacks fails the report instead of printing a blank. A Content-Security-Policy in the page
forbids scripts and any load that is not an inline image, as a second fence behind the
escaping.
"""

from __future__ import annotations

import base64
from functools import cache
from pathlib import Path

import jinja2

from janus_eval.analyse.markup import as_text
from janus_eval.analyse.reporting.document import ReportData
from janus_eval.analyse.reporting.samples import gallery_counts
from janus_eval.analyse.reporting.tables import INTERVAL_NOTE, key_label

TEMPLATES = Path(__file__).parent / "templates"
PAGE = "leaderboard.html.j2"


def data_uri(data: bytes, mime: str) -> str:
    """Image bytes as a data URI. Plain text, not Markup: base64 holds no character the
    escaping changes, so the template's autoescaping leaves it whole."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


@cache
def environment() -> jinja2.Environment:
    """The one environment the report renders with. `autoescape=True` (not chosen by file
    name): every template it loads escapes every value. It loads only the package's own
    template folder; nothing a run holds is ever compiled as a template."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["text"] = as_text  # returns str, so autoescaping still applies to it
    env.filters["data_uri"] = data_uri
    env.filters["key_label"] = key_label
    env.filters["gallery_counts"] = gallery_counts
    return env


def render_html(data: ReportData) -> str:
    return environment().get_template(PAGE).render(data=data, interval_note=INTERVAL_NOTE)
