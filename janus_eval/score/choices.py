"""Multiple-choice answer extraction, with the exact-matching rules of VLMEvalKit.

VLMEvalKit (`vlmeval/utils/matching_util.py`: `can_infer_option`, `can_infer_text`)
reads a choice from a free-text answer in two steps; we do the same:

1. letter forms: the characters `.()[],:;!*#{}` become spaces and the answer is
   split on white space; if exactly one of the valid option letters is among
   the words, and it sits among the last five words, it is the choice (`B`,
   `B.`, `(B)`, `B:`, `The answer is B`).
2. option text: the lowercased answer (if not longer than twice the options'
   total length) contains the text of exactly one option.

Our one addition, tried only after both: "answer is X" anywhere in a longer
answer ("The correct answer is **B** because ..."), X an upper-case option letter
standing alone — so "The answer is a dog" or "the answer is based on" read nothing.

What none of these reads is unparsed (None) — never a random guess. MMBench may
then ask the LLM judge (see mmbench.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from janus_eval.score.options import choices_of, is_missing

__all__ = ["answer_is", "choices_of", "extract_choice", "is_missing", "option_letter", "option_text"]

_PUNCT = ".()[],:;!*#{}"
# "answer is" in any case; the letter itself upper case and standing alone (not "a dog", "Apple")
_ANSWER_IS = re.compile(r"(?i:answer\s+is)\s*:?\s*[*(\[]*([A-Z])(?![A-Za-z0-9'])")


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
    return None


def answer_is(answer: str, choices: Mapping[str, str]) -> str | None:
    """Step 3: "answer is X" with X an upper-case option letter standing alone."""
    m = _ANSWER_IS.search(answer)
    return m.group(1) if m and m.group(1) in choices else None


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
    return option_letter(answer, choices) or option_text(answer, choices) or answer_is(answer, choices)
