"""Small data builders shared by the tests."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image


def png_bytes(img: Image.Image, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


def write_pope_copy(folder: Path, n: int, images: list[bytes] | None = None) -> Path:
    """A local POPE copy (parquet, HF schema) of n rows in `folder/pope/`."""
    from datasets import Dataset, Features, Value
    from datasets import Image as ImageFeature

    from janus_eval.data.build_demo import shapes

    rows = []
    splits = ["adversarial", "popular", "random"]
    objects = ["circle", "square", "triangle", "star"]
    for i in range(n):
        img = images[i % len(images)] if images else png_bytes(
            shapes([("circle", "red"), ("square", "blue")][: 1 + i % 2], size=(64 + 8 * (i % 5), 48 + 4 * (i % 3)))
        )
        rows.append({
            "id": str(i), "question_id": str(i // 3 + 1), "question": f"Is there a {objects[i % 4]} in the image?",
            "answer": "yes" if i % 2 == 0 else "no", "image_source": f"img{i}",
            "image": {"bytes": img, "path": None}, "category": splits[i % 3],
        })  # fmt: skip
    features = Features({k: ImageFeature() if k == "image" else Value("string") for k in rows[0]})
    out = folder / "pope"
    out.mkdir(parents=True, exist_ok=True)
    Dataset.from_list(rows, features=features).to_parquet(str(out / "test-00000-of-00001.parquet"))
    return folder


def needs_geneval_extra() -> None:
    """Skip a test when the geneval extra (mmdet, open_clip) is not installed."""
    import pytest

    pytest.importorskip("mmdet", reason='the geneval extra is not installed (pip install -e ".[geneval]")')
    pytest.importorskip(
        "open_clip", reason='the geneval extra is not installed (pip install -e ".[geneval]")'
    )
