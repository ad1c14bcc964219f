"""Outside models a scorer may need: the LLM judge, detectors, VQA models."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from janus_eval.score.judges.llm import DEFAULT_API_KEY_ENV, DEFAULT_BASE_URL, JudgeError, JudgeUnavailable, LLMJudge


@dataclass
class Judges:
    """What the runner hands to scorers; each field is None when not configured."""

    llm: LLMJudge | None = None  # the LLM judge, `.ask(prompt) -> str` (see judges/llm.py)
    vqa: Any = None  # a VQA judge, `.answer(images, questions) -> list[str]` (see judges/vqa.py)
    geneval: Any = None  # GenEval's detector + CLIP colour judge (judges/geneval_detector.py), loaded on first use
    demo: bool = False  # True: random-weight judges of the real architectures (demo scores)
    llm_runs: int | None = None  # --judge-runs: overrides a task's `judge_runs` setting (MM-Vet)

    def describe(self) -> dict[str, Any]:
        """For the manifest: which judges were configured (never a key)."""
        llm = self.llm.describe() if self.llm is not None else None
        if llm is not None and self.llm_runs is not None:
            llm["runs"] = self.llm_runs
        vqa = self.vqa.describe() if self.vqa is not None and hasattr(self.vqa, "describe") else None
        geneval = self.geneval.describe() if self.geneval is not None else None
        return {"llm": llm, "vqa": vqa, "geneval": geneval, "demo": self.demo}


def make_llm_judge(
    model: str | None,
    base_url: str | None = None,
    api_key_env: str | None = None,
    cache_path: Path | None = None,
) -> LLMJudge | None:
    """The LLM judge from the command-line options, or None when no model is named."""
    if not model:
        return None
    return LLMJudge(
        model=model,
        base_url=base_url or DEFAULT_BASE_URL,
        api_key_env=api_key_env or DEFAULT_API_KEY_ENV,
        cache_path=cache_path,
    )


__all__ = ["JudgeError", "JudgeUnavailable", "Judges", "LLMJudge", "make_llm_judge"]
