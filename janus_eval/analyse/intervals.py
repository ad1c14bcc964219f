"""A 95% percentile-bootstrap interval for every metric of a run, and a verdict against the paper.

Per task the stored records are resampled by the benchmark's own unit (a scorer module's
optional `resample_units(records)`: one label per record, records with one label drawn
together; default one unit per record), `n_boot` times with a seed per (seed, task) as in
`compare`, and each resample is scored by the machinery `compare` uses (`resampling.py`):
the scorer's `bootstrap` fast path, else its `score` per resample, else, for judge-graded
tasks, the rows `judged.py` derives from the stored per-sample scores. A row the method
cannot give is NaN with a `ci_method` saying why, never an invented interval; so is a row
whose rescored value is not the stored one (say an MMBench run whose judge matched answers:
the fast path rescores without it).

The interval covers the run's own sampling noise: which questions (images, prompts) the
benchmark happened to hold. It does not cover the paper's noise (unknown) or a difference of
protocol (prompts, decoding, judge), which is not noise.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from janus_eval.analyse import judged
from janus_eval.analyse.resampling import STORED_SCORES, Batch, Key, method, read_frame, unit_counts
from janus_eval.core.errors import UsageError
from janus_eval.store.run_info import RunInfo, TaskInfo, load_run
from janus_eval.tasks.registry import scorer_module

N_BOOT = 1000
SEED = 0
LEVEL = 95.0
CELLS = 16_000_000  # resamples x records per scorer call (bounds memory: ~130 MB of float64 counts)
MIN_FINITE = 0.5  # a row NaN in more resamples than this share (a subset mostly absent) gets no interval
COLUMNS = ["ci_low", "ci_high", "ci_method", "verdict"]
NO_STATISTIC = {"mode"}  # flag rows (judge in use, demo judge, quirks): not estimates


@dataclass(frozen=True)
class TaskIntervals:
    task: str
    method: str  # fast path | scorer per resample | stored per-sample scores | none
    unit: str  # what one draw takes: "sample", or the scorer's RESAMPLE_UNIT
    n_units: int
    rows: dict[Key, tuple[float, float, str]]  # (metric, subset) -> (low, high, ci_method)
    default: str  # ci_method of a row the method does not give
    seconds: float = 0.0


def _units(task: TaskInfo, frame: pd.DataFrame) -> tuple[np.ndarray | None, str]:
    try:
        module = scorer_module(task.scorer)
    except (ModuleNotFoundError, UsageError):
        return None, "sample"
    hook = getattr(module, "resample_units", None)
    if hook is None:
        return None, "sample"
    return np.asarray(hook(frame.reset_index(drop=True))), str(getattr(module, "RESAMPLE_UNIT", "unit"))


def _batch_for(task: TaskInfo) -> tuple[str, Batch | None]:
    """The method and batch scorer: compare's, except that a judge task without a fast path
    uses the rows derivable from its stored per-sample scores (or has none)."""
    name, batch, _ = method(task)
    if name == STORED_SCORES:
        rows = judged.STORED_ROWS.get(task.scorer)
        return (STORED_SCORES, rows) if rows is not None else ("none", None)
    return name, batch


def task_intervals(
    info: RunInfo, task: str, table: pd.DataFrame, n_boot: int = N_BOOT, seed: int = SEED
) -> TaskIntervals:
    """Intervals for the rows of `table` (the task's metric, subset, value rows)."""
    tinfo = info.tasks.get(task) or TaskInfo(task, {}, None)
    if not info.store.samples_path(task).exists():
        return TaskIntervals(task, "none", "sample", 0, {}, "none: no stored records")
    name, batch = _batch_for(tinfo)
    if batch is None:
        why = "none: judge-graded, not derivable from the stored per-sample scores"
        return TaskIntervals(task, name, "sample", 0, {}, why)
    frame = read_frame(info, task)
    settings = tinfo.scoring
    units, unit = _units(tinfo, frame)
    n_units = len(frame) if units is None else len(pd.unique(pd.Series(units, dtype=object)))
    rng = np.random.default_rng([seed, zlib.crc32(task.encode())])  # per task, as compare
    draws: dict[Key, list[np.ndarray]] = {}
    point: dict[Key, np.ndarray] = {}
    for k, counts in enumerate(_calls(unit_counts(units, len(frame), n_boot, rng), len(frame))):
        for key, values in batch(frame, settings, counts).items():
            values = np.asarray(values, dtype=float)
            if k == 0:  # the first row of the first call: every record once, the stored value again
                point[key], values = values[:1], values[1:]
            draws.setdefault(key, []).append(values)
    label = f"percentile bootstrap, {n_boot} resamples of {n_units} {unit}s, {name}"
    rows: dict[Key, tuple[float, float, str]] = {}
    for metric, subset, value in zip(table["metric"], table["subset"], table["value"], strict=True):
        key = (str(metric), str(subset))
        rows[key] = _row(key, float(value), draws.get(key), point.get(key), label, name)
    return TaskIntervals(task, name, unit, n_units, rows, "")


def _calls(blocks: list[np.ndarray], n: int) -> list[np.ndarray]:
    """The resample blocks joined into as few scorer calls as CELLS allows (a scorer's setup, such
    as parsing the answers, is paid per call), the first led by a row of ones (the whole sample)."""
    calls, current = [], [np.ones((1, n), np.int32)]
    for block in blocks:
        if sum(len(c) for c in current) * n + block.size > CELLS and len(current) > 1:
            calls.append(np.vstack(current))
            current = []
        current.append(block)
    calls.append(np.vstack(current))
    return calls


def _row(
    key: Key, value: float, draws: list[np.ndarray] | None, point: np.ndarray | None, label: str, name: str
) -> tuple[float, float, str]:
    nan = float("nan")
    if key[0] in NO_STATISTIC:
        return nan, nan, "none: a flag, not an estimate"
    if draws is None or point is None:
        why = "not derivable from the stored per-sample scores" if name == STORED_SCORES else f"not given by the {name}"
        return nan, nan, f"none: {why}"
    again = float(point[0])
    if not np.isfinite(value):
        return nan, nan, "none: no value"
    if not np.isclose(again, value, rtol=1e-9, atol=1e-9):
        return nan, nan, f"none: the {name} gives {again:.4g} on the stored records, not {value:.4g}"
    d = np.concatenate(draws)
    finite = d[np.isfinite(d)]
    if len(finite) < MIN_FINITE * len(d):
        return nan, nan, "none: the subset is absent from most resamples"
    lo, hi = np.percentile(finite, [(100 - LEVEL) / 2, (100 + LEVEL) / 2])
    return float(lo), float(hi), label


def verdict(paper: float, low: float, high: float) -> str:
    """`consistent` when the paper's value lies in [low, high], else `below` / `above` (the run
    lies below / above the paper); "" without a paper value, `n/a` without an interval."""
    if paper is None or not np.isfinite(paper):
        return ""
    if not (np.isfinite(low) and np.isfinite(high)):
        return "n/a"
    if high < paper:
        return "below"
    if low > paper:
        return "above"
    return "consistent"


def check_n_boot(n_boot: int) -> None:
    if n_boot < 100:
        raise UsageError(f"--n-boot must be at least 100 for a 95% interval, not {n_boot}")


def with_intervals(
    info: RunInfo, scores: pd.DataFrame, n_boot: int = N_BOOT, seed: int = SEED
) -> tuple[pd.DataFrame, list[TaskIntervals]]:
    """`scores` (task, metric, subset, value, ..., paper) with ci_low, ci_high, ci_method, verdict."""
    check_n_boot(n_boot)
    out = scores.drop(columns=[c for c in COLUMNS if c in scores]).copy()
    out["subset"] = out["subset"].fillna("").astype(str)
    lows, highs, methods = [], [], []
    done: list[TaskIntervals] = []
    by_task: dict[str, TaskIntervals] = {}
    for task in dict.fromkeys(out["task"].astype(str)):
        t0 = time.perf_counter()
        try:
            got = task_intervals(info, task, out[out["task"] == task], n_boot, seed)
        except (UsageError, KeyError, ValueError) as exc:  # records the method cannot read: say so, no interval
            got = TaskIntervals(task, "none", "sample", 0, {}, f"none: {exc}")
        by_task[task] = replace(got, seconds=time.perf_counter() - t0)
        done.append(by_task[task])
    for r in out.itertuples():
        ti = by_task[str(r.task)]
        lo, hi, how = ti.rows.get((str(r.metric), str(r.subset)), (np.nan, np.nan, ti.default or "none"))
        lows.append(lo)
        highs.append(hi)
        methods.append(how)
    out["ci_low"], out["ci_high"], out["ci_method"] = lows, highs, methods
    paper = out["paper"] if "paper" in out else pd.Series(np.nan, index=out.index)
    out["verdict"] = [verdict(p, lo, hi) for p, lo, hi in zip(paper, lows, highs, strict=True)]
    return out, done


def add_to_run(info: RunInfo, n_boot: int = N_BOOT, seed: int = SEED) -> tuple[pd.DataFrame, list[TaskIntervals]]:
    """Compute the run's intervals from its stored records and write them into scores.csv/.parquet."""
    scores, done = with_intervals(info, info.store.read_scores(), n_boot, seed)
    info.store.write_scores(scores)
    return scores, done


def run_scores(path: Path, n_boot: int = N_BOOT, seed: int = SEED) -> pd.DataFrame:
    """A run folder's scores with their intervals, computed from its stored records and written back."""
    scores, _ = add_to_run(load_run(Path(path)), n_boot, seed)
    return scores
