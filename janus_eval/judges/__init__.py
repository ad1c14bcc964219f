"""Outside models a scorer may need: the LLM judge, detectors, VQA models."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Judges:
    """What the runner hands to scorers; each field is None when not configured."""

    llm: Any = None  # an LLM judge with `.ask(prompt) -> str` (see judges/llm.py)
    vqa: Any = None  # a VQA judge with `.answer(images, questions) -> list[str]` (see judges/vqa.py)
    demo: bool = False  # True: random-weight judges of the real architectures (demo scores)
