"""GQA testdev-balanced: exact match, the rule of LLaVA's GQA evaluation.

The prediction and the label are stripped, trailing periods are removed and both
are lowercased; the answer is right when they are then equal (the official
GQA `eval.py` then compares exactly). Accuracy in percent.
"""

from __future__ import annotations

import pandas as pd

from .base import Scored, answered, blank_unanswered, error_rows, percent, predictions, table


def normalize(text: str) -> str:
    return str(text).strip().rstrip(".").strip().lower()


def score(records: pd.DataFrame, settings: dict | None = None, judges=None) -> Scored:
    parsed = predictions(records).map(normalize)
    labels = records["answer"].map(normalize)
    correct = (parsed == labels).astype(float)
    per_sample = blank_unanswered(pd.DataFrame({"parsed": parsed, "score": correct}), records)
    ok = answered(records).index
    rows = [("accuracy", "", percent(correct[ok]), len(ok))]
    rows += error_rows(records)
    return Scored(per_sample, table(rows))
