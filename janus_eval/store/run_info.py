"""What a run folder says about itself, read through the run store.

`report` and `compare` need the same few facts from a run's manifest: the model,
its weights fingerprint, when it ran, and each task's resolved config and hash.
The manifest is written by the runner; this module reads it and nothing else,
and tolerates the fields a `score` run leaves empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from janus_eval.core.errors import UsageError
from janus_eval.store.run_store import RunStore, open_run


@dataclass(frozen=True)
class TaskInfo:
    name: str
    config: dict[str, Any]
    config_hash: str | None

    @property
    def kind(self) -> str:
        return str(self.config.get("kind") or "understanding")

    @property
    def scorer(self) -> str:
        return str(self.config.get("scorer") or self.name)

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

    @property
    def short_fingerprint(self) -> str:
        return (self.fingerprint or "")[:12]

    @property
    def label(self) -> str:
        return self.run_id


def _date(manifest: dict[str, Any], store: RunStore) -> str:
    stamp = manifest.get("updated") or manifest.get("created")
    if stamp:
        try:
            return datetime.fromisoformat(str(stamp)).strftime("%Y-%m-%d %H:%M")
        except ValueError:
            return str(stamp)
    if store.manifest_path.exists():
        return datetime.fromtimestamp(store.manifest_path.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
    return ""


def run_info(store: RunStore) -> RunInfo:
    manifest = store.read_manifest()
    model = manifest.get("model")
    if isinstance(model, dict):
        name = model.get("model") or model.get("name") or model.get("id") or "unknown"
        fingerprint = model.get("fingerprint")
    else:
        name, fingerprint = (model or "unknown"), manifest.get("fingerprint")
    tasks = {}
    for task, entry in (manifest.get("tasks") or {}).items():
        entry = entry or {}
        config = entry.get("config") or {}
        tasks[task] = TaskInfo(task, config, entry.get("config_hash"))
    for task in store.tasks():  # a samples file the manifest does not list: still shown
        tasks.setdefault(task, TaskInfo(task, {}, None))
    return RunInfo(
        store=store,
        run_id=str(manifest.get("run_id") or store.root.name),
        model=str(name),
        fingerprint=None if fingerprint is None else str(fingerprint),
        date=_date(manifest, store),
        tasks=tasks,
        demo=bool(manifest.get("demo")),
    )


def load_run(path: Path) -> RunInfo:
    """A run folder (or a results folder holding one run) and what its manifest says."""
    store = open_run(Path(path))
    info = run_info(store)
    if not info.tasks:
        raise UsageError(
            f"{store.root} holds no task results; finish the run or score a samples file into it"
        )
    return info
