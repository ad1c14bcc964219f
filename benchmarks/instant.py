"""A model and judges that answer at once, through the interfaces the real ones implement,
so a run measures the harness alone: data, preprocessing, records, scoring, the run folder.

- `InstantAdapter`: the real Janus preprocessing (processor at 384 px) in the data
  workers, then a plausible answer read off the prompt (an option letter present in it,
  yes/no for a yes/no question, a short word otherwise), chosen by a hash of the prompt
  and the adapter's seed (runs with other seeds answer differently); `draw` returns
  384x384 noise images with a natural image's 1/f spectrum (a PNG weighs ~130 KB, like a
  photo's), one per seed.
- `instant_judges()`: an `LLMJudge` whose request answers at once (cache and retries are
  the real ones), a VQA judge, and a GenEval detector + colour classifier.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from PIL import Image

from janus_eval.core.requests import Ask, Draw, Prepared
from janus_eval.score.judges import Judges, LLMJudge
from janus_eval.score.judges.geneval_detector import Detection, object_names

WORDS = ["yes", "no", "left", "right", "table", "man", "white", "black", "car", "dog", "wood", "red", "2"]
YES_NO = re.compile(r"^\s*(is|are|does|do|can|could|was|were|has|have)\b", re.I)
OPTION = re.compile(r"^([A-I])\. ", re.M)


def pick(key: str, n: int) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=4).digest(), "little") % n


def plausible_answer(prompt: str, seed: int = 0) -> str:
    key = f"{seed}\0{prompt}"
    letters = OPTION.findall(prompt)
    if letters:
        return letters[pick(key, len(letters))] + ("." if pick(key + "p", 2) else "")
    question = prompt.split("\n", 1)[0]
    if YES_NO.match(question):
        return ("Yes", "No")[pick(key, 2)]
    return WORDS[pick(key, len(WORDS))]


def noise_image(seed: int, size: int = 384) -> Image.Image:
    """Colour noise with a 1/f amplitude spectrum (the statistics of natural images)."""
    rng = np.random.default_rng(seed)
    f = np.sqrt(np.fft.fftfreq(size)[:, None] ** 2 + np.fft.fftfreq(size)[None, :] ** 2)
    amp = 1.0 / np.maximum(f, 1.0 / size) ** 2
    chans = []
    for _ in range(3):
        x = np.fft.ifft2(amp * np.exp(2j * np.pi * rng.random((size, size)))).real
        chans.append((x - x.mean()) / (x.std() + 1e-9) * 45 + 128)
    return Image.fromarray(np.clip(np.stack(chans, -1), 0, 255).astype(np.uint8))


def processor_384():
    from transformers import JanusImageProcessor, JanusProcessor

    from janus_eval.solve.models.tiny import tiny_path

    tiny = JanusProcessor.from_pretrained(tiny_path())
    images = JanusImageProcessor(size={"height": 384, "width": 384}, image_mean=[0.5] * 3, image_std=[0.5] * 3)
    return JanusProcessor(image_processor=images, tokenizer=tiny.tokenizer, num_image_tokens=576)


class _Preparer:
    """Janus' real preprocessing, keeping each ask's prompt for the answer."""

    def __init__(self, inner):
        self.inner = inner

    def __call__(self, asks: list[Ask]) -> Prepared:
        prepared = self.inner(asks)  # the model's inputs and each record's whole prompt, as the real adapter's
        return Prepared((prepared.inputs, [a.prompt for a in asks]), prepared.max_new_tokens, prepared.prompts)


class InstantAdapter:
    """The loader hook of `runner.run`: `InstantAdapter(model, device=..., ...)`."""

    name = "instant"
    POOL = 32  # distinct noise images, reused by seed (drawing is not what is measured)

    def __init__(self, model: str = "instant", *, seed: int = 0, **_: Any):
        from janus_eval.solve.models.chat import PRO_ROLES
        from janus_eval.solve.models.janus import JanusPreparer

        self.model, self.seed = model, seed
        self._preparer = _Preparer(JanusPreparer(processor_384(), PRO_ROLES))
        self._images: dict[int, Image.Image] = {}

    def preparer(self):
        return self._preparer

    def generate(self, prepared: Prepared) -> list[str]:
        _, prompts = prepared.inputs
        return [plausible_answer(p, self.seed) for p in prompts]

    def answer(self, asks: list[Ask]) -> list[str]:
        return self.generate(self._preparer(asks))

    def draw(self, draws: list[Draw], batch_size: int | None = None) -> list[list[Image.Image]]:
        out = []
        for d in draws:
            seeds = d.seeds or list(range(d.n_images))
            out.append([self._image((s + self.seed) % self.POOL) for s in seeds[: d.n_images]])
        return out

    def _image(self, k: int) -> Image.Image:
        if k not in self._images:
            self._images[k] = noise_image(k)
        return self._images[k]

    def describe(self) -> dict[str, Any]:
        return {"model": self.model, "fingerprint": f"instant-seed{self.seed}", "dtype": None, "device": "cpu"}


def instant_loader(seed: int):
    def load(model: str, **kwargs: Any) -> InstantAdapter:
        return InstantAdapter(model, seed=seed)

    return load


# --- judges ---------------------------------------------------------------------------
class InstantLLMJudge(LLMJudge):
    """The real LLM judge (cache, retry bookkeeping, `ask`) whose HTTP request answers at
    once: a grade for MM-Vet's grading prompt, an option letter for MMBench's matching."""

    def _request(self, prompt: str, *, temperature: float, max_tokens: int | None) -> str:
        letters = re.findall(r"^([A-D])\. ", prompt, re.M)
        if letters and "Compare the ground truth" not in prompt:
            return letters[pick(prompt, len(letters))]
        return ("0.0", "0.5", "1.0")[pick(prompt, 3)]


@dataclass
class InstantVQA:
    """DPG-Bench's VQA judge interface: `answer(images, questions)`."""

    name: str = "instant"

    def answer(self, images: list[Image.Image], questions: list[str]) -> list[str]:
        return [("yes", "no")[pick(f"{q}\0{img.size}", 3) == 0] for img, q in zip(images, questions)]

    def describe(self) -> dict[str, Any]:
        return {"model": "instant"}


@dataclass
class InstantGenEval:
    """GenEval's judge interface: `detect(path)` -> Detections, `classify(crops, prompts)`."""

    demo: bool = False

    def detect(self, path) -> list[Detection]:
        names = object_names()
        key = Path(path).as_posix()
        out = []
        for k in range(1 + pick(key, 3)):
            x, y = 20 + 60 * k, 40 + pick(f"{key}{k}", 200)
            out.append(Detection(names[pick(f"{key}#{k}", len(names))], (x, y, x + 90.0, y + 90.0), 0.95))
        return out

    def classify(self, images: Sequence[Any], class_prompts: Sequence[Sequence[str]]) -> list[int]:
        return [pick(f"{img.size}{i}", len(class_prompts)) for i, img in enumerate(images)]

    def describe(self) -> dict[str, Any]:
        return {"detector": "instant", "colors": "instant", "demo": False}


def instant_judges(cache_dir: Path) -> Judges:
    return Judges(
        llm=InstantLLMJudge(
            model="instant-judge", base_url="http://127.0.0.1:9", cache_path=Path(cache_dir) / "llm.jsonl"
        ),
        vqa=InstantVQA(),
        geneval=InstantGenEval(),
    )
