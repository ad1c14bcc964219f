"""The generation path of `run`: prompts -> Draw requests -> images on disk -> records.

A generation task's `generation` settings: `layout` (how a prompt's images are
written, see LAYOUTS), `images_per_prompt`, `cfg`, `temperature`. Image k of a
sample is drawn from `image_seed(run seed, task, sample id, k)`, so an image does
not depend on the batch size, on the order or on which other samples run.
`--batch-size` counts images: each model call gets at most that many (at least
one prompt's worth).

A layout writer gets the task folder, the sample and its images, writes the files
and returns the record fields pointing at them (paths relative to the task folder).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from PIL import Image
from tqdm import tqdm

from .data import Sample
from .errors import UsageError
from .grid import MAX_TILES, make_grid
from .models.base import Draw
from .models.janus_image import image_seed
from .prompts import build_prompt
from .registry import TaskConfig
from .store import RunStore, safe_name

LayoutWriter = Callable[[Path, Sample, list[Image.Image], TaskConfig], dict[str, Any]]
LAYOUTS: dict[str, LayoutWriter] = {}
GENERATION_DEFAULTS = {"images_per_prompt": 4, "cfg": 5.0, "temperature": 1.0}


def layout(name: str):
    def register(fn: LayoutWriter) -> LayoutWriter:
        LAYOUTS[name] = fn
        return fn

    return register


PNG_LEVEL = 4  # zlib level: the size of PIL's default 6 (within 0.2%) at a third of its time


def save_png(img: Image.Image, path: Path) -> None:
    """Write atomically: a killed run never leaves a half-written image behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".png")
    os.close(fd)
    try:
        img.save(tmp, format="PNG", compress_level=PNG_LEVEL)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@layout("dpg_grid")
def write_dpg_grid(
    task_dir: Path, sample: Sample, images: list[Image.Image], task: TaskConfig
) -> dict[str, Any]:
    """DPG-Bench: `images/<prompt stem>.png`, the images tiled 2x2 without padding."""
    stem = safe_name(str(sample.row.get("item_id", sample.id)), "DPG-Bench item id")
    rel = (Path("images") / f"{stem}.png").as_posix()
    save_png(make_grid(images), task_dir / rel)
    return {"prediction": rel, "images": [rel], "n_images": len(images)}


def _json_value(value: Any) -> Any:
    """A nested column value: packaged and demo data hold lists as JSON text."""
    if isinstance(value, str):
        return json.loads(value) if value.strip() else None
    return value


@layout("geneval")
def write_geneval(
    task_dir: Path, sample: Sample, images: list[Image.Image], task: TaskConfig
) -> dict[str, Any]:
    """GenEval's official layout: `images/<index:05d>/metadata.jsonl` (the prompt's line of
    evaluation_metadata.jsonl) + `samples/<n:04d>.png`, so the official evaluator reads it too."""
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
    (task_dir / folder).mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=task_dir / folder, prefix=".metadata.", suffix=".jsonl")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(meta) + "\n")
    os.replace(tmp, task_dir / folder / "metadata.jsonl")
    rels = []
    for n, img in enumerate(images):
        rel = folder / "samples" / f"{n:04d}.png"
        save_png(img, task_dir / rel)
        rels.append(rel.as_posix())
    return {"prediction": folder.as_posix(), "images": rels, "include": meta["include"], "exclude": exclude or None}


def generation_settings(task: TaskConfig) -> dict[str, Any]:
    settings = {**GENERATION_DEFAULTS, **task.generation}
    n = settings["images_per_prompt"]
    if not isinstance(n, int) or n < 1:
        raise UsageError(f"--images-per-prompt must be a positive integer (got {n})")
    if settings.get("layout") == "dpg_grid" and n > MAX_TILES:
        raise UsageError(
            f"task {task.name} tiles its images 2x2: --images-per-prompt must be 1 to {MAX_TILES}"
        )
    if float(settings["temperature"]) <= 0:
        raise UsageError(f"--temperature must be > 0 (got {settings['temperature']})")
    if settings.get("layout") not in LAYOUTS:
        raise UsageError(
            f"task {task.name}: unknown image layout '{settings.get('layout')}'; known: {', '.join(LAYOUTS)}"
        )
    return settings


def with_generation_overrides(task: TaskConfig, **overrides: Any) -> TaskConfig:
    """The task with command-line generation settings applied (None = keep the task's).
    They are part of the task config, so its hash (and the resume check) sees them."""
    given = {k: v for k, v in overrides.items() if v is not None}
    if task.kind != "generation" or not given:
        return task
    return replace(task, generation={**task.generation, **given})


def draw_samples(task: TaskConfig, samples: list[Sample], adapter, store: RunStore, opts) -> None:
    """Draw the given (pending, this rank's) samples, writing images and records batch by batch."""
    settings = generation_settings(task)
    write = LAYOUTS[settings["layout"]]
    n = int(settings["images_per_prompt"])
    todo = samples
    task_dir = store.task_dir(task.name)
    per_call = max(1, opts.batch_size // n)
    bar = tqdm(total=len(samples), unit="prompt", desc=task.name, disable=not opts.progress, dynamic_ncols=True)
    with bar:
        for start in range(0, len(todo), per_call):
            batch = todo[start : start + per_call]
            draws = [
                Draw(
                    prompt=build_prompt(s.row, task.prompt, task.prompt_builder),
                    n_images=n,
                    seeds=[image_seed(opts.seed, task.name, s.id, k) for k in range(n)],
                    cfg=float(settings["cfg"]),
                    temperature=float(settings["temperature"]),
                    system_prompt=task.system_prompt,
                )
                for s in batch
            ]
            images = adapter.draw(draws, batch_size=opts.batch_size)
            records = []
            for sample, imgs in zip(batch, images):
                rec = {"sample_id": sample.id, **sample.row, "error": None}
                rec.update(write(task_dir, sample, imgs, task))
                records.append(rec)
            store.append_records(task.name, records, shard=getattr(opts, "shard", None))
            bar.update(len(batch))
