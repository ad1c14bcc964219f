"""A run's manifest: what ran, written as `<run>/manifest.json`.

`Manifest` is the one writer (`to_json`, through `RunStore.write_manifest`) and the
one reader (`from_json`) of that file. The keys on disk are those janus-eval has
always written, so runs of earlier versions load; the reader also takes what they
left out or spelled otherwise (a model given as a bare name or under `name` / `id`, a
fingerprint at the top level, a `score` run without seed, data or timings).

    run_id, created, updated        the run's name; when it started and was last scored (UTC, ISO)
    kind, source_file               "score" runs only: the samples file scored
    model                           the adapter's description: model, fingerprint, device, dtype, ...
    seed, demo, batch_size, world_size, data_workers, protocol
    versions, git_sha               the environment
    judge                           which judges scored (Judges.describe)
    scoring_overrides               the scorer settings given on the command line (also in each
                                    affected task's config, so in its config hash)
    config                          `run --config FILE` only: {"path": FILE, "options": what it held}
    tasks                           per task: config, config_hash, data, n_samples, limit, resumed_samples;
                                    offset and sample_ids only when the run gave them (--offset, --sample-id)
    timings                         model_load_s, and per task answer_s / score_s
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

UNKNOWN_MODEL = "unknown"


@dataclass
class ModelInfo:
    """The model as the adapter described it (`describe()`): its name and weights fingerprint;
    `details` holds the description's other keys (device, dtype, path, roles, ...)."""

    name: str = UNKNOWN_MODEL
    fingerprint: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_description(cls, described: Mapping[str, Any] | str | None, fingerprint: Any = None) -> ModelInfo:
        """An adapter's description, or what an older manifest held under `model`: the same
        mapping with the name under `model`, `name` or `id`; or the bare name (the fingerprint
        then at the manifest's top level, given here)."""
        if not isinstance(described, Mapping):
            name = str(described) if described else UNKNOWN_MODEL
            return cls(name=name, fingerprint=None if fingerprint is None else str(fingerprint))
        rest = dict(described)
        key = next((k for k in ("model", "name", "id") if rest.get(k)), "model")
        name = rest.pop(key, None) or UNKNOWN_MODEL
        fp = rest.pop("fingerprint", None)
        return cls(name=str(name), fingerprint=None if fp is None else str(fp), details=rest)

    @property
    def dtype(self) -> str | None:
        return self.details.get("dtype")

    @property
    def device(self) -> str | None:
        return self.details.get("device")

    def to_dict(self) -> dict[str, Any]:
        return {**self.details, "model": self.name, "fingerprint": self.fingerprint}


@dataclass
class TaskEntry:
    """One task of the run: its resolved config (TaskConfig.to_dict), hash and data."""

    config: dict[str, Any] = field(default_factory=dict)
    config_hash: str | None = None
    data: dict[str, Any] | None = None  # the data source (data/load.py LoadedTask.source)
    n_samples: int | None = None
    limit: int | None = None
    resumed_samples: int | None = None
    offset: int | None = None  # --offset N (None: from the first sample)
    sample_ids: list[str] | None = None  # --sample-id (None: every id)
    # the keys this entry has on disk (None: a new entry, written whole); a `score` run's
    # entry has no data / limit / resumed_samples and is written back the same
    keys: tuple[str, ...] | None = field(default=None, compare=False, repr=False)

    FIELDS = ("config", "config_hash", "data", "n_samples", "limit", "resumed_samples")
    SELECTION = ("offset", "sample_ids")  # written only when set: the entries earlier versions wrote stay as they were

    @property
    def scoring(self) -> dict[str, Any]:
        """The scorer settings the task was scored with (the YAML's and the command line's)."""
        return dict(self.config.get("scoring") or {})

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None) -> TaskEntry:
        raw = raw or {}
        return cls(
            config=dict(raw.get("config") or {}),
            config_hash=raw.get("config_hash"),
            data=raw.get("data"),
            n_samples=raw.get("n_samples"),
            limit=raw.get("limit"),
            resumed_samples=raw.get("resumed_samples"),
            offset=raw.get("offset"),
            sample_ids=None if raw.get("sample_ids") is None else [str(i) for i in raw["sample_ids"]],
            keys=tuple(k for k in (*cls.FIELDS, *cls.SELECTION) if k in raw),
        )

    def to_dict(self) -> dict[str, Any]:
        keys = self.FIELDS if self.keys is None else self.keys
        out = {k: getattr(self, k) for k in self.FIELDS if k in keys or getattr(self, k) is not None}
        out.update({k: getattr(self, k) for k in self.SELECTION if k in keys or getattr(self, k) is not None})
        return out


# Top-level keys written only when set: a `run` manifest has no kind / source_file, and no
# `updated` before its first task is scored.
OPTIONAL = ("updated", "kind", "source_file", "config")


@dataclass
class Manifest:
    run_id: str
    created: str | None = None
    updated: str | None = None
    kind: str | None = None  # "score" for a run made by `janus-eval score`; None: `run`
    source_file: str | None = None
    model: ModelInfo = field(default_factory=ModelInfo)
    seed: int | None = None
    demo: bool = False
    batch_size: int | None = None
    world_size: int | None = None
    data_workers: int | None = None
    protocol: list[str] = field(default_factory=list)
    versions: dict[str, Any] = field(default_factory=dict)
    git_sha: str | None = None
    judge: dict[str, Any] | None = None
    scoring_overrides: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] | None = None  # run --config FILE: {"path": FILE, "options": what it held}
    tasks: dict[str, TaskEntry] = field(default_factory=dict)
    timings: dict[str, Any] = field(default_factory=dict)
    # keys of an older manifest this version does not know: kept, written back as they were
    extra: dict[str, Any] = field(default_factory=dict, repr=False)
    # the top-level keys it had on disk (None: a new manifest, written whole)
    keys: tuple[str, ...] | None = field(default=None, compare=False, repr=False)

    # --- reading ------------------------------------------------------------------
    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], run_id: str = "") -> Manifest:
        known = set(cls.__dataclass_fields__) - {"extra", "keys"} | {"fingerprint"}
        protocol = raw.get("protocol")
        return cls(
            run_id=str(raw.get("run_id") or run_id),
            created=raw.get("created"),
            updated=raw.get("updated"),
            kind=raw.get("kind"),
            source_file=raw.get("source_file"),
            model=ModelInfo.from_description(raw.get("model"), raw.get("fingerprint")),
            seed=raw.get("seed"),
            demo=bool(raw.get("demo")),
            batch_size=raw.get("batch_size"),
            world_size=raw.get("world_size"),
            data_workers=raw.get("data_workers"),
            protocol=[protocol] if isinstance(protocol, str) else list(protocol or []),
            versions=dict(raw.get("versions") or {}),
            git_sha=raw.get("git_sha"),
            judge=raw.get("judge"),
            scoring_overrides=dict(raw.get("scoring_overrides") or {}),
            config=raw.get("config"),
            tasks={str(k): TaskEntry.from_dict(v) for k, v in (raw.get("tasks") or {}).items()},
            timings=dict(raw.get("timings") or {}),
            extra={k: v for k, v in raw.items() if k not in known},
            keys=tuple(raw),
        )

    @classmethod
    def from_json(cls, text: str, run_id: str = "") -> Manifest:
        raw = json.loads(text)
        if not isinstance(raw, dict):
            raise TypeError(f"a manifest is a JSON object, not {type(raw).__name__}")
        return cls.from_dict(raw, run_id)

    # --- writing ------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "run_id": self.run_id,
            "created": self.created,
            "updated": self.updated,
            "kind": self.kind,
            "source_file": self.source_file,
            "model": self.model.to_dict(),
            "seed": self.seed,
            "demo": self.demo,
            "batch_size": self.batch_size,
            "world_size": self.world_size,
            "data_workers": self.data_workers,
            "protocol": list(self.protocol),
            "versions": dict(self.versions),
            "git_sha": self.git_sha,
            "judge": self.judge,
            "scoring_overrides": dict(self.scoring_overrides),
            "config": self.config,
            "tasks": {name: entry.to_dict() for name, entry in self.tasks.items()},
            "timings": dict(self.timings),
        }
        if self.keys is not None:  # an older manifest: its own keys, plus what this version set
            out = {k: v for k, v in out.items() if k in self.keys or _set(v)}
        else:
            out = {k: v for k, v in out.items() if k not in OPTIONAL or v is not None}
        return {**self.extra, **out}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, sort_keys=True, default=str)

    # --- what stages ask of it ----------------------------------------------------------
    @property
    def started_tasks(self) -> set[str]:
        return set(self.tasks)

    def task(self, name: str) -> TaskEntry | None:
        return self.tasks.get(name)


def _set(value: Any) -> bool:
    return value is not None and value != {} and value != [] and value is not False
