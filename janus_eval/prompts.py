"""Turning a dataset row into the user prompt of an Ask.

A task's `prompt` is a `str.format` template over the row's text columns
(`"{question}"`). Tasks whose prompt needs logic (options, hints) name a builder
here instead with `prompt_builder: <name>` in their YAML.
"""

from __future__ import annotations

from typing import Any, Callable

from .errors import UsageError

Builder = Callable[[dict[str, Any], str], str]

BUILDERS: dict[str, Builder] = {}


def builder(name: str):
    def register(fn: Builder) -> Builder:
        BUILDERS[name] = fn
        return fn

    return register


@builder("template")
def template(row: dict[str, Any], template: str) -> str:
    try:
        return template.format(**row)
    except KeyError as exc:
        raise UsageError(f"prompt template needs column {exc} which the data does not have") from exc


def build_prompt(row: dict[str, Any], template_text: str, builder_name: str = "template") -> str:
    if builder_name not in BUILDERS:
        raise UsageError(f"unknown prompt builder '{builder_name}'; known: {', '.join(BUILDERS)}")
    return BUILDERS[builder_name](row, template_text)
