"""VQA judges: answer a question about an image (DPG-Bench).

Backends:
- `mplug`: the official judge of DPG-Bench, mPLUG-large
  (`damo/mplug_visual-question-answering_coco_large_en`) through a modelscope
  pipeline, as ELLA's `compute_dpg_bench.py` runs it. Needs `pip install modelscope`
  (and its own dependencies); weights come from the modelscope hub or a local
  folder (`modelscope:PATH`).
- transformers: a local folder (or hub id) of a BLIP VQA model
  (`BlipForQuestionAnswering`, e.g. Salesforce/blip-vqa-capfilt-large) or a ViLT
  VQA model (`ViltForQuestionAnswering`), picked by the config's `model_type`.
- demo: a random-weight BLIP VQA model of a small configuration with a locally
  built tokenizer, so the whole DPG-Bench path runs offline (demo scores).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from PIL import Image

from janus_eval.core.errors import UsageError
from janus_eval.core.paths import default_device

MPLUG_MODEL = "damo/mplug_visual-question-answering_coco_large_en"
DEFAULT_MAX_NEW_TOKENS = 10


class VQAJudge(Protocol):
    name: str

    def answer(self, images: list[Image.Image], questions: list[str]) -> list[str]:
        """One short answer per (image, question) pair."""
        ...

    def describe(self) -> dict[str, Any]: ...


def _torch_device(device: str | None) -> str:
    return device or default_device()


class TransformersVQA:
    """A BLIP or ViLT VQA model through transformers, batched."""

    def __init__(
        self,
        model,
        processor,
        *,
        name: str,
        device: str = "cpu",
        batch_size: int = 32,
        max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
    ):
        self.model = model.to(device).eval()
        self.max_new_tokens = max_new_tokens
        self.processor = processor
        self.name = name
        self.device = device
        self.batch_size = batch_size
        self.kind = model.config.model_type

    @classmethod
    def from_pretrained(
        cls, spec: str, *, device: str | None = None, batch_size: int = 32
    ) -> TransformersVQA:
        from transformers import (
            AutoConfig,
            BlipForQuestionAnswering,
            BlipProcessor,
            ViltForQuestionAnswering,
            ViltProcessor,
        )

        try:
            config = AutoConfig.from_pretrained(spec)
        except Exception as exc:
            raise UsageError(
                f"VQA model '{spec}' could not be loaded ({type(exc).__name__}); pass a local folder of a "
                "BLIP or ViLT VQA model (e.g. a download of Salesforce/blip-vqa-capfilt-large), or --vqa-model mplug"
            ) from exc
        kinds: dict[str, tuple[Any, Any]] = {
            "blip": (BlipForQuestionAnswering, BlipProcessor),
            "vilt": (ViltForQuestionAnswering, ViltProcessor),
        }
        if config.model_type not in kinds:
            raise UsageError(
                f"VQA model '{spec}' is a '{config.model_type}' model; the transformers VQA judge takes "
                f"{' or '.join(kinds)} question-answering checkpoints"
            )
        model_cls, processor_cls = kinds[config.model_type]
        model = model_cls.from_pretrained(spec)
        processor = processor_cls.from_pretrained(spec)
        return cls(model, processor, name=spec, device=_torch_device(device), batch_size=batch_size)

    def answer(self, images: list[Image.Image], questions: list[str]) -> list[str]:
        if len(images) != len(questions):
            raise ValueError(f"{len(images)} images but {len(questions)} questions")
        out: list[str] = []
        for s in range(0, len(images), self.batch_size):
            out += self._answer_batch(images[s : s + self.batch_size], questions[s : s + self.batch_size])
        return out

    def _answer_batch(self, images: list[Image.Image], questions: list[str]) -> list[str]:
        import torch

        rgb = [img.convert("RGB") for img in images]
        inputs = self.processor(
            images=rgb, text=questions, return_tensors="pt", padding=True, truncation=True
        )
        inputs = inputs.to(self.device)
        with torch.inference_mode():
            if self.kind == "vilt":
                logits = self.model(**inputs).logits
                labels = self.model.config.id2label
                return [str(labels[int(i)]).strip() for i in logits.argmax(-1).tolist()]
            ids = self.model.generate(**inputs, max_new_tokens=self.max_new_tokens)
        return [a.strip() for a in self.processor.batch_decode(ids, skip_special_tokens=True)]

    def describe(self) -> dict[str, Any]:
        return {"backend": "transformers", "model": self.name, "architecture": self.kind}


class MPlugVQA:
    """The official DPG-Bench judge: mPLUG-large VQA through a modelscope pipeline."""

    def __init__(self, model: str = MPLUG_MODEL, device: str | None = None):
        try:
            from modelscope.pipelines import pipeline
            from modelscope.utils.constant import Tasks
        except ImportError as exc:
            raise UsageError(
                "the mPLUG VQA judge needs modelscope: `pip install modelscope` (plus its multimodal "
                "dependencies), or pass --vqa-model with a local BLIP/ViLT VQA folder"
            ) from exc
        self.name = f"mplug:{model}"
        self.model = model
        self.device = _torch_device(device)
        try:
            self.pipeline = pipeline(Tasks.visual_question_answering, model=model, device=self.device)
        except Exception as exc:
            raise UsageError(
                f"modelscope could not load {model} "
                f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
                "download it once with internet or pass --vqa-model modelscope:LOCAL_FOLDER"
            ) from exc

    def answer(self, images: list[Image.Image], questions: list[str]) -> list[str]:
        if len(images) != len(questions):
            raise ValueError(f"{len(images)} images but {len(questions)} questions")
        return [
            str(self.pipeline({"image": img, "question": q})["text"]) for img, q in zip(images, questions)
        ]

    def describe(self) -> dict[str, Any]:
        return {"backend": "modelscope", "model": self.model}


_DEMO_WORDS = (
    "[PAD] [UNK] [CLS] [SEP] [MASK] [DEC] yes no is are there a an the of in on with and to at "
    "? . , red blue green white black yellow left right above below near one two three four "
    "photo image picture person people dog cat car tree sky"
).split()
DEMO_IMAGE_SIZE = 32


def demo_vqa_judge(device: str | None = "cpu") -> TransformersVQA:
    """A random-weight BLIP VQA model (small configuration, seed 0): the judge of --demo runs."""
    import torch
    from transformers import (  # type: ignore[attr-defined]  # exported lazily; the stubs miss it
        BertTokenizerFast,
        BlipConfig,
        BlipForQuestionAnswering,
        BlipImageProcessor,
        BlipProcessor,
    )

    vocab = {w: i for i, w in enumerate(dict.fromkeys(_DEMO_WORDS))}
    tokenizer = BertTokenizerFast(vocab=vocab, model_max_length=64)
    tokenizer.add_special_tokens({"bos_token": "[DEC]"})
    image_processor = BlipImageProcessor(size={"height": DEMO_IMAGE_SIZE, "width": DEMO_IMAGE_SIZE})
    processor = BlipProcessor(image_processor=image_processor, tokenizer=tokenizer)
    config = BlipConfig(
        text_config=dict(
            vocab_size=len(vocab),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=1,
            num_attention_heads=2,
            encoder_hidden_size=32,
            max_position_embeddings=64,
            bos_token_id=vocab["[DEC]"],
            sep_token_id=vocab["[SEP]"],
            pad_token_id=vocab["[PAD]"],
            initializer_range=0.5,
        ),
        vision_config=dict(
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=1,
            num_attention_heads=2,
            image_size=DEMO_IMAGE_SIZE,
            patch_size=16,
            initializer_range=0.5,
        ),
        projection_dim=32,
    )
    state = torch.random.get_rng_state()
    torch.manual_seed(0)
    try:
        model = BlipForQuestionAnswering(config)
        # Random weights answer with random words; favour the two answers DPG-Bench asks for
        # and stop after one word, so demo scores vary with the image and the question.
        with torch.no_grad():
            model.text_decoder.cls.predictions.bias[[vocab["yes"], vocab["no"]]] += 30.0
    finally:
        torch.random.set_rng_state(state)
    return TransformersVQA(
        model, processor, name="demo-random-blip-vqa", device=_torch_device(device), max_new_tokens=1
    )


def modelscope_available() -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec("modelscope") is not None
    except (ImportError, ValueError):
        return False


def check_vqa_spec(spec: str | None, *, demo: bool = False) -> None:
    """Fail early, without loading weights, when `load_vqa_judge(spec)` surely cannot work."""
    if demo:
        return
    if not spec:
        load_vqa_judge(None)  # raises the UsageError naming the options
        return
    if spec in ("mplug", "mplug-large") or spec.startswith("modelscope:"):
        if not modelscope_available():
            raise UsageError(
                "the mPLUG VQA judge needs modelscope: `pip install modelscope` (plus its multimodal "
                "dependencies), or pass --vqa-model with a local BLIP/ViLT VQA folder"
            )
        return
    _checked_path(spec)


def _checked_path(spec: str) -> Path:
    """A transformers `--vqa-model`: an existing checkpoint folder, or (kept as given) a hub id."""
    path = Path(spec).expanduser()
    looks_local = spec.startswith((".", "/", "~")) or spec.count("/") != 1
    if looks_local and not path.exists():
        raise UsageError(f"--vqa-model {spec}: no such folder; give a BLIP or ViLT VQA checkpoint folder, or mplug")
    if path.exists() and not (path / "config.json").exists():
        raise UsageError(
            f"{path} has no config.json: point --vqa-model at a BLIP or ViLT VQA checkpoint folder"
        )
    return path


def load_vqa_judge(
    spec: str | None, *, demo: bool = False, device: str | None = None, batch_size: int = 32
) -> VQAJudge:
    """`--vqa-model` value -> a judge. `mplug` (official), `modelscope:ID_OR_FOLDER`, or a
    BLIP/ViLT VQA folder or hub id for transformers. With demo=True: the random-weight judge."""
    if demo:
        return demo_vqa_judge(device="cpu" if device is None else device)
    if not spec:
        raise UsageError(
            "DPG-Bench needs a VQA judge: pass --vqa-model mplug (the official mPLUG-large, needs modelscope) "
            "or a local BLIP/ViLT VQA folder, or run with --demo"
        )
    if spec in ("mplug", "mplug-large"):
        return MPlugVQA(MPLUG_MODEL, device=device)
    if spec.startswith("modelscope:"):
        return MPlugVQA(spec.split(":", 1)[1], device=device)
    path = _checked_path(spec)
    return TransformersVQA.from_pretrained(
        str(path) if path.exists() else spec, device=device, batch_size=batch_size
    )
