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

from janus_eval.score.base import Scored, answered, blank_unanswered, error_rows, predictions, table, unanswered

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
    per_sample = blank_unanswered(pd.DataFrame({"parsed": parsed, "score": correct}), records)

    ok = answered(records)
    frame = pd.DataFrame(
        {"category": ok["category"], "image": ok["question_id"], "correct": correct[ok.index]}
    )
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

    def part(cats: list[str]) -> float:  # a missing subtask adds 0; none at all: NaN, not 0
        return sum(subtotal.get(c, 0.0) for c in cats) if n_of(cats) else float("nan")

    perception, cognition = part(PERCEPTION), part(COGNITION)
    total = perception + cognition if len(frame) else float("nan")
    if len(frame) and (np.isnan(perception) or np.isnan(cognition)):
        total = np.nansum([perception, cognition])  # only one half evaluated: the total is that half
    rows += [
        ("perception", "", perception, n_of(PERCEPTION)),
        ("cognition", "", cognition, n_of(COGNITION)),
        ("total", "", float(total), len(frame)),
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
    resample is NaN there and adds 0 to its sum, as in `score` (a part with none drawn is NaN).
    """
    parsed = predictions(records).map(parse)
    labels = records["answer"].astype(str).str.strip().str.lower()
    correct = (parsed == labels).to_numpy(dtype=float)
    ok = ~unanswered(records).to_numpy()
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
        value, present = np.zeros(n_boot), np.zeros(n_boot, bool)
        for name in names:  # same order of additions as `score`
            sub = subtotal.get(name, np.full(n_boot, np.nan))
            value = value + np.nan_to_num(sub)
            present |= ~np.isnan(sub)
        return np.where(present, value, np.nan)  # no subtask of the part drawn: NaN, as in `score`

    perception, cognition = total(PERCEPTION), total(COGNITION)
    out[("perception", "")], out[("cognition", "")] = perception, cognition
    out[("total", "")] = np.where(
        np.isnan(perception) & np.isnan(cognition),
        np.nan,
        np.nan_to_num(perception) + np.nan_to_num(cognition),
    )
    out[("errors", "")] = weights @ (~ok).astype(float)
    return out
