"""MME, with the rules of the official `calculation.py` (MME eval_tool).

The answer is lowercased; an exact `yes`/`no` is taken as it is, else `yes` then
`no` is looked for in its first 4 characters, else it is `other` (wrong). Per
subtask the score is 100 x (acc + acc+), acc+ being the share of images (the
`question_id`, shared by an image's two questions) with both questions right.
Perception and cognition are the sums of their subtasks' scores.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from janus_eval.core.metric import Metric
from janus_eval.score.base import (
    ERRORS,
    Measured,
    Scored,
    blank_unanswered,
    errors,
    every_record,
    predictions,
    table_of,
    unanswered,
    values_of,
)
from janus_eval.score.contract import Field, id_field, yes_no

PERCEPTION = [
    "existence", "count", "position", "color", "posters",
    "celebrity", "scene", "landmark", "artwork", "OCR",
]  # fmt: skip
COGNITION = ["commonsense_reasoning", "numerical_calculation", "text_translation", "code_reasoning"]

METRICS = (
    Metric("score", True, "points"),  # 100 x (acc + acc+): 0-200 per subtask
    Metric("acc", True, "percent"),
    Metric("acc_plus", True, "percent"),
    Metric("perception", True, "points"),
    Metric("cognition", True, "points"),
    Metric("total", True, "points"),
    ERRORS,
)


def parse(text: str) -> str:
    text = text.lower()
    if text in ("yes", "no"):
        return text
    head = text[:4]
    if "yes" in head:
        return "yes"
    if "no" in head:
        return "no"
    return "other"


def measure(records: pd.DataFrame, correct: np.ndarray, counts: np.ndarray) -> Measured:
    """Every metric per resample (`counts[b, i]`: draws of record i in resample b). acc+ is over
    the images drawn: an image's questions drawn several times must all be right. A subtask
    missing from a resample is NaN there and adds 0 to its part; a part with none of its
    subtasks drawn is NaN, the total (the sum of the parts) only when nothing is drawn."""
    ok = ~unanswered(records).to_numpy()
    cats = records["category"].astype(str).to_numpy()
    images = records["question_id"].astype(str).to_numpy()
    weights = counts.astype(float)
    n_boot = len(counts)
    out: Measured = {}
    subtotal: dict[str, np.ndarray] = {}
    for cat in sorted(set(cats[ok & records["category"].notna().to_numpy()])):
        rows = np.flatnonzero(ok & (cats == cat))
        w = weights[:, rows]
        size = w.sum(axis=1)
        codes, _ = pd.factorize(images[rows])
        member = np.zeros((len(rows), codes.max() + 1))
        member[np.arange(len(rows)), codes] = 1.0
        drawn = w @ member  # per image: questions drawn
        wrong = w @ (member * (1.0 - correct[rows])[:, None])  # per image: wrong ones drawn
        present = drawn > 0
        n_images = present.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            acc = (w @ correct[rows]) / size
            acc_plus = (present & (wrong == 0)).sum(axis=1) / n_images
        missing = size == 0
        subtotal[cat] = np.where(missing, np.nan, 100 * (acc + acc_plus))
        out[("score", cat)] = (subtotal[cat], size)
        out[("acc", cat)] = (np.where(missing, np.nan, 100 * acc), size)
        out[("acc_plus", cat)] = (np.where(missing, np.nan, 100 * acc_plus), n_images)

    def part(names: list[str]) -> tuple[np.ndarray, np.ndarray]:
        value = np.zeros(n_boot)
        for name in names:  # in the list's order
            value = value + np.nan_to_num(subtotal.get(name, np.full(n_boot, np.nan)))
        n = weights @ (ok & np.isin(cats, names)).astype(float)
        return np.where(n > 0, value, np.nan), n

    (perception, n_p), (cognition, n_c) = part(PERCEPTION), part(COGNITION)
    out[("perception", "")], out[("cognition", "")] = (perception, n_p), (cognition, n_c)
    answered = weights @ ok.astype(float)
    total = np.nan_to_num(perception) + np.nan_to_num(cognition)
    out[("total", "")] = (np.where(answered > 0, total, np.nan), answered)
    out[(ERRORS.name, "")] = errors(counts, records)
    return out


def _correct(records: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    parsed = predictions(records).map(parse)
    labels = records["answer"].astype(str).str.strip().str.lower()
    return parsed, (parsed == labels).astype(float)


def score(records: pd.DataFrame, settings: dict | None = None, judges=None) -> Scored:
    parsed, correct = _correct(records)
    per_sample = blank_unanswered(pd.DataFrame({"parsed": parsed, "score": correct}), records)
    return Scored(per_sample, table_of(measure(records, correct.to_numpy(), every_record(records))))


def bootstrap(
    records: pd.DataFrame, settings: dict | None, counts: np.ndarray
) -> dict[tuple[str, str], np.ndarray]:
    """`score`'s values on many resamples at once (the fast path of `janus-eval compare`): the
    answers parsed once, the same `measure`."""
    return values_of(measure(records, _correct(records)[1].to_numpy(), counts))


RESAMPLE_UNIT = "image"


def resample_units(records: pd.DataFrame) -> np.ndarray:
    """The bootstrap's unit (intervals): an image, so both its questions are drawn together and acc+ holds."""
    return records["question_id"].astype(str).to_numpy()


# --- the samples contract (score/contract.py): what this scorer reads from a samples file ---
SAMPLE_FIELDS = (
    id_field("question_id"),
    Field("question", required=True, nullable=False),
    Field("category", allowed=(*PERCEPTION, *COGNITION), required=True, nullable=False),
    Field("answer", allowed=("yes", "no"), normalise=yes_no, required=True, nullable=False),
)
