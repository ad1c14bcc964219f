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

from .base import Scored, answered, error_rows, predictions, table

PERCEPTION = [
    "existence", "count", "position", "color", "posters",
    "celebrity", "scene", "landmark", "artwork", "OCR",
]  # fmt: skip
COGNITION = ["commonsense_reasoning", "numerical_calculation", "text_translation", "code_reasoning"]


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


def score(records: pd.DataFrame, settings: dict | None = None, judges=None) -> Scored:
    parsed = predictions(records).map(parse)
    labels = records["answer"].astype(str).str.strip().str.lower()
    correct = (parsed == labels).astype(float)
    per_sample = pd.DataFrame({"parsed": parsed, "score": correct})
    if "error" in records:
        per_sample.loc[records["error"].notna(), ["parsed", "score"]] = None

    ok = answered(records)
    frame = pd.DataFrame({"category": ok["category"], "image": ok["question_id"], "correct": correct[ok.index]})
    rows = []
    subtotal = {}
    for cat, g in frame.groupby("category", sort=True):
        acc = g["correct"].mean()
        acc_plus = (g.groupby("image")["correct"].sum() == g.groupby("image")["correct"].size()).mean()
        subtotal[cat] = 100 * (acc + acc_plus)
        rows += [
            ("score", cat, subtotal[cat], len(g)),
            ("acc", cat, 100 * acc, len(g)),
            ("acc_plus", cat, 100 * acc_plus, g["image"].nunique()),
        ]
    n_of = lambda cats: int(frame["category"].isin(cats).sum())  # noqa: E731
    perception = sum(subtotal.get(c, 0.0) for c in PERCEPTION)
    cognition = sum(subtotal.get(c, 0.0) for c in COGNITION)
    rows += [
        ("perception", "", perception, n_of(PERCEPTION)),
        ("cognition", "", cognition, n_of(COGNITION)),
        ("total", "", perception + cognition, len(frame)),
    ]
    rows += error_rows(records)
    return Scored(per_sample, table(rows))


def bootstrap(
    records: pd.DataFrame, settings: dict | None, counts: np.ndarray
) -> dict[tuple[str, str], np.ndarray]:
    """The table's values on many resamples at once (the fast path of `janus-eval compare`).

    `counts[b, i]` is how often record i is drawn in resample b; gives, per (metric, subset),
    the values `score` gives on `records.iloc[np.repeat(range(n), counts[b])]` (an image's
    questions drawn several times must all be right for acc+). A subtask missing from a
    resample is NaN there and adds 0 to its sum, as in `score`.
    """
    parsed = predictions(records).map(parse)
    labels = records["answer"].astype(str).str.strip().str.lower()
    correct = (parsed == labels).to_numpy(dtype=float)
    ok = records["error"].isna().to_numpy() if "error" in records else np.ones(len(records), bool)
    cats = records["category"].astype(str).to_numpy()
    images = records["question_id"].astype(str).to_numpy()
    weights = counts.astype(float)
    n_boot = len(counts)
    out: dict[tuple[str, str], np.ndarray] = {}
    subtotal: dict[str, np.ndarray] = {}
    for cat in sorted(set(cats[ok])):
        rows = np.flatnonzero(ok & (cats == cat))
        w = weights[:, rows]
        size = w.sum(axis=1)
        codes, _ = pd.factorize(images[rows])
        member = np.zeros((len(rows), codes.max() + 1))
        member[np.arange(len(rows)), codes] = 1.0
        drawn = w @ member  # per image: questions drawn
        wrong = w @ (member * (1.0 - correct[rows])[:, None])  # per image: wrong ones drawn
        present = drawn > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            acc = (w @ correct[rows]) / size
            acc_plus = (present & (wrong == 0)).sum(axis=1) / present.sum(axis=1)
        missing = size == 0
        subtotal[cat] = np.where(missing, np.nan, 100 * (acc + acc_plus))
        out[("score", cat)] = subtotal[cat]
        out[("acc", cat)] = np.where(missing, np.nan, 100 * acc)
        out[("acc_plus", cat)] = np.where(missing, np.nan, 100 * acc_plus)

    def total(names: list[str]) -> np.ndarray:
        value = np.zeros(n_boot)
        for name in names:  # same order of additions as `score`
            value = value + np.nan_to_num(subtotal.get(name, np.zeros(n_boot)))
        return value

    out[("perception", "")] = total(PERCEPTION)
    out[("cognition", "")] = total(COGNITION)
    out[("total", "")] = out[("perception", "")] + out[("cognition", "")]
    out[("errors", "")] = weights @ (~ok).astype(float)
    return out
