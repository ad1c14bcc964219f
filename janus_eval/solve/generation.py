"""The generation path of `run`: prompts -> Draw requests -> images on disk -> records.

A generation task's `generation` settings: `images_per_prompt`, `cfg`,
`temperature`; its folder's `layout.py` writes a prompt's images in the
benchmark's own layout. Image k of a
sample is drawn from `image_seed(run seed, task, sample id, k)`, so an image does
not depend on the batch size, on the order or on which other samples run.
`--batch-size` counts images: each model call gets at most that many (at least
one prompt's worth).

A layout's `write` gets the run's task folder, the sample and its images, writes the
files and returns the record fields pointing at them (paths relative to that folder).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from janus_eval.core.errors import UsageError
from janus_eval.core.progress import progress
from janus_eval.core.record import Record
from janus_eval.core.requests import Draw
from janus_eval.core.sample import Sample
from janus_eval.core.seeds import image_seed
from janus_eval.core.spec import RunSpec
from janus_eval.core.task import TaskConfig
from janus_eval.store.run_store import RunStore
from janus_eval.tasks.registry import build_prompt, get_layout

GENERATION_DEFAULTS = {"images_per_prompt": 4, "cfg": 5.0, "temperature": 1.0}


def generation_settings(task: TaskConfig) -> dict[str, Any]:
    settings = {**GENERATION_DEFAULTS, **task.generation}
    n = settings["images_per_prompt"]
    if not isinstance(n, int) or n < 1:
        raise UsageError(f"--images-per-prompt must be a positive integer (got {n})")
    most = get_layout(task).MAX_IMAGES
    if most is not None and n > most:
        raise UsageError(f"task {task.name} tiles its images 2x2: --images-per-prompt must be 1 to {most}")
    if float(settings["temperature"]) <= 0:
        raise UsageError(f"--temperature must be > 0 (got {settings['temperature']})")
    return settings


def with_generation_overrides(task: TaskConfig, **overrides: Any) -> TaskConfig:
    """The task with command-line generation settings applied (None = keep the task's).
    They are part of the task config, so its hash (and the resume check) sees them."""
    given = {k: v for k, v in overrides.items() if v is not None}
    if task.kind != "generation" or not given:
        return task
    return replace(task, generation={**task.generation, **given})


def draw_samples(task: TaskConfig, samples: list[Sample], adapter, store: RunStore, opts: RunSpec) -> None:
    """Draw the given (pending, this rank's) samples, writing images and records batch by batch."""
    settings = generation_settings(task)
    write = get_layout(task).write
    n = int(settings["images_per_prompt"])
    todo = samples
    task_dir = store.task_dir(task.name)
    per_call = max(1, opts.batch_size // n)
    bar = progress(len(samples), task.name, "prompt", enabled=opts.progress)
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
                rec = Record.new(sample.id, sample.row, error=None)
                rec.update(write(task_dir, sample, imgs, task))
                records.append(rec)
            store.append_records(task.name, records, shard=opts.shard)
            bar.update(len(batch))
