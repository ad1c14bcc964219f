"""DPG-Bench's image layout: `images/<prompt stem>.png`, a prompt's images tiled 2x2 without padding."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image

from janus_eval.core.sample import Sample
from janus_eval.core.task import TaskConfig
from janus_eval.store.images import save_png
from janus_eval.store.run_store import safe_name
from janus_eval.tasks.dpgbench.grid import MAX_TILES, make_grid

MAX_IMAGES = MAX_TILES  # the grid holds at most four tiles


def write(task_dir: Path, sample: Sample, images: list[Image.Image], task: TaskConfig) -> dict[str, Any]:
    """Write one prompt's grid; returns the record fields pointing at it (relative to task_dir)."""
    stem = safe_name(str(sample.row.get("item_id", sample.id)), "DPG-Bench item id")
    rel = (Path("images") / f"{stem}.png").as_posix()
    save_png(make_grid(images), task_dir / rel)
    return {"prediction": rel, "images": [rel], "n_images": len(images)}
