"""Prompt builders for tasks whose prompt is more than `str.format` over the row.

A task names one in its YAML (`prompt_builder: mmbench`); the builder turns the
row's text columns into the prompt text, and `interleave_images` maps MMMU-style
`<image N>` references onto the sample's images. Pure functions: no model, no IO.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Mapping

from .models.base import IMAGE_MARKER
from .scoring.choices import choices_of, is_missing
from .scoring.mmmu import parse_options

MCQ_SUFFIX = "Answer with the option's letter from the given choices directly."
OPEN_SUFFIX = "Answer the question using a single word or phrase."

_IMAGE_REF = re.compile(r"<image\s*(\d+)>")


def options_block(choices: Mapping[str, str]) -> str:
    return "".join(f"{k}. {v}\n" for k, v in choices.items())


def mmbench_prompt(row: Mapping[str, Any]) -> str:
    """VLMEvalKit's Janus MCQ prompt: optional hint, question, lettered options, instruction."""
    hint = row.get("hint")
    head = f"Hint: {hint}\n" if not is_missing(hint) else ""
    return f"{head}{row['question']}\n{options_block(choices_of(row))}\n{MCQ_SUFFIX}"


def mmmu_prompt(row: Mapping[str, Any]) -> str:
    """lmms-eval's MMMU prompt (`mmmu_val`): lettered options for multiple choice, else a short answer."""
    question = str(row["question"])
    if str(row.get("question_type", "multiple-choice")) == "multiple-choice":
        letters = [chr(ord("A") + i) for i in range(26)]
        options = "\n".join(f"{k}. {v}" for k, v in zip(letters, parse_options(row.get("options"))))
        return f"{question}\n{options}\n\n{MCQ_SUFFIX}"
    return f"{question}\n\n{OPEN_SUFFIX}"


BUILDERS: dict[str, Callable[[Mapping[str, Any]], str]] = {"mmbench": mmbench_prompt, "mmmu": mmmu_prompt}


def interleave_images(text: str, n_images: int) -> tuple[str, list[int]]:
    """Replace each `<image N>` (1-based) by the `<image>` marker and list which image goes there.

    Returns the prompt and the 0-based image indices in marker order: an image
    referenced twice is placed twice (as VLMEvalKit's MMMU interleaving does),
    images never referenced go in front, a reference to an image the sample
    does not have stays plain text. Without any reference the text is returned
    as it is with every image in order (the adapter puts them before the text).
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
