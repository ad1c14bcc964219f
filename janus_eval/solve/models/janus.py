"""The Janus adapter: transformers' native JanusForConditionalGeneration.

Understanding: the DeepSeek chat format (`<|User|>` / `<|Assistant|>` for the
Pro models, `User` / `Assistant` for Janus-1.3B), the system prompt as a task
setting, left-padded batches and greedy decoding. Generation: the official
text-to-image sampler in `janus_image.py`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from janus_eval.core.errors import UsageError
from janus_eval.core.paths import default_device
from janus_eval.core.requests import Ask, Draw, Prepared
from janus_eval.solve.models.chat import JANUS_ROLES, PRO_ROLES, chat_text, pad_token_id
from janus_eval.solve.models.image_inputs import ImageSettings, pixel_values


@dataclass(frozen=True)
class KnownModel:
    hub_id: str
    roles: tuple[str, str]


KNOWN_MODELS: dict[str, KnownModel] = {
    "Janus-Pro-7B": KnownModel("deepseek-community/Janus-Pro-7B", PRO_ROLES),
    "Janus-Pro-1B": KnownModel("deepseek-community/Janus-Pro-1B", PRO_ROLES),
    "Janus-1.3B": KnownModel("deepseek-community/Janus-1.3B", JANUS_ROLES),
}


def chat_prompt(ask: Ask, image_token: str, roles: tuple[str, str]) -> str:
    """The whole text of an Ask: its images' placeholders in front of its text (so
    `<image_placeholder>\n{question}` for a prompt that starts with a newline), in the
    official template; `ask.roles`, when set, replaces the checkpoint's roles."""
    return chat_text(ask.system_prompt, image_token * len(ask.images) + ask.prompt, ask.roles or roles)


def weights_fingerprint(folder: Path) -> str:
    """A cheap fingerprint of a checkpoint folder: sizes and sampled bytes of its weight files."""
    h = hashlib.sha256()
    for f in sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin")):
        size = f.stat().st_size
        h.update(f"{f.name}:{size}".encode())
        with open(f, "rb") as fh:
            for offset in (0, size // 2, max(size - (1 << 20), 0)):
                fh.seek(offset)
                h.update(fh.read(1 << 20))
    return h.hexdigest()[:16]


def resolve_model_path(spec: str, allow_download: bool = True) -> tuple[Path, str, tuple[str, str]]:
    """`--model` value -> (local folder, display name, chat roles)."""
    from janus_eval.solve.models.tiny import TINY_NAME, tiny_path

    if spec == TINY_NAME:
        return tiny_path(), TINY_NAME, PRO_ROLES
    if spec in KNOWN_MODELS:
        known = KNOWN_MODELS[spec]
        return _hub_snapshot(known.hub_id), spec, known.roles
    local = Path(spec).expanduser()
    if local.is_dir():
        if not (local / "config.json").exists():
            raise UsageError(f"{local} has no config.json: point --model at a Janus checkpoint folder")
        return local, spec, _roles_for(spec)
    if spec.count("/") == 1 and not spec.startswith((".", "/")):
        return _hub_snapshot(spec), spec, _roles_for(spec)
    raise UsageError(
        f"unknown model '{spec}'; give one of {', '.join([TINY_NAME, *KNOWN_MODELS])}, "
        "a hub id (org/name) or a local checkpoint folder"
    )


def _roles_for(spec: str) -> tuple[str, str]:
    return JANUS_ROLES if "janus-1.3b" in spec.lower() else PRO_ROLES


def _hub_snapshot(repo_id: str) -> Path:
    from huggingface_hub import snapshot_download

    from janus_eval.core.hub import go_offline_if_unreachable

    go_offline_if_unreachable()
    patterns = ["*.json", "*.safetensors", "*.txt", "*.model", "*.jinja"]
    try:
        return Path(snapshot_download(repo_id, allow_patterns=patterns))
    except Exception as exc:
        try:
            return Path(snapshot_download(repo_id, allow_patterns=patterns, local_files_only=True))
        except Exception:
            pass
        raise UsageError(
            f"model {repo_id} is not in the local HF cache and could not be downloaded "
            f"({type(exc).__name__}); run `hf download {repo_id}` on a machine with internet, "
            "or pass a local folder to --model"
        ) from exc


def _check_native(folder: Path) -> None:
    config = json.loads((folder / "config.json").read_text())
    if config.get("model_type") != "janus":
        raise UsageError(
            f"{folder} holds a '{config.get('model_type')}' checkpoint, not transformers' native Janus; "
            "convert deepseek-ai/Janus-* checkpoints with transformers' "
            "models/janus/convert_janus_weights_to_hf.py, or use the deepseek-community/* copies"
        )


class JanusPreparer:
    """Text and images as the official `VLChatProcessor` makes them: the template's text
    tokenised with BOS, each image placeholder expanded to `<begin_of_image>`, the
    processor's `num_image_tokens` placeholders and `<end_of_image>`, rows left padded
    with the pad token, and the official image preprocessing (image_inputs.py).

    The processor's own text path is not used: a checkpoint saved by transformers'
    converter sets `use_default_system_prompt`, and JanusProcessor would then prepend
    its default system prompt to a text that already holds the task's system prompt.
    """

    def __init__(self, processor, roles: tuple[str, str]):
        tok = processor.tokenizer
        self.tokenizer = tok
        self.roles = roles
        self.image_token = processor.image_token
        self.image_id = tok.convert_tokens_to_ids(processor.image_token)
        self.begin_id = tok.convert_tokens_to_ids(processor.image_start_token)
        self.end_id = tok.convert_tokens_to_ids(processor.image_end_token)
        self.n_image_tokens = int(processor.num_image_tokens)
        self.pad_id = pad_token_id(processor.tokenizer)
        self.images = ImageSettings.of(processor.image_processor)

    def token_ids(self, text: str) -> list[int]:
        ids: list[int] = []
        for token in self.tokenizer(text)["input_ids"]:
            if token == self.image_id:
                ids += [self.begin_id, *[self.image_id] * self.n_image_tokens, self.end_id]
            else:
                ids.append(token)
        return ids

    def __call__(self, asks: list[Ask]) -> Prepared:
        import torch

        texts = [chat_prompt(a, self.image_token, self.roles) for a in asks]
        rows = [self.token_ids(t) for t in texts]
        width = max(len(r) for r in rows)
        input_ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        attention_mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):  # left padding, as the official batchify
            input_ids[i, width - len(row) :] = torch.tensor(row, dtype=torch.long)
            attention_mask[i, width - len(row) :] = 1
        inputs: dict[str, Any] = {"input_ids": input_ids, "attention_mask": attention_mask}
        images = [img for a in asks for img in a.images]
        if images:
            inputs["pixel_values"] = pixel_values(images, self.images)
        return Prepared(inputs, [a.max_new_tokens for a in asks], texts)


class JanusAdapter:
    def __init__(
        self,
        spec: str,
        device: str | None = None,
        dtype: str | None = None,
        allow_pickle: bool = False,
        compile: bool = False,
    ):
        import torch
        from transformers import JanusForConditionalGeneration, JanusProcessor
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        folder, name, roles = resolve_model_path(spec)
        _check_native(folder)
        # what transformers loads: model.safetensors (or its shard index); another *.safetensors is not it
        has_safetensors = any((folder / n).is_file() for n in ("model.safetensors", "model.safetensors.index.json"))
        if not has_safetensors:
            others = sorted(p.name for p in folder.glob("*.safetensors"))
            named = f" ({', '.join(others)} is not model.safetensors, the file transformers loads)" if others else ""
            if not allow_pickle:
                raise UsageError(
                    f"{folder} has no model.safetensors weights{named}; pickle weights can run code when loaded — "
                    "pass --allow-pickle only if you trust this checkpoint"
                )
            if not any((folder / n).is_file() for n in ("pytorch_model.bin", "pytorch_model.bin.index.json")):
                raise UsageError(f"{folder} has neither model.safetensors nor pytorch_model.bin weights{named}")
        self.device = device or default_device()
        if self.device.startswith("cuda") and not torch.cuda.is_available():
            raise UsageError("--device cuda was asked for but CUDA is not available; use --device cpu")
        dtype = dtype or ("bfloat16" if self.device.startswith("cuda") else "float32")
        if not hasattr(torch, dtype):
            raise UsageError(f"unknown --dtype '{dtype}'; use bfloat16, float16 or float32")
        self.dtype = dtype
        self.name = name
        self.roles = roles
        self.folder: Path | None = folder
        self.processor = JanusProcessor.from_pretrained(folder, trust_remote_code=False)
        self.processor.tokenizer.padding_side = "left"
        model = JanusForConditionalGeneration.from_pretrained(
            folder,
            dtype=getattr(torch, dtype),
            use_safetensors=has_safetensors,
            trust_remote_code=False,
        )
        self.model = model.to(self.device)  # type: ignore[arg-type]  # transformers' stubs take a device string
        self.model.eval()
        self._fingerprint: str | None = None
        self.compile = compile
        self.static_image_loop: bool | None = None  # None: static on CUDA (see draw); benchmarks set it
        from janus_eval.solve.models.tiny import TINY_MAX_NEW_TOKENS, TINY_NAME

        # janus-tiny never stops on its own: its answers are capped (and the manifest says so)
        self.max_new_tokens_cap: int | None = TINY_MAX_NEW_TOKENS if name == TINY_NAME else None

    @classmethod
    def from_model(cls, model, processor, name: str, roles: tuple[str, str] = PRO_ROLES) -> "JanusAdapter":
        """Wrap a model already in memory (benchmarks with random weights, tests)."""
        self = cls.__new__(cls)
        self.model, self.processor, self.name, self.roles = model.eval(), processor, name, roles
        self.processor.tokenizer.padding_side = "left"
        self.device = str(next(model.parameters()).device)
        self.dtype = str(next(model.parameters()).dtype).replace("torch.", "")
        self.folder = None
        self._fingerprint = "in-memory"
        self.compile = False
        self.static_image_loop = None
        self.max_new_tokens_cap = None
        return self

    # --- understanding --------------------------------------------------
    def preparer(self) -> "JanusPreparer":
        """The CPU half of `answer` (tokenising, image preprocessing); picklable, so
        the runner's data workers can run it ahead of the model."""
        return JanusPreparer(self.processor, self.roles)

    def generate(self, prepared: Prepared) -> list[str]:
        """The model half of `answer`: greedy decoding of a prepared batch."""
        import torch
        from transformers import GenerationConfig

        tok = self.processor.tokenizer
        limits = [min(n, self.max_new_tokens_cap or n) for n in prepared.max_new_tokens]
        inputs = {k: v.to(self.device, non_blocking=True) for k, v in prepared.inputs.items()}
        if "pixel_values" in inputs:
            inputs["pixel_values"] = inputs["pixel_values"].to(self.model.dtype)
        config = GenerationConfig(
            max_new_tokens=max(limits),
            do_sample=False,
            num_beams=1,
            bos_token_id=tok.bos_token_id,
            eos_token_id=tok.eos_token_id,
            pad_token_id=pad_token_id(tok),
        )
        if self.compile:
            # A static KV cache: transformers then compiles the per-token step (CUDA graphs on GPU).
            config.cache_implementation = "static"
        with torch.inference_mode():
            out = self.model.generate(**inputs, generation_config=config)
        new_tokens = out[:, inputs["input_ids"].shape[1] :].cpu()
        return [
            tok.decode(row[:limit], skip_special_tokens=True).strip()
            for limit, row in zip(limits, new_tokens)
        ]

    def answer(self, asks: list[Ask]) -> list[str]:
        return self.generate(self.preparer()(asks))

    # --- generation -----------------------------------------------------
    def draw(self, draws: list[Draw], batch_size: int | None = None) -> list[list[Image.Image]]:
        """Text-to-image with the official sampler (models/janus_image.py); batch_size counts images."""
        from janus_eval.solve.models.janus_image import compile_step, draw, is_compiled

        size = batch_size or max(1, sum(d.n_images for d in draws))
        # On CUDA the fixed-shape loop: compilable (--compile), and measured there (H100) at
        # 1.6x the DynamicCache loop in eager mode; the growing cache, which attends to the
        # filled part only, is the CPU's (2x the static loop there) and is not yet measured on
        # a GPU. The same tokens either way in float32 (bfloat16 rounding follows the shapes).
        static = self.static_image_loop
        if static is None:
            static = self.device.startswith("cuda")
        compiled = self.compile and self.device.startswith("cuda")  # the image step compiles on CUDA only
        if compiled and not static:
            raise ValueError("--compile captures the fixed-shape image loop; static_image_loop=False has none")
        if compiled and not is_compiled(self.model):
            compile_step(self.model)
        return draw(self.model, self.processor, draws, size, roles=self.roles, static=static)

    def describe(self) -> dict[str, Any]:
        if self._fingerprint is None and self.folder is not None:
            self._fingerprint = weights_fingerprint(self.folder)
        return {
            "model": self.name,
            "path": str(self.folder),
            "fingerprint": self._fingerprint,
            "dtype": self.dtype,
            "device": self.device,
            "roles": list(self.roles),
            "max_new_tokens_cap": self.max_new_tokens_cap,
        }
