"""MME, with the rules of the official `calculation.py` (MME eval_tool).

The answer is lowercased; an exact `yes`/`no` is taken as it is, else `yes` then
`no` is looked for in its first 4 characters, else it is `other` (wrong). Per
subtask the score is 100 x (acc + acc+), acc+ being the share of images (the
`question_id`, shared by an image's two questions) with both questions right.
Perception and cognition are the sums of their subtasks' scores.
"""

from __future__ import annotations

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
