"""Outside models a scorer may need: the LLM judge, detectors, VQA models."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from janus_eval.score.judges.llm import (
    DEFAULT_API_KEY_ENV,
    DEFAULT_BASE_URL,
    DEFAULT_CONCURRENCY,
    JudgeError,
    JudgeUnavailable,
    LLMJudge,
)

if TYPE_CHECKING:  # the model judges' modules import torch & co. when used: loaded on first use
    from janus_eval.score.judges.geneval_detector import GenEvalJudge
    from janus_eval.score.judges.vqa import VQAJudge


@dataclass
class Judges:
    """What the runner hands to scorers; each judge is None until given or loaded.

    Scorers ask for the model judges through `vqa_judge(settings)` and
    `geneval_judge(settings)`: the one given, else loaded from the task's settings on
    first use and kept here for the rest of the run (so the manifest says which judged).
    """

    llm: LLMJudge | None = None  # the LLM judge, `.ask(prompt) -> str` (see judges/llm.py)
    vqa: VQAJudge | None = None  # DPG-Bench's VQA judge, `.answer(images, questions) -> list[str]` (judges/vqa.py)
    geneval: GenEvalJudge | None = None  # GenEval's detector + CLIP colour judge (judges/geneval_detector.py)
    demo: bool = False  # True: random-weight judges of the real architectures (demo scores)
    llm_runs: int | None = None  # --judge-runs: overrides a task's `judge_runs` setting (MM-Vet)

    # --- DPG-Bench: the VQA judge (settings `vqa_model`, `vqa_batch_size`; context `device`) ---
    def check_vqa(self, settings: Mapping[str, Any]) -> None:
        """Fail early, loading nothing, when the VQA judge surely cannot be loaded."""
        if self.vqa is None:
            from janus_eval.score.judges.vqa import check_vqa_spec

            check_vqa_spec(settings.get("vqa_model"), demo=self.demo)

    def vqa_judge(self, settings: Mapping[str, Any]) -> VQAJudge:
        if self.vqa is None:
            from janus_eval.score.judges.vqa import load_vqa_judge

            self.vqa = load_vqa_judge(
                settings.get("vqa_model"),
                demo=self.demo,
                device=settings.get("device"),
                batch_size=int(settings.get("vqa_batch_size", 32)),
            )
        return self.vqa

    # --- GenEval: detector + CLIP (settings geneval_dir, detector_*, clip_checkpoint; context device) ---
    def check_geneval(self, settings: Mapping[str, Any]) -> None:
        """The geneval extra is installed and (unless demo) the weights are at hand."""
        if self.geneval is None:
            from janus_eval.score.judges.geneval_detector import check_geneval_judge, judge_kwargs

            kwargs = {k: v for k, v in judge_kwargs(settings).items() if k != "device"}
            check_geneval_judge(demo=self.demo, **kwargs)

    def geneval_judge(self, settings: Mapping[str, Any]) -> GenEvalJudge:
        if self.geneval is None:
            from janus_eval.score.judges.geneval_detector import judge_kwargs, load_geneval_judge

            self.geneval = load_geneval_judge(demo=self.demo, **judge_kwargs(settings))
        return self.geneval

    def describe(self) -> dict[str, Any]:
        """For the manifest: which judges were configured or loaded (never a key)."""
        llm = self.llm.describe() if self.llm is not None else None
        if llm is not None and self.llm_runs is not None:
            llm["runs"] = self.llm_runs
        vqa = self.vqa.describe() if self.vqa is not None else None
        geneval = self.geneval.describe() if self.geneval is not None else None
        return {"llm": llm, "vqa": vqa, "geneval": geneval, "demo": self.demo}


def make_llm_judge(
    model: str | None,
    base_url: str | None = None,
    api_key_env: str | None = None,
    cache_path: Path | None = None,
    timeout: float | None = None,
    concurrency: int | None = None,
) -> LLMJudge | None:
    """The LLM judge from the command-line options, or None when no model is named.
    `concurrency` (--judge-concurrency): requests in flight at once; it changes no score."""
    if not model:
        return None
    judge = LLMJudge(
        model=model,
        base_url=base_url or DEFAULT_BASE_URL,
        api_key_env=api_key_env or DEFAULT_API_KEY_ENV,
        cache_path=cache_path,
        concurrency=DEFAULT_CONCURRENCY if concurrency is None else concurrency,
    )
    if timeout is not None:  # --judge-timeout: per request, and 5x that without a reply stops the judge
        judge.timeout = timeout
    return judge


__all__ = ["JudgeError", "JudgeUnavailable", "Judges", "LLMJudge", "make_llm_judge"]
