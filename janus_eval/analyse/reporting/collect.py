"""Gather what a leaderboard shows from run folders (through the run store) and the paper table."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from janus_eval.analyse.intervals import N_BOOT, SEED, verdict, with_intervals
from janus_eval.analyse.paper import paper_model, paper_table
from janus_eval.core.errors import UsageError
from janus_eval.core.metric import unit_of
from janus_eval.core.progress import say
from janus_eval.store.run_info import RunInfo, load_run
from janus_eval.store.run_store import run_folders
from janus_eval.tasks.registry import get_metrics

Key = tuple[str, str]  # (metric, subset)

def unit(row) -> str:
    """A score row's unit (percent, points, count, text): the run's own `unit` column, else (runs
    written before it, the paper's rows) what the task's scorer declares."""
    given = getattr(row, "unit", None)
    if isinstance(given, str) and given:
        return given
    return unit_of(row.metric, get_metrics(row.task))


LONG_COLUMNS = [
    "source", "run", "model", "fingerprint", "date", "task", "metric", "subset",
    "value", "unit", "n", "paper", "delta", "headline", "ci_low", "ci_high", "ci_method", "verdict",
]  # fmt: skip


@dataclass
class RunResult:
    info: RunInfo
    label: str  # unique among the report's runs
    scores: pd.DataFrame  # task, metric, subset, value, n, paper, delta
    paper_model: str | None  # the report's name for the run's model, when it has one

    def value(self, task: str, key: Key) -> float:
        row = self._row(task, key)
        return float(row["value"].iloc[0]) if len(row) else float("nan")

    def reference(self, task: str, key: Key, paper: pd.DataFrame) -> float:
        """The paper's value for this run's model: as the run recorded it, else from the paper table."""
        row = self._row(task, key)
        if len(row) and pd.notna(row["paper"].iloc[0]):
            return float(row["paper"].iloc[0])
        if self.paper_model is None:
            return float("nan")
        return paper_value(paper, self.paper_model, task, key)

    def interval(self, task: str, key: Key) -> tuple[float, float]:
        """The value's 95% interval (NaN, NaN without one)."""
        row = self._row(task, key)
        if not len(row) or "ci_low" not in row:
            return float("nan"), float("nan")
        return float(row["ci_low"].iloc[0]), float(row["ci_high"].iloc[0])

    def _row(self, task: str, key: Key) -> pd.DataFrame:
        s = self.scores
        return s[(s["task"] == task) & (s["metric"] == key[0]) & (s["subset"] == key[1])]


@dataclass
class Board:
    runs: list[RunResult]
    tasks: list[str]
    kinds: dict[str, str]
    headline: dict[str, Key]
    paper: pd.DataFrame  # model, task, metric, subset, value
    paper_models: list[str] = field(default_factory=list)

    def task_keys(self, task: str) -> list[Key]:
        """Every (metric, subset) any run reports for a task, in the first run's table order."""
        keys: list[Key] = []
        for run in self.runs:
            keys += [k for k in _keys(run.scores, task) if k not in keys]
        return keys

    def long(self) -> pd.DataFrame:
        rows = []
        for run in self.runs:
            for r in run.scores.itertuples():
                ref = run.reference(r.task, (r.metric, r.subset), self.paper)
                rows.append({
                    "source": "run", "run": run.label, "model": run.info.model,
                    "fingerprint": run.info.fingerprint or "", "date": run.info.date, "task": r.task,
                    "metric": r.metric, "subset": r.subset, "value": r.value, "unit": unit(r), "n": r.n, "paper": ref,
                    "delta": r.value - ref, "headline": self.headline.get(r.task) == (r.metric, r.subset),
                    "ci_low": r.ci_low, "ci_high": r.ci_high, "ci_method": r.ci_method,
                    "verdict": verdict(ref, r.ci_low, r.ci_high),
                })  # fmt: skip
        for r in self.paper.itertuples():
            rows.append({
                "source": "paper", "run": "", "model": r.model, "fingerprint": "", "date": "", "task": r.task,
                "metric": r.metric, "subset": r.subset, "value": r.value, "unit": unit(r), "n": np.nan, "paper": np.nan,
                "delta": np.nan, "headline": self.headline.get(r.task) == (r.metric, r.subset),
            })  # fmt: skip
        out = pd.DataFrame(rows, columns=LONG_COLUMNS)
        out["n"] = out["n"].astype("Int64")
        return out


# A demo run (shipped samples, random-weight judges) tests the pipeline, not a model: its label
# says so in every table, plot, gallery and CSV row of the report.
DEMO_MARK = " (demo)"


def paper_value(paper: pd.DataFrame, model: str, task: str, key: Key) -> float:
    hit = paper[(paper["model"] == model) & (paper["task"] == task) & (paper["metric"] == key[0])
                & (paper["subset"] == key[1])]  # fmt: skip
    return float(hit["value"].iloc[0]) if len(hit) else float("nan")


def _keys(scores: pd.DataFrame, task: str) -> list[Key]:
    s = scores[scores["task"] == task]
    return list(zip(s["metric"], s["subset"]))


def _scores(info: RunInfo, n_boot: int = N_BOOT, seed: int = SEED) -> pd.DataFrame:
    """A run's scores with their 95% intervals, computed afresh from its stored records (so runs
    scored before intervals existed gain them)."""
    scores = info.store.read_scores()
    for col in ("paper", "delta", "n"):
        if col not in scores:
            scores[col] = np.nan
    scores["subset"] = scores["subset"].fillna("").astype(str)
    scores["metric"] = scores["metric"].astype(str)
    scores["task"] = scores["task"].astype(str)
    return with_intervals(info, scores, n_boot, seed)[0]


def collect(
    run_dirs: list[Path], paper: pd.DataFrame | None = None, n_boot: int = N_BOOT, seed: int = SEED
) -> Board:
    run_dirs, notes = run_folders(run_dirs)  # a results folder stands for every run it holds
    for note in notes:
        say(note)
    if not run_dirs:
        raise UsageError("give at least one run folder: janus-eval report RUN_DIR... -o DIR")
    paper = (paper_table() if paper is None else paper).copy()
    paper["subset"] = paper["subset"].fillna("").astype(str)
    paper_models = list(dict.fromkeys(paper["model"]))
    runs: list[RunResult] = []
    seen: dict[str, int] = {}
    for path in run_dirs:
        info = load_run(Path(path))
        seen[info.run_id] = seen.get(info.run_id, 0) + 1
        label = info.run_id if seen[info.run_id] == 1 else f"{info.run_id} #{seen[info.run_id]}"
        label += DEMO_MARK if info.demo else ""  # the label goes wherever the run's numbers go
        label += f" ({info.selection})" if info.partial else ""  # a partial run: not the whole benchmark
        scores = _scores(info, n_boot, seed)
        runs.append(RunResult(info, label, scores, None if info.demo else paper_model(info.model, paper_models)))

    order = list(dict.fromkeys(paper["task"]))  # the report's order, then the others by name
    present = {t for run in runs for t in run.scores["task"]}
    tasks = [t for t in order if t in present] + sorted(present - set(order))
    kinds: dict[str, str] = {}
    headline: dict[str, Key] = {}
    for task in tasks:
        for run in runs:
            task_info = run.info.tasks.get(task)
            if task_info is not None and task_info.config:
                kinds.setdefault(task, task_info.kind)
                if task_info.headline[0]:
                    headline.setdefault(task, task_info.headline)
        kinds.setdefault(task, "understanding")
        if task not in headline:  # no config: the paper's row for the task, else its first overall row
            ref = paper[paper["task"] == task]
            if len(ref):
                headline[task] = (str(ref["metric"].iloc[-1]), str(ref["subset"].iloc[-1]))
            else:
                keys = [k for r in runs for k in _keys(r.scores, task)]
                headline[task] = next((k for k in keys if k[1] == ""), keys[0] if keys else ("", ""))
    return Board(runs, tasks, kinds, headline, paper, paper_models)
