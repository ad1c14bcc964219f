"""Display text and markdown escaping for text the project did not write (model outputs,
prompts, manifest fields).

Reports show predictions, prompts, run ids and model names; any of them may hold
markup. `as_text` turns a value into display text (the HTML page's template escapes it:
Jinja2 autoescaping, see reporting/page_html.py); `md_cell` makes it inert inside a
markdown table cell (GitHub-flavoured: HTML is escaped, markdown punctuation and pipes
are backslash-escaped, newlines become `<br>`, which this module writes itself).
"""

from __future__ import annotations

import html
import math
import re
from typing import Any

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")  # inline markup; < > & are HTML-escaped after


def as_text(value: Any, limit: int | None = None) -> str:
    """A value as display text, cut to `limit` characters (with an ellipsis)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        text = ""
    else:
        text = str(value)
    if limit is not None and len(text) > limit:
        text = text[: max(limit - 1, 0)] + "…"
    return text


def md_cell(value: Any, limit: int | None = None) -> str:
    text = as_text(value, limit)
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = html.escape(text, quote=True)
    return "<br>".join(part for part in re.split(r"\r\n|\r|\n", text))
