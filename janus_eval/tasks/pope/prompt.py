"""POPE's prompt: the Janus authors' yes/no prompt, POPE's own suffix removed from the question."""

from __future__ import annotations

from typing import Any

from janus_eval.tasks.prompts import template

POPE_SUFFIX = " Please answer yes or no."  # removed from POPE's questions by the authors' wrapper


def build(row: dict[str, Any], prompt: str) -> str:
    """The wrapper's yes/no prompt for POPE: the question without " Please answer yes or no."."""
    return template({**row, "question": str(row["question"]).replace(POPE_SUFFIX, "")}, prompt)
