"""Multiple-choice answer extraction, with the exact-matching rules of VLMEvalKit.

VLMEvalKit (`vlmeval/utils/matching_util.py`: `can_infer_option`, `can_infer_text`)
reads a choice from a free-text answer in two steps; we do the same:

1. letter forms: the characters `.()[],:;!*#{}` become spaces and the answer is
   split on white space; if exactly one of the valid option letters is among
   the words, and it sits among the last five words, it is the choice (`B`,
   `B.`, `(B)`, `B:`, `The answer is B`). Failing that, "answer is X" anywhere.
2. option text: the lowercased answer (if not longer than twice the options'
   total length) contains the text of exactly one option.

What neither step reads is unparsed (None) — never a random guess. MMBench may
then ask the LLM judge (see mmbench.py).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

_PUNCT = ".()[],:;!*#{}"
_ANSWER_IS = re.compile(r"(?i)(?:correct\s+)?answer\s+is\s+\**([A-Z])\**")


def is_missing(value) -> bool:
    """An absent option: None, NaN, '' or the string 'nan' (how lmms-lab/MMBench stores gaps)."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip().lower() in ("", "nan", "none")


def option_letter(answer: str, choices: Mapping[str, str]) -> str | None:
    """Step 1: a lone option letter among the last words of the answer."""
    text = answer
    for ch in _PUNCT:
        text = text.replace(ch, " ")
    words = text.split()
    present = [c for c in choices if c in words]
    if len(present) == 1:
        letter = present[0]
        if words.index(letter) > len(words) - 5:
            return letter
    m = _ANSWER_IS.search(answer)
    if m and m.group(1).upper() in choices:
        return m.group(1).upper()
    return None


def option_text(answer: str, choices: Mapping[str, str]) -> str | None:
    """Step 2: the text of exactly one option inside the answer."""
    lowered = answer.lower()
    if len(lowered) > 2 * sum(len(str(v)) for v in choices.values()):
        return None
    hits = [k for k, v in choices.items() if str(v).lower() in lowered]
    return hits[0] if len(hits) == 1 else None


def extract_choice(answer: str, choices: Mapping[str, str]) -> str | None:
    """The chosen letter, or None when the answer names no single option."""
    if not choices:
        return None
    return option_letter(answer, choices) or option_text(answer, choices)


def choices_of(row: Mapping, letters: str = "ABCDEFGHI") -> dict[str, str]:
    """Option letter -> text for the option columns present in a row (MMBench layout)."""
    return {c: str(row[c]) for c in letters if c in row and not is_missing(row[c])}
