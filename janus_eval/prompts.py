"""Turning a dataset row into the user prompt of an Ask.

A task's `prompt` is a `str.format` template over the row's text columns
(`"{question}"`). Tasks whose prompt needs logic (options, hints) name a builder
here instead with `prompt_builder: <name>` in their YAML.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from .errors import UsageError
from .models.base import IMAGE_MARKER
from .options import choices_of, is_missing, letters, parse_options

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


# --- builders that add derived fields, then format the task's template --------
_format = template  # the builders' parameter `template` shadows the function

MCQ_INSTRUCTION = "Answer with the option's letter from the given choices directly."
OPEN_INSTRUCTION = "Answer the question using a single word or phrase."


def options_block(choices: dict[str, str]) -> str:
    """`A. text\\nB. text\\n` for the options present."""
    return "".join(f"{k}. {v}\n" for k, v in choices.items())


@builder("mmbench")
def mmbench(row: dict[str, Any], template: str) -> str:
    """VLMEvalKit's MCQ prompt (its Janus wrapper): `hint_line` is `Hint: ...\\n` or empty,
    `options_block` lists the options present (MMBench stores absent ones as 'nan')."""
    hint = row.get("hint")
    fields = {
        **row,
        "hint_line": "" if is_missing(hint) else f"Hint: {hint}\n",
        "options_block": options_block(choices_of(row)),
    }
    return _format(fields, template)


@builder("mmmu")
def mmmu(row: dict[str, Any], template: str) -> str:
    """lmms-eval's `mmmu_val` prompt: lettered options and the letter instruction for
    multiple choice, the short-answer instruction for open questions. `<image N>`
    references stay in the text; `interleave_images` maps them onto the images."""
    multiple_choice = str(row.get("question_type", "multiple-choice")) == "multiple-choice"
    options = parse_options(row.get("options")) if multiple_choice else []
    fields = {
        **row,
        "options_block": options_block(dict(zip(letters(len(options)), options))),
        "instruction": MCQ_INSTRUCTION if multiple_choice else OPEN_INSTRUCTION,
    }
    return _format(fields, template)


_IMAGE_REF = re.compile(r"<image\s*(\d+)>")


def interleave_images(text: str, n_images: int) -> tuple[str, list[int]]:
    """Replace each `<image N>` (1-based) by the `<image>` marker and list which image goes there.

    Returns the prompt and the 0-based image indices in marker order: an image
    referenced twice is placed twice (as VLMEvalKit's MMMU interleaving does),
    images never referenced go in front, a reference to an image the sample does
    not have stays plain text. Without any reference the text is returned as it
    is with every image in order (the adapter puts them before the text).
    """
    order: list[int] = []

    def swap(m: re.Match) -> str:
        k = int(m.group(1)) - 1
        if 0 <= k < n_images:
            order.append(k)
            return IMAGE_MARKER
        return m.group(0)

    out = _IMAGE_REF.sub(swap, text)
    if not order:
        return text, list(range(n_images))
    unused = [k for k in range(n_images) if k not in order]
    if unused:
        out = IMAGE_MARKER * len(unused) + "\n" + out
    return out, unused + order
