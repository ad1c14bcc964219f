"""Turning a dataset row into the user text of an Ask.

A task's `prompt` is a `str.format` template over the row's text columns
(`"\\n{question}"`). Tasks whose prompt needs logic (options, hints) name a builder
with `prompt_builder: <name>` in their YAML: one shared here (`multiple_choice`),
or the task's own, `build` in its folder's `prompt.py` (POPE's); a builder adds
fields, then formats the template. The images go in front of this text (the adapter's chat
format), so `<image N>` references in a question stay as they are.
"""

from __future__ import annotations

from typing import Any, Callable

from janus_eval.core.errors import UsageError
from janus_eval.score.options import choices_of, is_missing, letters, parse_options

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


# --- the Janus authors' prompts (VLMEvalKit's Janus wrapper, `build_prompt`) -------------
_format = template  # the builders' parameter `template` shadows the function

MCQ_INSTRUCTION = "Answer with the option's letter from the given choices directly."
NO_OPTIONS_INSTRUCTION = "Answer the question directly. "  # the wrapper's, trailing space and all


def options_of(row: dict[str, Any]) -> dict[str, str]:
    """Option letter -> text, for the options present, from any of the three layouts:
    MMMU's `options` list, SEED-Bench's `choice_a`..`choice_d`, MMBench's letter columns
    (absent ones stored as 'nan'). VLMEvalKit reads all three as letter columns."""
    if "options" in row:
        options = parse_options(row.get("options"))
        return dict(zip(letters(len(options)), options))
    if "choice_a" in row:
        seed = {k.upper(): row.get(f"choice_{k}") for k in "abcd"}
        return {k: str(v) for k, v in seed.items() if not is_missing(v)}
    return choices_of(row)


def options_block(choices: dict[str, str]) -> str:
    """`A. text\nB. text\n` for the options present."""
    return "".join(f"{k}. {v}\n" for k, v in choices.items())


@builder("multiple_choice")
def multiple_choice(row: dict[str, Any], template: str) -> str:
    """The wrapper's multiple-choice prompt: `hint_line` is `\nHint: {hint}\n` or `\n`;
    `answer_block` is the options, a blank line and the letter instruction, or, for a
    question without options (MMMU's open ones), `Answer the question directly. `."""
    hint = row.get("hint")
    choices = options_of(row)
    fields = {
        **row,
        "hint_line": "\n" if is_missing(hint) else f"\nHint: {hint}\n",
        "answer_block": f"{options_block(choices)}\n{MCQ_INSTRUCTION}" if choices else NO_OPTIONS_INSTRUCTION,
    }
    return _format(fields, template)
