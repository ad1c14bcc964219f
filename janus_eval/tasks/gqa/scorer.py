"""GQA testdev-balanced: exact match, the rule of LLaVA's GQA evaluation.

The prediction and the label are stripped, trailing periods are removed and both
are lowercased; the answer is right when they are then equal (the official
GQA `eval.py` then compares exactly). Accuracy in percent.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from janus_eval.score.base import (
    Scored,
    answered,
    blank_unanswered,
    error_rows,
    percent,
    predictions,
    resampled_count,
    resampled_percent,
    table,
    unanswered,
)


def normalize(text: str) -> str:
    return str(text).strip().rstrip(".").strip().lower()


def _correct(records: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    parsed = predictions(records).map(normalize)
    return parsed, (parsed == records["answer"].map(normalize)).astype(float)


def score(records: pd.DataFrame, settings: dict | None = None, judges=None) -> Scored:
    parsed, correct = _correct(records)
    per_sample = blank_unanswered(pd.DataFrame({"parsed": parsed, "score": correct}), records)
    ok = answered(records).index
    rows = [("accuracy", "", percent(correct[ok]), len(ok))]
    rows += error_rows(records)
    return Scored(per_sample, table(rows))


def bootstrap(
    records: pd.DataFrame, settings: dict | None, counts: np.ndarray
) -> dict[tuple[str, str], np.ndarray]:
    """`score`'s values on many resamples at once (`counts[b, i]`: draws of record i in
    resample b), from each record's correctness, parsed once (the fast path of `compare`)."""
    _, correct = _correct(records)
    missing = unanswered(records).to_numpy()
    return {
        ("accuracy", ""): resampled_percent(counts, ~missing, correct.to_numpy()),
        ("errors", ""): resampled_count(counts, missing),
    }
