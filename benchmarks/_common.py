"""Shared bits of the benchmark scripts (not a test suite: they print JSON figures)."""

from __future__ import annotations

import io
import json
import platform
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw


def machine() -> dict:
    import torch

    info = {"cpu": platform.processor() or platform.machine(), "torch": torch.__version__,
            "threads": torch.get_num_threads()}  # fmt: skip
    if torch.cuda.is_available():
        info["device"] = torch.cuda.get_device_name(0)
    return info


def jpeg_640x480(i: int) -> bytes:
    """A photo-sized JPEG with some structure (a few shapes on a gradient)."""
    rng = np.random.default_rng(i)
    grad = np.linspace(0, 255, 640, dtype=np.float32)[None, :, None] * rng.uniform(0.3, 1.0, 3)
    img = Image.fromarray(np.broadcast_to(grad, (480, 640, 3)).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for _ in range(6):
        x, y = rng.integers(0, 560), rng.integers(0, 400)
        draw.ellipse((x, y, x + rng.integers(20, 80), y + rng.integers(20, 80)), fill=tuple(rng.integers(0, 255, 3)))
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def pope_like(folder: Path, n: int, image_bytes) -> Path:
    """A local POPE copy of n rows (HF schema, parquet) in folder/pope/."""
    from datasets import Dataset, Features, Value
    from datasets import Image as ImageFeature

    rows = [
        {"id": str(i), "question_id": str(i // 3 + 1), "question": "Is there a dog in the image?",
         "answer": "yes" if i % 2 else "no", "image_source": f"img{i}",
         "image": {"bytes": image_bytes(i), "path": None}, "category": ("adversarial", "popular", "random")[i % 3]}
        for i in range(n)
    ]  # fmt: skip
    features = Features({k: ImageFeature() if k == "image" else Value("string") for k in rows[0]})
    (folder / "pope").mkdir(parents=True, exist_ok=True)
    Dataset.from_list(rows, features=features).to_parquet(str(folder / "pope" / "test.parquet"))
    return folder


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


def emit(name: str, figures: dict) -> None:
    print(json.dumps({"benchmark": name, **figures, "machine": machine()}, indent=1))
