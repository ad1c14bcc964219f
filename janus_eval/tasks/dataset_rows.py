"""The samples contract applied to the rows `run` loads (demo set, packaged prompts, a
--data-dir copy, the hub), before any model work: a local copy whose POPE `category` is
"Random " would otherwise become a new split, and a GenEval clause with a class the detector
does not know would be drawn for hours and then judged by no rule. Only the fields the
dataset provides are checked (a run adds `prediction` and the image paths itself)."""

from __future__ import annotations

from typing import Any

from janus_eval.core.errors import UsageError
from janus_eval.core.task import TaskConfig
from janus_eval.data.load import LoadedData
from janus_eval.score.contract import check_row
from janus_eval.tasks.registry import get_sample_contract


def source_name(source: dict[str, Any]) -> str:
    """Where the rows came from, as the user would find it: a folder, a file or a hub id."""
    kind, path = source.get("kind"), source.get("path")
    if kind == "hub":
        return f"dataset {path} (config {source.get('name') or 'default'}, split {source.get('split')})"
    if kind == "local":
        return f"the local copy {path}"
    return f"the {'demo set' if kind == 'demo' else 'packaged file'} {path}"


def fix_hint(source: dict[str, Any]) -> str:
    """What to do about a bad row: the user's own copy can be fixed; rows shipped with
    janus-eval only fail against a setting (a --dpg-csv without these prompts) or a broken install."""
    if source.get("kind") in ("local", "hub"):
        return "fix that row or use a clean copy of the dataset"
    return "check the task's settings (e.g. --dpg-csv) or reinstall janus-eval"


def check_dataset_rows(task: TaskConfig, loaded: LoadedData, *, demo: bool = False) -> None:
    """Every loaded row's dataset fields under the task's contract; the first bad one is a
    UsageError naming the task, the source, the row (its index among the rows read, and its
    sample id), the field and what it should be."""
    contract = get_sample_contract(task.scorer, task.scoring, demo=demo)  # root None: no images yet
    if contract is None:
        return
    fields, check = contract
    provided = set(task.text_columns)
    own = tuple(f for f in fields if f.name in provided)
    for i, sample in enumerate(loaded.samples):
        problem = check_row(sample.row, own, check, common=False)
        if problem:
            raise UsageError(
                f"task {task.name}: {source_name(loaded.source)} row {i} (sample {sample.id}): {problem}; "
                f"{fix_hint(loaded.source)}"
            )
