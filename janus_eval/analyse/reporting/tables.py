"""The report's tables as plain data; the HTML and markdown writers render (and escape) them."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from janus_eval.analyse.intervals import verdict
from janus_eval.analyse.reporting.collect import Board, Key, RunResult, paper_value


@dataclass
class Cell:
    text: str  # raw text; renderers escape it
    delta: float | None = None  # vs the paper value of the run's model, coloured by sign
    numeric: bool = False


@dataclass
class Table:
    header: list[str]
    rows: list[list[Cell]]
    paper_rows: set[int] = field(default_factory=set)  # indices of rows that are the report's numbers


def fmt(value: float | None, metric: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if metric in ("errors", "n"):
        return f"{value:.0f}"
    return f"{value:.2f}"


INTERVAL_NOTE = (
    "Each run's value carries its 95% percentile-bootstrap interval over the benchmark's own units "
    "(questions; MME images; MMBench questions with their rotations; GenEval and DPG-Bench prompts) and, "
    "where the report has a number, its verdict: consistent (the report's number lies inside), below or above. "
    "The interval is the run's sampling noise only: not the report's (unknown), nor a difference of protocol."
)


def with_ci(run: RunResult, board: Board, task: str, key: Key, value: float, verdicts: bool = True) -> str:
    """A run's value with its 95% interval, `87.14 [85.8, 88.5]`, and its verdict against the paper
    (`consistent`, `below`, `above`) where the paper has a number for it."""
    text = fmt(value, key[0])
    low, high = run.interval(task, key)
    if math.isnan(value) or math.isnan(low) or math.isnan(high):
        return text
    text += f" [{low:.1f}, {high:.1f}]"
    said = verdict(run.reference(task, key, board.paper), low, high) if verdicts else ""
    return text + (f" {said}" if said else "")


def key_label(key: Key) -> str:
    return key[0] + (f"/{key[1]}" if key[1] else "")


def _delta(value: float, ref: float) -> float | None:
    return None if math.isnan(value) or math.isnan(ref) else value - ref


def leaderboard(board: Board) -> Table:
    header = ["run", "model", "weights", "date"] + [
        f"{t} {key_label(board.headline[t])}" for t in board.tasks
    ]
    rows = []
    for run in board.runs:
        cells = [
            Cell(run.label),
            Cell(run.info.model),
            Cell(run.info.short_fingerprint or "—"),
            Cell(run.info.date),
        ]
        for task in board.tasks:
            key = board.headline[task]
            value = run.value(task, key)
            text = with_ci(run, board, task, key, value)
            cells.append(Cell(text, _delta(value, run.reference(task, key, board.paper)), True))
        rows.append(cells)
    paper_rows = set()
    for model in board.paper_models:
        cells = [Cell("Janus-Pro report"), Cell(model), Cell(""), Cell("")]
        values = [paper_value(board.paper, model, t, board.headline[t]) for t in board.tasks]
        if all(math.isnan(v) for v in values):
            continue
        cells += [Cell(fmt(v), None, True) for v in values]
        paper_rows.add(len(rows))
        rows.append(cells)
    return Table(header, rows, paper_rows)


def detail(board: Board, task: str) -> Table:
    """Every (metric, subset) of a task: each run's value (and delta), then the paper's models."""
    keys = board.task_keys(task)
    models = [
        m
        for m in board.paper_models
        if any(not math.isnan(paper_value(board.paper, m, task, k)) for k in keys)
    ]
    having = [r for r in board.runs if r.scores["task"].eq(task).any()]
    header = ["metric", "subset"] + [r.label for r in having] + [f"{m} (paper)" for m in models]
    rows = []
    for key in keys:
        cells = [Cell(key[0]), Cell(key[1])]
        for run in having:
            value = run.value(task, key)
            text = with_ci(run, board, task, key, value)
            cells.append(Cell(text, _delta(value, run.reference(task, key, board.paper)), True))
        cells += [Cell(fmt(paper_value(board.paper, m, task, key)), None, True) for m in models]
        rows.append(cells)
    return Table(header, rows)


def runs(board: Board) -> Table:
    header = ["run", "model", "weights fingerprint", "date", "tasks", "folder"]
    rows = [
        [Cell(r.label), Cell(r.info.model), Cell(r.info.fingerprint or "—"), Cell(r.info.date),
         Cell(", ".join(sorted(set(r.scores["task"])))), Cell(str(r.info.store.root))]
        for r in board.runs
    ]  # fmt: skip
    return Table(header, rows)
