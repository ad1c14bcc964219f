"""Report plots as PNG bytes (matplotlib's Agg canvas; no pyplot, no display, no global state).

Two per benchmark: the headline metric of every run beside the paper's models, and a
per-category breakdown (the metric with per-subset rows, e.g. MME subtask scores,
GenEval tags, POPE splits) for the runs and the paper rows that have one.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

from janus_eval.analyse.reporting.collect import Board, RunResult, paper_value

PAPER_COLOURS = ["#8c8c8c", "#b0b0b0", "#cfcfcf", "#6f6f6f"]
RUN_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
SKIP_SUBSETS = {"", "pooled"}


@dataclass
class Plot:
    title: str
    png: bytes


def available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _label(text: str) -> str:
    return text.replace("$", r"\$")  # no mathtext from run names


def _figure(height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()


@dataclass(frozen=True)
class Entry:
    """One bar group of a plot: a paper row (its model) or a run, with its label and colour."""

    label: str
    colour: str
    paper_model: str | None = None
    run: RunResult | None = None

    def value(self, board: Board, task: str, key) -> float:
        if self.run is not None:
            return self.run.value(task, key)
        return paper_value(board.paper, self.paper_model or "", task, key)

    def error(self, task: str, key, value: float) -> tuple[float, float]:
        """The distances from the value down and up to its 95% interval (0, 0 without one: a paper row)."""
        if self.run is None or math.isnan(value):
            return 0.0, 0.0
        low, high = self.run.interval(task, key)
        if math.isnan(low) or math.isnan(high):
            return 0.0, 0.0
        return max(value - low, 0.0), max(high - value, 0.0)


def _entries(board: Board) -> list[Entry]:
    """The paper rows, then the runs, in display order."""
    out = [Entry(f"{m} (paper)", PAPER_COLOURS[i % len(PAPER_COLOURS)], paper_model=m)
           for i, m in enumerate(board.paper_models)]  # fmt: skip
    return out + [Entry(r.label, RUN_COLOURS[i % len(RUN_COLOURS)], run=r) for i, r in enumerate(board.runs)]


def headline_plot(board: Board, task: str) -> Plot | None:
    key = board.headline[task]
    bars, errors = [], []
    for entry in _entries(board):
        value = entry.value(board, task, key)
        if not math.isnan(value):
            bars.append((entry.label, entry.colour, value, entry.run is None))
            errors.append(entry.error(task, key, value))
    if not bars or all(is_paper for *_, is_paper in bars):
        return None
    fig = _figure(0.9 + 0.38 * len(bars))
    ax = fig.add_subplot()
    ys = range(len(bars))
    ax.barh(list(ys), [b[2] for b in bars], color=[b[1] for b in bars],
            hatch=None, edgecolor=["#555555" if b[3] else "none" for b in bars])  # fmt: skip
    runs = [k for k, b in enumerate(bars) if not b[3] and sum(errors[k]) > 0]  # each run's 95% interval
    if runs:
        ax.errorbar([bars[k][2] for k in runs], runs, xerr=[[errors[k][0] for k in runs], [errors[k][1] for k in runs]],
                    fmt="none", ecolor="#222222", elinewidth=1.2, capsize=4)  # fmt: skip
    for y, b, e in zip(ys, bars, errors):
        ax.text(b[2] + e[1], y, f" {b[2]:.2f}", va="center", fontsize=8)
    ax.set_yticks(list(ys), [_label(b[0]) for b in bars], fontsize=8)
    ax.invert_yaxis()
    metric = key[0] + (f"/{key[1]}" if key[1] else "")
    ax.set_title(_label(f"{task}: {metric} (runs with 95% intervals vs the Janus-Pro report)"), fontsize=10)
    ax.margins(x=0.15)
    ax.grid(axis="x", alpha=0.3)
    return Plot(f"{task}: {metric}", _png(fig))


def breakdown_metric(board: Board, task: str) -> str | None:
    """The metric to break down by category, or None when no metric has two or more subsets.

    Preference: the headline metric itself; a metric the headline is built from (f1 for
    f1_mean); one the paper breaks down; `score`, then `accuracy`; else the first.
    """
    per_metric: dict[str, set[str]] = {}
    for metric, subset in board.task_keys(task):
        if subset not in SKIP_SUBSETS:
            per_metric.setdefault(metric, set()).add(subset)
    candidates = [m for m, subs in per_metric.items() if len(subs) >= 2]
    if not candidates:
        return None
    head = board.headline[task][0]
    ref = board.paper[(board.paper["task"] == task) & (board.paper["subset"] != "")]
    for rule in (
        lambda m: m == head,
        lambda m: head.startswith(m + "_"),
        lambda m: m in set(ref["metric"]),
        lambda m: m == "score",
        lambda m: m == "accuracy",
    ):
        hit = [m for m in candidates if rule(m)]
        if hit:
            return hit[0]
    return candidates[0]


def breakdown_plot(board: Board, task: str) -> Plot | None:
    metric = breakdown_metric(board, task)
    if metric is None:
        return None
    subsets = [s for m, s in board.task_keys(task) if m == metric and s not in SKIP_SUBSETS]
    series = []
    for entry in _entries(board):
        values = [entry.value(board, task, (metric, s)) for s in subsets]
        if not all(math.isnan(v) for v in values):
            series.append((entry.label, entry.colour, values, entry.run is None, entry))
    height = max(2.5, 0.6 + len(subsets) * (0.12 + 0.16 * len(series)))
    fig = _figure(height)
    ax = fig.add_subplot()
    width = 0.8 / len(series)
    for k, (label, colour, values, is_paper, entry) in enumerate(series):
        ys = [i + (k - (len(series) - 1) / 2) * width for i in range(len(subsets))]
        errs = [entry.error(task, (metric, s), v) for s, v in zip(subsets, values)]
        ax.barh(ys, [0 if math.isnan(v) else v for v in values], height=width, color=colour, label=_label(label),
                xerr=[[e[0] for e in errs], [e[1] for e in errs]], error_kw={"elinewidth": 0.8, "ecolor": "#222222"},
                edgecolor="#555555" if is_paper else "none")  # fmt: skip
    ax.set_yticks(list(range(len(subsets))), [_label(s) for s in subsets], fontsize=8)
    ax.invert_yaxis()
    ax.set_title(_label(f"{task}: {metric} per category"), fontsize=10)
    ax.legend(
        fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=min(len(series), 4), frameon=False
    )
    ax.grid(axis="x", alpha=0.3)
    return Plot(f"{task}: {metric} per category", _png(fig))
