"""GenEval's judges: the object detector and the CLIP colour classifier.

- Detector: mmdet 3 Mask2Former Swin-S, COCO instance segmentation (config
  `mask2former_swin-s-p4-w7-224_8xb2-lsj-50e_coco.py` shipped inside mmdet; checkpoint
  `mask2former_swin-s-p4-w7-224_lsj_8x2_50e_coco.pth`, the file the official
  `download_models.sh` fetches). `detect(path)` returns every instance the model
  outputs, labelled with GenEval's `object_names.txt` (COCO order); the rules in
  `scoring/geneval.py` do the thresholding.
- Colour classifier: open_clip ViT-L-14 with OpenAI's weights (QuickGELU, as OpenAI
  trained it), zero-shot: per class the prompts' text embeddings are normalised,
  averaged and normalised again; the image embedding is normalised; argmax of the dot
  product (as `clip_benchmark`'s zero-shot classifier, which the official script uses).

Weights come from local paths (arguments, or the environment variables below), else
from the cache folder, else they are downloaded once into the cache when online (the
detector checked against the sha256 prefix its file name carries, resumed when cut).
Offline without them: a UsageError naming the files and where they go. With `demo=True`
both are random-weight models of the same classes in small configurations, so the
whole path runs offline (the scores mean nothing and are marked as demo scores).

mmcv: mmdet 3.3 needs mmcv < 2.2. With `mmcv-lite` (no compiled ops) the missing
`mmcv._ext` is replaced by a module whose functions raise when called; Mask2Former's
inference needs none of them: multi-scale deformable attention runs its PyTorch
implementation (mmcv's own choice on CPU; here also on CUDA) and point sampling is
plain PyTorch. A full mmcv build is used as is.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import os
import sys
import types
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from janus_eval.core.download import fetch
from janus_eval.core.errors import UsageError
from janus_eval.core.paths import cache_root, default_device

OBJECT_NAMES_PATH = Path(__file__).resolve().parent / "geneval_object_names.txt"

DETECTOR_CONFIG = "mask2former/mask2former_swin-s-p4-w7-224_8xb2-lsj-50e_coco.py"  # inside mmdet's configs
DETECTOR_CHECKPOINT = "mask2former_swin-s-p4-w7-224_lsj_8x2_50e_coco.pth"
DETECTOR_URL = (
    "https://download.openmmlab.com/mmdetection/v3.0/mask2former/"
    "mask2former_swin-s-p4-w7-224_8xb2-lsj-50e_coco/"
    "mask2former_swin-s-p4-w7-224_8xb2-lsj-50e_coco_20220504_001756-c9d0c4f2.pth"
)
# OpenMMLab publishes no full sha256 for its checkpoints: the file name ends in the first 8 hex
# digits of the file's sha256 (mmengine and torch.hub check just that prefix), so that is the pin.
DETECTOR_SHA256 = "c9d0c4f2"
CLIP_ARCH = "ViT-L-14"
CLIP_PRETRAINED = "openai"
CLIP_CHECKPOINTS = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin", "ViT-L-14.pt")

ENV_DIR = "JANUS_EVAL_GENEVAL_DIR"
ENV_DETECTOR_CONFIG = "JANUS_EVAL_GENEVAL_DETECTOR_CONFIG"
ENV_DETECTOR_CHECKPOINT = "JANUS_EVAL_GENEVAL_DETECTOR_CHECKPOINT"
ENV_CLIP_CHECKPOINT = "JANUS_EVAL_GENEVAL_CLIP_CHECKPOINT"
ENV_CACHE = "JANUS_EVAL_CACHE"

INSTALL_HINT = 'the GenEval judges need the geneval extra: pip install -e ".[geneval]"'


@dataclass(frozen=True)
class Detection:
    """One detected instance: GenEval class name, x1,y1,x2,y2 box in pixels, confidence,
    and its mask (H x W bool, the image's size) when the detector segments."""

    label: str
    box: tuple[float, float, float, float]
    score: float
    mask: np.ndarray | None = field(default=None, compare=False, repr=False)


def object_names() -> list[str]:
    return [line.strip() for line in OBJECT_NAMES_PATH.read_text().splitlines() if line.strip()]


# --- weights -------------------------------------------------------------------------------


def default_dir() -> Path:
    """Where the weights are looked for and downloaded to: $JANUS_EVAL_GENEVAL_DIR, else
    the cache's geneval/ (core/paths.py: $JANUS_EVAL_CACHE, $XDG_CACHE_HOME/janus-eval or
    ~/.cache/janus-eval)."""
    if os.environ.get(ENV_DIR):
        return Path(os.environ[ENV_DIR]).expanduser()
    return cache_root() / "geneval"


@dataclass(frozen=True)
class GenEvalWeights:
    """Resolved weight files; `detector_config` None means mmdet's own shipped config."""

    detector_config: Path | None
    detector_checkpoint: Path
    clip_checkpoint: Path


def missing_weights_message(folder: Path) -> str:
    return (
        f"GenEval needs the detector checkpoint {DETECTOR_CHECKPOINT} (from {DETECTOR_URL}) and the "
        f"open_clip {CLIP_ARCH} '{CLIP_PRETRAINED}' checkpoint (one of {', '.join(CLIP_CHECKPOINTS)}; HF repo "
        f"timm/vit_large_patch14_clip_224.openai) in {folder}; put them there (or set {ENV_DIR}, "
        f"{ENV_DETECTOR_CHECKPOINT}, {ENV_CLIP_CHECKPOINT}, or pass --geneval-dir), or run once online "
        f"to download them (or `run --demo` for random-weight judges)"
    )


def offline() -> bool:
    return any(
        os.environ.get(v, "").strip().lower() in ("1", "true", "yes")
        for v in ("HF_HUB_OFFLINE", "JANUS_EVAL_OFFLINE")
    )


def _explicit(path: str | os.PathLike | None, env: str, what: str) -> Path | None:
    value = path if path is not None else os.environ.get(env)
    if not value:
        return None
    p = Path(value).expanduser()
    if not p.is_file():
        raise UsageError(f"GenEval {what} {p} does not exist: fix the path (argument or ${env})")
    return p


def resolve_weights(
    folder: str | os.PathLike | None = None,
    detector_config: str | os.PathLike | None = None,
    detector_checkpoint: str | os.PathLike | None = None,
    clip_checkpoint: str | os.PathLike | None = None,
    *,
    allow_download: bool | None = None,
    detector_url: str = DETECTOR_URL,
    detector_sha256: str = DETECTOR_SHA256,
) -> GenEvalWeights:
    """Explicit paths (arguments or environment) first, then files in `folder` (default
    `default_dir()`, used as they are: a user may have put GenEval's own download there), then
    a one-time download into that folder (the detector through core/download.fetch: its pinned
    hash checked, a cut download resumed; CLIP through open_clip and the HF hub, into
    `folder`/open_clip). `allow_download` None means: unless offline ($HF_HUB_OFFLINE=1,
    which janus-eval also sets when the hub cannot be reached, or $JANUS_EVAL_OFFLINE=1)."""
    if allow_download is None:
        allow_download = not offline()
    where = Path(folder).expanduser() if folder else default_dir()
    config = _explicit(detector_config, ENV_DETECTOR_CONFIG, "detector config")
    det = _explicit(detector_checkpoint, ENV_DETECTOR_CHECKPOINT, "detector checkpoint")
    clip = _explicit(clip_checkpoint, ENV_CLIP_CHECKPOINT, "CLIP checkpoint")
    if det is None and (where / DETECTOR_CHECKPOINT).is_file():
        det = where / DETECTOR_CHECKPOINT
    if clip is None:
        clip = next((where / n for n in CLIP_CHECKPOINTS if (where / n).is_file()), None)
    if (det is None or clip is None) and not allow_download:
        raise UsageError(missing_weights_message(where))
    try:
        if det is None:
            det = fetch(
                detector_url,
                where / DETECTOR_CHECKPOINT,
                detector_sha256,
                what=f"GenEval's detector checkpoint {DETECTOR_CHECKPOINT}",
                hint=f"(or set {ENV_DETECTOR_CHECKPOINT} or pass --geneval-dir)",
            )
        if clip is None:
            clip = _download_clip(where)
    except UsageError:
        raise
    except Exception as exc:  # offline, proxy, hub error
        raise UsageError(
            missing_weights_message(where) + f" (download failed: {str(exc).splitlines()[0]})"
        ) from exc
    return GenEvalWeights(config, det, clip)


def _download_clip(folder: Path) -> Path:
    open_clip = _import("open_clip")
    from open_clip.pretrained import download_pretrained, get_pretrained_cfg

    path = download_pretrained(
        get_pretrained_cfg(CLIP_ARCH, CLIP_PRETRAINED), cache_dir=str(folder / "open_clip")
    )
    if not path:
        raise RuntimeError(
            f"open_clip {open_clip.__version__} has no '{CLIP_PRETRAINED}' weights for {CLIP_ARCH}"
        )
    return Path(path)


# --- imports -------------------------------------------------------------------------------


def _import(name: str):
    try:
        return __import__(name)
    except ImportError as exc:
        raise UsageError(f"{INSTALL_HINT} ({exc})") from exc


def _mmcv_without_ops() -> None:
    """Let mmdet import mmcv.ops when mmcv was installed without compiled ops (mmcv-lite)."""
    try:
        importlib.import_module("mmcv._ext")
        return
    except ImportError:
        pass
    if "mmcv._ext" not in sys.modules:
        shim = types.ModuleType("mmcv._ext")
        shim.__spec__ = importlib.machinery.ModuleSpec("mmcv._ext", None)

        def __getattr__(name: str):
            if name.startswith("__"):
                raise AttributeError(name)

            def unavailable(*args, **kwargs):
                raise RuntimeError(
                    f"mmcv compiled op '{name}' is not available (mmcv-lite); build mmcv with ops"
                )

            return unavailable

        setattr(shim, "__getattr__", __getattr__)  # noqa: B010  # a module-level __getattr__ (PEP 562)
        sys.modules["mmcv._ext"] = shim
    from mmcv.ops import multi_scale_deform_attn

    multi_scale_deform_attn.IS_CUDA_AVAILABLE = (
        False  # the compiled kernel is absent: PyTorch path on CUDA too
    )
    multi_scale_deform_attn.IS_MLU_AVAILABLE = False


def _mmdet():
    _import("mmcv")
    mmdet = _import("mmdet")
    try:
        _mmcv_without_ops()
        from mmdet.apis import inference_detector, init_detector
    except AssertionError as exc:  # mmdet's own mmcv version check
        raise UsageError(f"{INSTALL_HINT}: {exc}") from exc
    return mmdet, init_detector, inference_detector


# --- the detector --------------------------------------------------------------------------


def detector_config(path: str | os.PathLike | None = None, *, demo: bool = False):
    """The mmdet config: the given file, else mmdet's shipped Mask2Former Swin-S COCO
    config; with `demo`, the same architecture shrunk (tiny Swin, few queries, one layer
    per transformer, smaller test resize) so it runs in well under a second on CPU."""
    mmdet, _, _ = _mmdet()
    from mmengine.config import Config

    if path is None:
        path = Path(mmdet.__file__).parent / ".mim" / "configs" / DETECTOR_CONFIG
        if not path.is_file():
            raise UsageError(f"mmdet {mmdet.__version__} does not ship {DETECTOR_CONFIG}; {INSTALL_HINT}")
    cfg = Config.fromfile(str(path))
    if demo:
        _shrink(cfg)
    return cfg


def _shrink(cfg) -> None:
    dims, ffn, heads = 32, 64, 4
    m = cfg.model
    m.backbone.update(embed_dims=dims, depths=[1, 1, 1, 1], num_heads=[1, 2, 4, 8], drop_path_rate=0.0)
    head = m.panoptic_head
    head.update(
        in_channels=[dims, 2 * dims, 4 * dims, 8 * dims], feat_channels=dims, out_channels=dims, num_queries=8
    )
    enc = head.pixel_decoder.encoder
    enc.num_layers = 1
    enc.layer_cfg.self_attn_cfg.update(embed_dims=dims, num_heads=heads)
    enc.layer_cfg.ffn_cfg.update(embed_dims=dims, feedforward_channels=ffn)
    head.pixel_decoder.positional_encoding.num_feats = dims // 2
    head.positional_encoding.num_feats = dims // 2
    dec = head.transformer_decoder
    dec.num_layers = 1
    dec.layer_cfg.self_attn_cfg.update(embed_dims=dims, num_heads=heads)
    dec.layer_cfg.cross_attn_cfg.update(embed_dims=dims, num_heads=heads)
    dec.layer_cfg.ffn_cfg.update(embed_dims=dims, feedforward_channels=ffn)
    for step in cfg.test_dataloader.dataset.pipeline:
        if step.get("type") == "Resize":
            step.scale = (256, 256)
    if "test_pipeline" in cfg:
        for step in cfg.test_pipeline:
            if step.get("type") == "Resize":
                step.scale = (256, 256)


ALLOW_PICKLE_ENV = "JANUS_EVAL_ALLOW_PICKLE"  # "1": the user trusts checkpoints that need full unpickling


def load_detector_weights(model, path: Path) -> None:
    """Load an mmdet checkpoint into `model` (built from its config).

    Tensors only, by default. A checkpoint whose metadata needs full unpickling (which
    can run code) is loaded only when the user says they trust it with
    JANUS_EVAL_ALLOW_PICKLE=1, as `--allow-pickle` does for model weights; or re-saved
    once as a plain state dict. Missing weights are an error; extra keys are ignored.
    """
    import pickle

    import torch

    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if os.environ.get(ALLOW_PICKLE_ENV) != "1":
            raise UsageError(
                f"{path} holds more than tensors, and unpickling it can run code: if you trust it, set "
                f"{ALLOW_PICKLE_ENV}=1, or re-save it once as a plain state dict "
                f"(torch.save(torch.load(p, weights_only=False)['state_dict'], out))"
            ) from exc
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
    except (OSError, RuntimeError, EOFError) as exc:
        raise UsageError(f"cannot read the detector checkpoint {path}: {exc}; download it again") from exc
    state = ckpt.get("state_dict", ckpt) if isinstance(ckpt, dict) else ckpt
    state = {k.removeprefix("module."): v for k, v in state.items()}
    result = model.load_state_dict(state, strict=False)
    if result.missing_keys:
        raise UsageError(
            f"the detector checkpoint {path} does not fit the config: {len(result.missing_keys)} weights missing "
            f"(e.g. {result.missing_keys[0]}); pass the matching --geneval config/checkpoint pair"
        )


class MmdetDetector:
    """mmdet instance segmentation -> `Detection`s with GenEval class names."""

    def __init__(self, config, checkpoint: str | os.PathLike | None, device: str = "cpu", seed: int = 0):
        import torch

        _, init_detector, self._infer = _mmdet()
        with torch.random.fork_rng(devices=[]), warnings.catch_warnings():
            # "checkpoint is None": the weights load just below, tensors only. mmdet resets the
            # filters inside, so silence the display itself (catch_warnings restores it).
            warnings.showwarning = lambda *args, **kwargs: None
            torch.manual_seed(seed)  # random init (demo) is reproducible
            self.model = init_detector(config, None, device="cpu")
        if checkpoint:
            load_detector_weights(self.model, Path(checkpoint))
        self.model.to(device).eval()
        self.classnames = object_names()

    def detect(self, path: str | os.PathLike) -> list[Detection]:
        import torch

        with torch.no_grad(), warnings.catch_warnings():
            # mmdet warns on every call that a randomly initialised model uses COCO's class names
            warnings.simplefilter("ignore", UserWarning)
            result = self._infer(self.model, str(path))
        inst = result.pred_instances
        boxes = inst.bboxes.detach().float().cpu().numpy()
        scores = inst.scores.detach().float().cpu().numpy()
        labels = inst.labels.detach().cpu().numpy()
        masks = inst.masks.detach().cpu().numpy().astype(bool) if "masks" in inst else None
        return [
            Detection(
                self.classnames[int(lab)],
                (float(box[0]), float(box[1]), float(box[2]), float(box[3])),
                float(s),
                None if masks is None else masks[i],
            )
            for i, (box, s, lab) in enumerate(zip(boxes, scores, labels))
        ]


# --- the colour classifier -----------------------------------------------------------------


class ClipZeroShot:
    """open_clip zero-shot classification of PIL images over classes given as prompt lists."""

    def __init__(self, model, preprocess, tokenizer, device: str = "cpu"):
        self.model = model.to(device).eval()
        self.preprocess = preprocess
        self.tokenizer = tokenizer
        self.device = device
        self._weights: dict[tuple[tuple[str, ...], ...], Any] = {}

    def class_weights(self, class_prompts: Sequence[Sequence[str]]):
        import torch
        import torch.nn.functional as F

        key = tuple(tuple(p) for p in class_prompts)
        if key not in self._weights:
            cols = []
            with torch.no_grad():
                for prompts in key:
                    emb = self.model.encode_text(self.tokenizer(list(prompts)).to(self.device))
                    mean = F.normalize(emb, dim=-1).mean(dim=0)
                    cols.append(mean / mean.norm())
            self._weights[key] = torch.stack(cols, dim=1)
        return self._weights[key]

    def logits(self, images: Sequence[Any], class_prompts: Sequence[Sequence[str]]):
        import torch
        import torch.nn.functional as F

        weights = self.class_weights(class_prompts)
        out = []
        with torch.no_grad():
            for start in range(0, len(images), 16):
                batch = torch.stack([self.preprocess(im) for im in images[start : start + 16]]).to(
                    self.device
                )
                feats = F.normalize(self.model.encode_image(batch), dim=-1)
                out.append(100.0 * feats @ weights)
        return torch.cat(out) if out else torch.zeros(0, len(class_prompts))

    def classify(self, images: Sequence[Any], class_prompts: Sequence[Sequence[str]]) -> list[int]:
        return [int(i) for i in self.logits(images, class_prompts).argmax(dim=1).tolist()]


def clip_classifier(
    checkpoint: str | os.PathLike | None, *, demo: bool = False, device: str = "cpu", seed: int = 0
) -> ClipZeroShot:
    """ViT-L-14 with the given OpenAI checkpoint; with `demo`, a random CLIP of the same
    class (VisionTransformer + text Transformer, QuickGELU, 224 px, patch 14, the real
    tokenizer and preprocessing) with 2 narrow layers per tower."""
    open_clip = _import("open_clip")
    import torch

    tokenizer = open_clip.get_tokenizer(CLIP_ARCH)
    if demo:
        from open_clip.model import CLIP, CLIPTextCfg, CLIPVisionCfg
        from open_clip.transform import image_transform

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = CLIP(
                embed_dim=32,
                vision_cfg=CLIPVisionCfg(layers=2, width=64, head_width=32, patch_size=14, image_size=224),
                text_cfg=CLIPTextCfg(context_length=77, vocab_size=49408, width=32, heads=2, layers=2),
                quick_gelu=True,
            )
        preprocess = image_transform(224, is_train=False)
    else:
        model, _, preprocess = open_clip.create_model_and_transforms(
            CLIP_ARCH, pretrained=str(checkpoint), force_quick_gelu=True, device=device
        )
    return ClipZeroShot(model, preprocess, tokenizer, device)


# --- the judge -----------------------------------------------------------------------------


@dataclass
class GenEvalJudge:
    """What the GenEval scorer calls: `detect(path)` and `classify(images, class_prompts)`."""

    detector: MmdetDetector
    colors: ClipZeroShot
    demo: bool = False
    sources: dict[str, str] = field(default_factory=dict)

    def detect(self, path: str | os.PathLike) -> list[Detection]:
        return self.detector.detect(path)

    def classify(self, images: Sequence[Any], class_prompts: Sequence[Sequence[str]]) -> list[int]:
        return self.colors.classify(images, class_prompts)

    def describe(self) -> dict[str, Any]:
        return {
            "detector": "mmdet Mask2Former Swin-S COCO",
            "colors": f"open_clip {CLIP_ARCH} {CLIP_PRETRAINED}",
            "demo": self.demo,
            **self.sources,
        }


# The GenEval task's settings that configure these judges -> load_geneval_judge's arguments.
JUDGE_SETTINGS = {
    "geneval_dir": "folder",
    "detector_config": "detector_config_path",
    "detector_checkpoint": "detector_checkpoint",
    "clip_checkpoint": "clip_checkpoint",
    "device": "device",
}


def judge_kwargs(settings: Mapping[str, Any] | None) -> dict[str, Any]:
    """load_geneval_judge's arguments from a task's settings (those given)."""
    return {arg: (settings or {})[key] for key, arg in JUDGE_SETTINGS.items() if (settings or {}).get(key)}


def check_geneval_judge(
    *,
    demo: bool = False,
    folder: str | os.PathLike | None = None,
    detector_config_path: str | os.PathLike | None = None,
    detector_checkpoint: str | os.PathLike | None = None,
    clip_checkpoint: str | os.PathLike | None = None,
) -> None:
    """Cheap checks before any image is drawn: the geneval extra is installed and (unless
    demo) the weights are at hand, downloaded once into the cache if need be."""
    import importlib.util

    missing = [m for m in ("mmcv", "mmengine", "mmdet", "open_clip") if importlib.util.find_spec(m) is None]
    if missing:
        raise UsageError(f"{INSTALL_HINT} (missing: {', '.join(missing)})")
    if not demo:
        resolve_weights(folder, detector_config_path, detector_checkpoint, clip_checkpoint)


def load_geneval_judge(
    *,
    demo: bool = False,
    folder: str | os.PathLike | None = None,
    detector_config_path: str | os.PathLike | None = None,
    detector_checkpoint: str | os.PathLike | None = None,
    clip_checkpoint: str | os.PathLike | None = None,
    device: str | None = None,
    allow_download: bool | None = None,
) -> GenEvalJudge:
    """The real judges from local or cached weights (downloaded once when online), or
    with `demo` random-weight small models of the same architectures."""
    if device is None:

        device = default_device()
    if demo:
        cfg = detector_config(detector_config_path, demo=True)
        return GenEvalJudge(
            MmdetDetector(cfg, None, device),
            clip_classifier(None, demo=True, device=device),
            demo=True,
            sources={"weights": "random (demo)"},
        )
    _mmdet()
    _import("open_clip")
    weights = resolve_weights(
        folder, detector_config_path, detector_checkpoint, clip_checkpoint, allow_download=allow_download
    )
    cfg = detector_config(weights.detector_config)
    return GenEvalJudge(
        MmdetDetector(cfg, weights.detector_checkpoint, device),
        clip_classifier(weights.clip_checkpoint, device=device),
        demo=False,
        sources={
            "detector_checkpoint": str(weights.detector_checkpoint),
            "clip_checkpoint": str(weights.clip_checkpoint),
        },
    )
