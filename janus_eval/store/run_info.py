"""What a run folder says about itself, read through the run store.

`report` and `compare` need the same few facts from a run's manifest: the model,
its weights fingerprint, when it ran, and each task's resolved config and hash.
The manifest is written by the runner and read here through `Manifest.from_json`
(core/manifest.py), which tolerates what a `score` run or an older version left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from janus_eval.core.errors import UsageError
from janus_eval.core.manifest import Manifest
from janus_eval.core.task import TASK_DEFAULTS, scorer_of
from janus_eval.store.run_store import RunStore, open_run


@dataclass(frozen=True)
class TaskInfo:
    name: str
    config: dict[str, Any]
    config_hash: str | None

    @property
    def kind(self) -> str:
        return str(self.config.get("kind") or TASK_DEFAULTS["kind"])

    @property
    def scorer(self) -> str:
        return scorer_of(self.name, self.config.get("scorer"))

    @property
    def requires_judge(self) -> bool:
        return bool(self.config.get("requires_judge", TASK_DEFAULTS["requires_judge"]))

    @property
    def scoring(self) -> dict[str, Any]:
        """The settings the task was scored with: its YAML's and the command line's."""
        return dict(self.config.get("scoring") or {})

    @property
    def headline(self) -> tuple[str, str]:
        """The (metric, subset) compared with the paper; ("", "") when the config names none."""
        metric, _, subset = str(self.config.get("headline") or "").partition("/")
        return metric, subset


@dataclass
class RunInfo:
    store: RunStore
    run_id: str
    model: str
    fingerprint: str | None
    date: str  # "YYYY-MM-DD HH:MM" (UTC as the manifest wrote it), or "" when unknown
    tasks: dict[str, TaskInfo] = field(default_factory=dict)
    demo: bool = False  # --demo: shipped sample sets and random-weight judges; never beside the paper
    selection: str = ""  # how the samples were selected (--limit, --offset, --sample-id); "": every sample

    @property
    def partial(self) -> bool:
        """A selection of each task's samples: its numbers are not the whole benchmark's."""
        return bool(self.selection)

    @property
    def short_fingerprint(self) -> str:
        return (self.fingerprint or "")[:12]

    @property
    def label(self) -> str:
        return self.run_id


def _date(manifest: Manifest, store: RunStore) -> str:
    stamp = manifest.updated or manifest.created
    if stamp:
        try:
            return datetime.fromisoformat(str(stamp)).strftime("%Y-%m-%d %H:%M")
        except ValueError:
            return str(stamp)
    if store.manifest_path.exists():
        return datetime.fromtimestamp(store.manifest_path.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
    return ""


def run_info(store: RunStore) -> RunInfo:
    manifest = store.read_manifest() or Manifest(run_id=store.root.name)
    tasks = {name: TaskInfo(name, entry.config, entry.config_hash) for name, entry in manifest.tasks.items()}
    for task in store.tasks():  # a samples file the manifest does not list: still shown
        tasks.setdefault(task, TaskInfo(task, {}, None))
    return RunInfo(
        store=store,
        run_id=manifest.run_id or store.root.name,
        model=manifest.model.name,
        fingerprint=manifest.model.fingerprint,
        date=_date(manifest, store),
        tasks=tasks,
        demo=manifest.demo,
        selection=selection(manifest),
    )


def selection(manifest: Manifest) -> str:
    """The run's sample selection in words ("offset 10, limit 5", "3 sample ids"); "" for a run
    on every sample of its tasks."""
    entries = list(manifest.tasks.values())
    offset = max((e.offset for e in entries if e.offset), default=None)
    limit = max((e.limit for e in entries if e.limit), default=None)
    ids = {i for e in entries if e.sample_ids is not None for i in e.sample_ids}
    asked_ids = any(e.sample_ids is not None for e in entries)
    parts = [f"{len(ids)} sample id{'' if len(ids) == 1 else 's'}"] if asked_ids else []
    parts += [f"offset {offset}"] if offset else []
    parts += [f"limit {limit}"] if limit else []
    return ", ".join(parts)


def load_run(path: Path) -> RunInfo:
    """A run folder (or a results folder holding one run) and what its manifest says."""
    store = open_run(Path(path))
    info = run_info(store)
    if not info.tasks:
        raise UsageError(
            f"{store.root} holds no task results; finish the run or score a samples file into it"
        )
    return info
