"""The rows of judge-graded tasks that their stored per-sample scores determine, per resample.

MM-Vet, GenEval and DPG-Bench are graded by judges (an LLM, a detector + CLIP, a VQA model)
and have no `bootstrap` fast path, so a resample cannot be rescored; but each record keeps its
`score` (MM-Vet: the grade, 0-1; GenEval: the share of its images judged right; DPG-Bench: the
prompt's score), and some rows are plain functions of those:

- MM-Vet: `total`, `capability/*` and `integration/*` (means over the graded questions);
- GenEval: `accuracy/<tag>` (right images / images), `overall` (the mean of the tag means),
  `images_correct`, `prompts_correct` (a prompt with any image right);
- DPG-Bench: `overall` (the mean prompt score);
- each: `errors`.

The other rows (DPG-Bench's categories, judge-error counts, MM-Vet's spread over gradings) are
left without an interval by `intervals.py`. Every row is checked there against the stored
table on the whole sample, so a derivation that drifted from its scorer gives no interval.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from janus_eval.score.base import resampled_count, unanswered
from janus_eval.tasks.geneval.scorer import TAGS
from janus_eval.tasks.geneval.scorer import _paths as geneval_paths
from janus_eval.tasks.mmvet.scorer import CAPABILITIES, capabilities_of

Key = tuple[str, str]


def _mean100(w: np.ndarray, member: np.ndarray, score: np.ndarray) -> np.ndarray:
    drawn = w @ member.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(drawn > 0, 100 * (w @ np.where(member, score, 0.0)) / drawn, np.nan)


def _stored(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    score = frame.attrs["stored_score"].to_numpy(dtype=float)
    return score, np.isfinite(score) & ~unanswered(frame).to_numpy()


def mmvet(frame: pd.DataFrame, settings: dict, counts: np.ndarray) -> dict[Key, np.ndarray]:
    score, graded = _stored(frame)
    w = counts.astype(float)
    caps = [capabilities_of(v) for v in frame["capability"]] if "capability" in frame else [[]] * len(frame)
    out = {("total", ""): _mean100(w, graded, score)}
    present = {c for cs, g in zip(caps, graded, strict=True) if g for c in cs}
    for cap in CAPABILITIES + sorted(present - set(CAPABILITIES)):
        member = graded & np.array([cap in cs for cs in caps], dtype=bool)
        if member.any():
            out[("capability", cap)] = _mean100(w, member, score)
    combos = np.array([",".join(cs) for cs in caps], dtype=object)
    for combo in sorted(set(combos[graded])):
        out[("integration", combo)] = _mean100(w, graded & (combos == combo), score)
    out[("errors", "")] = resampled_count(counts, unanswered(frame).to_numpy())
    return out


def geneval(frame: pd.DataFrame, settings: dict, counts: np.ndarray) -> dict[Key, np.ndarray]:
    score, judged = _stored(frame)
    images = np.array([len(geneval_paths(v)) for v in frame["images"]], dtype=float) * judged
    right = np.round(np.where(judged, score, 0.0) * images)  # a prompt's images judged right
    tags = frame["tag"].astype(str).to_numpy()
    w = counts.astype(float)
    out: dict[Key, np.ndarray] = {}
    present = set(tags[images > 0])
    tag_means = []
    for tag in [t for t in TAGS if t in present] + sorted(present - set(TAGS)):
        member = (tags == tag).astype(float)
        drawn = w @ (member * images)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(drawn > 0, (w @ (member * right)) / drawn, np.nan)
        out[("accuracy", tag)] = 100 * mean
        tag_means.append(mean)
    if tag_means:
        stacked = np.vstack(tag_means)
        n_tags = np.isfinite(stacked).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[("overall", "")] = np.where(n_tags > 0, 100 * np.nansum(stacked, axis=0) / n_tags, np.nan)
        total = w @ images
        with np.errstate(invalid="ignore", divide="ignore"):
            out[("images_correct", "")] = np.where(total > 0, 100 * (w @ right) / total, np.nan)
        out[("prompts_correct", "")] = _mean100(w, images > 0, (right > 0).astype(float))
    out[("errors", "")] = resampled_count(counts, unanswered(frame).to_numpy())
    return out


def dpgbench(frame: pd.DataFrame, settings: dict, counts: np.ndarray) -> dict[Key, np.ndarray]:
    score, scored = _stored(frame)
    return {
        ("overall", ""): _mean100(counts.astype(float), scored, score),
        ("errors", ""): resampled_count(counts, unanswered(frame).to_numpy()),
    }


STORED_ROWS: dict[str, Callable[[pd.DataFrame, dict, np.ndarray], dict[Key, np.ndarray]]] = {
    "mmvet": mmvet,
    "geneval": geneval,
    "dpgbench": dpgbench,
}
