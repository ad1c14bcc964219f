"""The task registry: one YAML file per task in `tasks/`.

A task file declares where the data comes from, how a sample becomes a request,
and how records are scored. `load_task(name)` returns a frozen `TaskConfig`;
groups (`understanding`, `generation`) expand to their members.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import UsageError
from .protocol import DEFAULT_PROTOCOL, get_protocol

_HERE = Path(__file__).resolve().parent
# A checkout's top-level tasks/ (editable install); a wheel ships them as janus_eval/tasks.
TASKS_DIR = next((d for d in (_HERE.parent / "tasks", _HERE / "tasks") if d.is_dir()), _HERE.parent / "tasks")


@dataclass(frozen=True)
class DataSource:
    path: str  # HF dataset id, e.g. lmms-lab/POPE
    name: str | None = None  # HF config
    split: str = "test"
    revision: str = "main"
    mirrors: tuple[str, ...] = ()  # other ids of the same data (lmms-lab-encoder/...)
    join: dict[str, Any] | None = None  # images from another config, joined on a key (GQA)
    where: dict[str, Any] | None = None  # keep rows whose column equals the value (SEED: data_type image)


@dataclass(frozen=True)
class TaskConfig:
    name: str
    kind: str  # understanding | generation
    dataset: DataSource
    id_columns: tuple[str, ...]
    text_columns: tuple[str, ...]
    image_columns: tuple[str, ...]
    prompt: str
    prompt_builder: str
    system_prompt: str
    max_new_tokens: int
    scorer: str
    headline: str  # "metric/subset" of the table row compared with the paper
    paper_key: str  # column name in results/paper/*.csv
    description: str = ""
    scoring: dict[str, Any] = field(default_factory=dict)
    generation: dict[str, Any] = field(default_factory=dict)
    requires_judge: bool = False
    protocol: str = DEFAULT_PROTOCOL  # whose prompts and chat roles (janus_eval/protocol.py)
    roles: tuple[str, str] | None = None  # the protocol's chat roles; None: the checkpoint's own

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def config_hash(self) -> str:
        settings = {k: v for k, v in self.to_dict().items() if k != "description"}
        blob = json.dumps(settings, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


DEFAULT_SYSTEM_PROMPT = (
    "You are a helpful language and vision assistant. "
    "You are able to understand the visual content that the user provides, "
    "and assist the user with a variety of tasks using natural language."
)
# What a protocol may set for a task (`protocols: {<name>: {...}}` in its YAML).
PROTOCOL_KEYS = ("prompt", "prompt_builder", "system_prompt", "max_new_tokens")


def _task_files() -> dict[str, Path]:
    return {p.stem: p for p in sorted(TASKS_DIR.glob("*.yaml")) if not p.stem.startswith("_")}


def _groups() -> dict[str, list[str]]:
    path = TASKS_DIR / "_groups.yaml"
    return yaml.safe_load(path.read_text()) if path.exists() else {}


def task_names() -> list[str]:
    return list(_task_files())


def load_task(name: str, protocol: str = DEFAULT_PROTOCOL) -> TaskConfig:
    """A task as the protocol asks it: the YAML's fields, then the protocol's own for that task."""
    chosen = get_protocol(protocol)
    files = _task_files()
    if name not in files:
        raise UsageError(
            f"unknown task '{name}'; valid tasks: {', '.join(files)}"
            + (f"; groups: {', '.join(_groups())}" if _groups() else "")
        )
    raw = yaml.safe_load(files[name].read_text())
    overrides = (raw.get("protocols") or {}).get(protocol) or {}
    unknown = sorted(set(overrides) - set(PROTOCOL_KEYS))
    if unknown:
        raise UsageError(f"tasks/{name}.yaml: protocol {protocol} sets {', '.join(unknown)}; it may set only "
                         f"{', '.join(PROTOCOL_KEYS)}")  # fmt: skip
    raw = {**raw, **overrides}
    ds = raw["dataset"]
    system = raw.get("system_prompt", "")
    return TaskConfig(
        name=name,
        kind=raw["kind"],
        dataset=DataSource(
            path=ds["path"],
            name=ds.get("name"),
            split=ds.get("split", "test"),
            revision=str(ds.get("revision", "main")),
            mirrors=tuple(ds.get("mirrors", ())),
            join=ds.get("join"),
            where=ds.get("where"),
        ),
        id_columns=tuple(raw["id_columns"]),
        text_columns=tuple(raw["text_columns"]),
        image_columns=tuple(raw.get("image_columns", ())),
        prompt=raw.get("prompt", "{question}"),
        prompt_builder=raw.get("prompt_builder", "template"),
        system_prompt=DEFAULT_SYSTEM_PROMPT if system == "default" else (system or ""),
        max_new_tokens=int(raw.get("max_new_tokens", 64)),
        scorer=raw.get("scorer", name),
        headline=raw["headline"],
        paper_key=raw.get("paper_key", name),
        description=raw.get("description", ""),
        scoring=raw.get("scoring") or {},
        generation=raw.get("generation") or {},
        requires_judge=bool(raw.get("requires_judge", False)),
        protocol=chosen.name,
        roles=chosen.roles,
    )


def resolve_tasks(spec: str, protocol: str = DEFAULT_PROTOCOL) -> list[TaskConfig]:
    """`pope,mme` or a group name -> task configs, in order, without repeats."""
    groups = _groups()
    names: list[str] = []
    for part in [p.strip() for p in spec.split(",") if p.strip()]:
        for name in groups.get(part, [part]):
            if name not in names:
                names.append(name)
    if not names:
        raise UsageError(f"no task given; valid tasks: {', '.join(task_names())}")
    return [load_task(n, protocol) for n in names]
