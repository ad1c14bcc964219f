"""Multiple-choice options as the datasets store them, shared by the prompt builders
(upstream of the model) and the scorers (downstream), so neither imports the other.

- `letters(n)`: the first n option letters, A, B, C, ...
- MMBench layout: one column per letter, absent options stored as 'nan'
  (`is_missing`, `choices_of`).
- MMMU layout: one `options` column holding a Python-literal list (`parse_options`).
"""

from __future__ import annotations

import ast
import math
import string
from collections.abc import Mapping
from typing import Any


def letters(n: int) -> list[str]:
    """The first `n` option letters (at most 26)."""
    return list(string.ascii_uppercase[:n])


def is_missing(value: Any) -> bool:
    """An absent option: None, NaN, '' or the string 'nan' (how lmms-lab/MMBench stores gaps)."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip().lower() in ("", "nan", "none")


def choices_of(row: Mapping, option_letters: str = "ABCDEFGHI") -> dict[str, str]:
    """Option letter -> text for the option columns present in a row (MMBench layout)."""
    return {c: str(row[c]) for c in option_letters if c in row and not is_missing(row[c])}


def parse_options(value: Any) -> list[str]:
    """`options` as the MMMU HF dataset stores it: a Python-literal list in a string."""
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    try:
        parsed = ast.literal_eval(str(value))
    except (ValueError, SyntaxError):
        return []
    return [str(v) for v in parsed] if isinstance(parsed, (list, tuple)) else []
