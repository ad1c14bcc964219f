"""A task's resolved configuration: the contract between the registry and every stage.

`TaskConfig` is what `tasks/<name>/task.yaml` says once the protocol is applied
(janus_eval/tasks/registry.py builds it); the config hash covers every setting
that can change a score, so runs of different configs are never resumed into
one another or compared.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from janus_eval.core.protocol import DEFAULT_PROTOCOL

# What a task file may leave out and the value it then has: the registry fills a TaskConfig
# from these, and a run's reader (store/run_info.py) reads an older manifest's config by them.
TASK_DEFAULTS: dict[str, Any] = {
    "kind": "understanding",
    "prompt": "{question}",
    "prompt_builder": "template",
    "system_prompt": "",
    "max_new_tokens": 64,
    "description": "",
    "requires_judge": False,
}


def scorer_of(name: str, scorer: str | None) -> str:
    """A task's scorer: the one it names, else its own (tasks/<name>/scorer.py)."""
    return scorer or name


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
    description: str = ""
    scoring: dict[str, Any] = field(default_factory=dict)
    generation: dict[str, Any] = field(default_factory=dict)
    requires_judge: bool = False
    protocol: str = DEFAULT_PROTOCOL  # whose prompts and chat roles (core/protocol.py)
    roles: tuple[str, str] | None = None  # the protocol's chat roles; None: the checkpoint's own

    # the task's folder (its data files); not a setting: left out of to_dict and the hash
    folder: Path | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("folder")
        return out

    def config_hash(self) -> str:
        settings = {k: v for k, v in self.to_dict().items() if k != "description"}
        blob = json.dumps(settings, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]
