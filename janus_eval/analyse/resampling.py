"""The bootstrap machinery shared by `compare` (the paired gate) and `intervals` (one run's CIs).

A resample is a row of counts: `counts[b, i]` = how often record i is drawn in resample b.
Records are drawn in blocks of CHUNK resamples (bounding memory). A task's records are scored
on many resamples at once by its scorer's `bootstrap(records, settings, counts)` (the fast
path), else by its `score` once per resample, else (judge tasks without a fast path) by the
mean of the stored per-sample scores. `unit_counts` draws a benchmark's own unit (an MME
image, an MMBench question with its rotations) and gives each record its unit's count.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from janus_eval.core.errors import UsageError
from janus_eval.core.record import SAMPLE_ID, SCORE, SCORER_KEYS, record_id
from janus_eval.store.run_info import RunInfo, TaskInfo
from janus_eval.tasks.registry import get_bootstrap, get_scorer

STORED = ("sample_score_mean", "")  # the stand-in metric of judge tasks without a fast path
CHUNK = 200  # resamples drawn and scored per block (bounds memory: CHUNK x n counts)
FAST, PER_RESAMPLE, STORED_SCORES = "fast path", "scorer per resample", "stored per-sample scores"

Key = tuple[str, str]
Batch = Callable[[pd.DataFrame, dict, np.ndarray], dict[Key, np.ndarray]]
Full = Callable[[pd.DataFrame, dict], dict[Key, float]]


def read_frame(info: RunInfo, task: str) -> pd.DataFrame:
    """A task's stored records, one row per sample id (a repeated id keeps its last record),
    without `parsed` / `score`; the stored per-sample scores are in `attrs["stored_score"]`."""
    records = info.store.read_records(task)
    by_id: dict[str, dict[str, Any]] = {}
    for n, rec in enumerate(records, start=1):
        sid = record_id(rec)
        if sid is None:
            raise UsageError(f"{info.store.samples_path(task)}:{n}: record has no sample_id; rescore the run")
        by_id[sid] = rec  # a repeated id (a resumed run) keeps its last record
    frame = pd.DataFrame.from_records(list(by_id.values())).drop(columns=list(SCORER_KEYS), errors="ignore")
    if "error" not in frame:
        frame["error"] = None
    frame["error"] = frame["error"].astype(object).where(frame["error"].notna(), None)
    frame.index = pd.Index(list(by_id), name=SAMPLE_ID)
    stored = pd.Series([r.get(SCORE) for r in by_id.values()], index=frame.index, dtype=float)
    frame.attrs["stored_score"] = stored
    return frame


def draw_counts(n: int, n_boot: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Resample multiplicities: block k holds counts[b, i] = times record i is drawn in resample b."""
    blocks = []
    for start in range(0, n_boot, CHUNK):
        b = min(CHUNK, n_boot - start)
        draws = rng.integers(0, n, size=(b, n)) + (np.arange(b) * n)[:, None]
        blocks.append(np.bincount(draws.ravel(), minlength=b * n).reshape(b, n).astype(np.int32))
    return blocks


def unit_counts(units: np.ndarray | None, n: int, n_boot: int, rng: np.random.Generator) -> list[np.ndarray]:
    """`draw_counts` over a benchmark's units (`units[i]`: record i's unit; None: one per record),
    each record given its unit's count, so a unit's records are drawn together."""
    if units is None:
        return draw_counts(n, n_boot, rng)
    codes, uniques = pd.factorize(pd.Series(units, dtype=object))
    if len(codes) != n:
        raise ValueError(f"resample_units gave {len(codes)} units for {n} records")
    return [block[:, codes] for block in draw_counts(len(uniques), n_boot, rng)]


def per_resample(score: Callable[..., Any]) -> Batch:
    """Any scorer: one call per resample (exact, slower)."""

    def run(frame: pd.DataFrame, settings: dict, counts: np.ndarray) -> dict[Key, np.ndarray]:
        out: dict[Key, np.ndarray] = {}
        positions = np.arange(len(frame))
        for b, row in enumerate(counts):
            table = score(frame.iloc[np.repeat(positions, row)].reset_index(drop=True), settings, None).table
            for metric, subset, value in zip(table["metric"], table["subset"].fillna(""), table["value"], strict=True):
                out.setdefault((str(metric), str(subset)), np.full(len(counts), np.nan))[b] = value
        return out

    return run


def stored_mean(frame: pd.DataFrame, settings: dict, counts: np.ndarray) -> dict[Key, np.ndarray]:
    """The mean of the stored per-sample scores (x100) and the errors count, per resample."""
    score = frame.attrs["stored_score"].to_numpy(dtype=float)
    have = ~np.isnan(score)
    w = counts.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = 100 * (w @ np.where(have, score, 0.0)) / (w @ have.astype(float))
    return {STORED: value, ("errors", ""): w @ frame["error"].notna().to_numpy(dtype=float)}


def needs_judge(task: TaskInfo) -> bool:
    return task.requires_judge or task.kind == "generation"


def method(task: TaskInfo) -> tuple[str, Batch, Full]:
    """How to score a task's records: (method name, batch scorer, full-set scorer)."""
    judged = needs_judge(task)
    try:
        score = get_scorer(task.scorer)
    except (ModuleNotFoundError, UsageError) as exc:  # a scorer this install does not have
        if not judged:
            raise UsageError(
                f"task {task.name}: its scorer '{task.scorer}' cannot be imported ({exc})"
            ) from exc
        score = None
    hook = get_bootstrap(task.scorer) if score is not None else None

    def full(frame: pd.DataFrame, settings: dict) -> dict[Key, float]:
        if judged:  # the stored verdicts, through the fast path when the scorer has one
            batch = hook if hook is not None else stored_mean
            return {
                k: float(v[0]) for k, v in batch(frame, settings, np.ones((1, len(frame)), np.int32)).items()
            }
        if score is None:  # a judge task without its scorer: handled above
            raise UsageError(f"task {task.name}: its scorer '{task.scorer}' cannot be imported")
        try:
            table = score(frame.reset_index(drop=True), settings, None).table
        except KeyError as exc:
            raise UsageError(
                f"task {task.name}: the records have no column {exc}, which its scorer needs"
            ) from exc
        return {
            (str(m), str(s)): float(v)
            for m, s, v in zip(table["metric"], table["subset"].fillna(""), table["value"], strict=True)
        }

    if hook is not None:
        return FAST, hook, full
    if judged:
        return STORED_SCORES, stored_mean, full
    if score is None:  # not a judge task: its scorer was imported above, or a UsageError raised
        raise UsageError(f"task {task.name}: its scorer '{task.scorer}' cannot be imported")
    return PER_RESAMPLE, per_resample(score), full
