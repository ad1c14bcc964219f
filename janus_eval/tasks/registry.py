"""The task registry: one folder per benchmark in `janus_eval/tasks/`.

`tasks/<name>/task.yaml` declares where the data comes from, how a sample
becomes a request and how records are scored; the folder also holds the
benchmark's scorer (`scorer.py`) and whatever else is its own (prompt builder,
rules, image layout, judge glue, shipped data, demo set). `load_task(name)`
returns a frozen `TaskConfig`; groups (`understanding`, `generation`) expand to
their members. An unknown key in a task file is a UsageError naming it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from janus_eval.core.errors import UsageError
from janus_eval.core.metric import Metric
from janus_eval.core.protocol import DEFAULT_PROTOCOL, get_protocol
from janus_eval.core.task import TASK_DEFAULTS, DataSource, TaskConfig, scorer_of
from janus_eval.tasks.prompts import BUILDERS

TASKS_DIR = Path(__file__).resolve().parent  # one folder per benchmark: <name>/task.yaml, its code


DEFAULT_SYSTEM_PROMPT = (
    "You are a helpful language and vision assistant. "
    "You are able to understand the visual content that the user provides, "
    "and assist the user with a variety of tasks using natural language."
)
# What a protocol may set for a task (`protocols: {<name>: {...}}` in its YAML).
PROTOCOL_KEYS = ("prompt", "prompt_builder", "system_prompt", "max_new_tokens")


# The YAML keys a task file may hold: TaskConfig's own fields, and `protocols` (per-protocol overrides).
TASK_KEYS = frozenset({
    "description", "kind", "dataset", "id_columns", "text_columns", "image_columns", "prompt", "prompt_builder",
    "system_prompt", "max_new_tokens", "scorer", "headline", "scoring", "generation", "requires_judge", "protocols",
})  # fmt: skip
DATASET_KEYS = frozenset(DataSource.__dataclass_fields__)


def _task_files() -> dict[str, Path]:
    return {p.parent.name: p for p in sorted(TASKS_DIR.glob("*/task.yaml"))}


def groups() -> dict[str, list[str]]:
    """`understanding`, `generation`: the task groups of tasks/groups.yaml."""
    return yaml.safe_load((TASKS_DIR / "groups.yaml").read_text()) or {}


def task_names() -> list[str]:
    return list(_task_files())


def _check_keys(where: str, raw: dict[str, Any], known: frozenset[str]) -> None:
    unknown = sorted(set(raw) - known)
    if unknown:
        names = ", ".join(map(repr, unknown))
        raise UsageError(f"{where}: unknown key {names}; known keys: {', '.join(sorted(known))}")


def load_task(name: str, protocol: str = DEFAULT_PROTOCOL) -> TaskConfig:
    """A task as the protocol asks it: the YAML's fields, then the protocol's own for that task."""
    chosen = get_protocol(protocol)
    files = _task_files()
    if name not in files:
        raise UsageError(f"unknown task '{name}'; valid tasks: {', '.join(files)}; groups: {', '.join(groups())}")
    where = f"tasks/{name}/task.yaml"
    raw = yaml.safe_load(files[name].read_text()) or {}
    _check_keys(where, raw, TASK_KEYS)
    _check_keys(f"{where} dataset", raw.get("dataset") or {}, DATASET_KEYS)
    overrides = (raw.get("protocols") or {}).get(protocol) or {}
    unknown = sorted(set(overrides) - set(PROTOCOL_KEYS))
    if unknown:
        raise UsageError(f"{where}: protocol {protocol} sets {', '.join(unknown)}; it may set only "
                         f"{', '.join(PROTOCOL_KEYS)}")  # fmt: skip
    raw = {**raw, **overrides}
    ds = raw["dataset"]
    raw = {**TASK_DEFAULTS, **raw}
    system = raw["system_prompt"]
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
        prompt=raw["prompt"],
        prompt_builder=raw["prompt_builder"],
        system_prompt=DEFAULT_SYSTEM_PROMPT if system == "default" else (system or ""),
        max_new_tokens=int(raw["max_new_tokens"]),
        scorer=scorer_of(name, raw.get("scorer")),
        headline=raw["headline"],
        description=raw["description"],
        scoring=raw.get("scoring") or {},
        generation=raw.get("generation") or {},
        requires_judge=bool(raw["requires_judge"]),
        protocol=chosen.name,
        roles=chosen.roles,
        folder=files[name].parent,
    )


def resolve_tasks(spec: str, protocol: str = DEFAULT_PROTOCOL) -> list[TaskConfig]:
    """`pope,mme` or a group name -> task configs, in order, without repeats."""
    named_groups = groups()
    names: list[str] = []
    for part in [p.strip() for p in spec.split(",") if p.strip()]:
        for name in named_groups.get(part, [part]):
            if name not in names:
                names.append(name)
    if not names:
        raise UsageError(f"no task given; valid tasks: {', '.join(task_names())}")
    return [load_task(n, protocol) for n in names]


# --- a task's code: tasks/<scorer>/scorer.py, its prompt builder, its image layout ----------
def scorer_module(name: str):
    """The module `janus_eval.tasks.<name>.scorer`: `score`, and `bootstrap`, `preflight` and
    `METRICS` (its metrics' directions and units) when it has them."""
    if name not in _task_files():
        raise UsageError(f"unknown scorer '{name}'; scorers: {', '.join(_task_files())}")
    return importlib.import_module(f"janus_eval.tasks.{name}.scorer")


def get_scorer(name: str) -> Callable[..., Any]:
    return scorer_module(name).score


def get_metrics(name: str) -> dict[str, Metric]:
    """The metrics a scorer declares (`METRICS`: direction and unit), by name; none when it
    declares none or this install cannot import it (e.g. GenEval without its judges' extra)."""
    try:
        module = scorer_module(name)
    except (UsageError, ImportError):
        return {}
    return {m.name: m for m in getattr(module, "METRICS", ())}


def get_preflight(name: str) -> Callable[..., None] | None:
    """A scorer's optional `preflight(settings, judges)`: cheap checks (question files, judge
    availability) that `run` makes before a model is loaded, so bad input fails early."""
    return getattr(scorer_module(name), "preflight", None)


def get_sample_contract(
    name: str, settings: Mapping[str, Any] | None = None, *, root: Path | None = None, demo: bool = False
) -> tuple[tuple[Any, ...], Callable[..., str | None] | None] | None:
    """A scorer's samples contract (score/contract.py): its `SAMPLE_FIELDS` and one row check,
    its `check_sample(row)` and, given `settings` (the task's scorer settings; `root`: the folder
    image paths are relative to), its `file_check(context)` for one file's rows, built here (a
    question file read once); None for a scorer that declares no fields."""
    from janus_eval.score.contract import Context

    module = scorer_module(name)
    fields = getattr(module, "SAMPLE_FIELDS", None)
    if fields is None:
        return None
    checks = [getattr(module, "check_sample", None)]
    if settings is not None and hasattr(module, "file_check"):
        checks.append(module.file_check(Context(settings, root=root, demo=demo)))
    chosen = [c for c in checks if c is not None]
    if len(chosen) < 2:
        return tuple(fields), (chosen[0] if chosen else None)

    def check(row: dict[str, Any]) -> str | None:
        return next((p for p in (c(row) for c in chosen) if p), None)

    return tuple(fields), check


def build_prompt(row: dict[str, Any], template_text: str, builder_name: str = "template") -> str:
    """A row's user text: a builder shared in tasks/prompts.py, else the task's own (`build` in
    tasks/<builder_name>/prompt.py)."""
    if builder_name in BUILDERS:
        return BUILDERS[builder_name](row, template_text)
    if builder_name not in _task_files() or not (TASKS_DIR / builder_name / "prompt.py").is_file():
        raise UsageError(f"unknown prompt builder '{builder_name}'; known: {', '.join(BUILDERS)}, or a task's own")
    return importlib.import_module(f"janus_eval.tasks.{builder_name}.prompt").build(row, template_text)


def get_layout(task: TaskConfig):
    """A generation task's image layout: tasks/<name>/layout.py (`write`, `MAX_IMAGES`)."""
    if not (TASKS_DIR / task.name / "layout.py").is_file():
        raise UsageError(f"task {task.name} is a generation task with no image layout (tasks/{task.name}/layout.py)")
    return importlib.import_module(f"janus_eval.tasks.{task.name}.layout")


def command_line_settings(name: str) -> tuple[str, ...]:
    """The scorer settings a scorer takes from the command line (`COMMAND_LINE_SETTINGS` of
    tasks/<name>/scorer.py: `csv`, `vqa_model`, ... for dpgbench)."""
    return tuple(getattr(scorer_module(name), "COMMAND_LINE_SETTINGS", ()))


def with_scoring_overrides(task: TaskConfig, overrides: Mapping[str, Any]) -> TaskConfig:
    """The task with the command-line scorer settings its scorer takes put into its `scoring`:
    they are then in its config hash and the manifest, as the YAML's are."""
    given = {k: v for k, v in overrides.items() if k in command_line_settings(task.scorer)}
    if not given:
        return task
    return replace(task, scoring={**task.scoring, **given})


def get_bootstrap(name: str) -> Callable[..., Any] | None:
    """A scorer's optional `bootstrap(records, settings, counts)` (the fast path of compare)."""
    return getattr(scorer_module(name), "bootstrap", None)
