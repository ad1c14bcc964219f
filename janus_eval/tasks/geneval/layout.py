"""GenEval's official image layout: `images/<index:05d>/metadata.jsonl` (the prompt's line of
evaluation_metadata.jsonl) + `samples/<n:04d>.png`, so the official evaluator reads it too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PIL import Image

from janus_eval.core.errors import UsageError
from janus_eval.core.files import atomic_write_text
from janus_eval.core.sample import Sample
from janus_eval.core.task import TaskConfig
from janus_eval.store.images import save_png

MAX_IMAGES = None  # any number of images per prompt


def _json_value(value: Any) -> Any:
    """A nested column value: packaged and demo data hold lists as JSON text."""
    if isinstance(value, str):
        return json.loads(value) if value.strip() else None
    return value


def write(task_dir: Path, sample: Sample, images: list[Image.Image], task: TaskConfig) -> dict[str, Any]:
    """Write one prompt's folder; returns the record fields pointing at it (relative to task_dir)."""
    row = sample.row
    try:
        index = int(row["index"])
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"task {task.name}: sample {sample.id} has no integer `index` for its image folder") from exc
    folder = Path("images") / f"{index:05d}"
    meta: dict[str, Any] = {"tag": row["tag"], "include": _json_value(row["include"]) or []}
    exclude = _json_value(row.get("exclude"))
    if exclude:
        meta["exclude"] = exclude
    meta["prompt"] = row["prompt"]
    atomic_write_text(task_dir / folder / "metadata.jsonl", json.dumps(meta) + "\n")
    rels = []
    for n, img in enumerate(images):
        rel = folder / "samples" / f"{n:04d}.png"
        save_png(img, task_dir / rel)
        rels.append(rel.as_posix())
    return {"prediction": folder.as_posix(), "images": rels, "include": meta["include"], "exclude": exclude or None}
