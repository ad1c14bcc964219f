"""GQA testdev-balanced: exact match, the rule of LLaVA's GQA evaluation.

The prediction and the label are stripped, trailing periods are removed and both
are lowercased; the answer is right when they are then equal (the official
GQA `eval.py` then compares exactly). Accuracy in percent.
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
    share,
    table_of,
    unanswered,
    values_of,
)
from janus_eval.score.contract import Field, id_field

METRICS = (Metric("accuracy", True, "percent"), ERRORS)


def normalize(text: str) -> str:
    return str(text).strip().rstrip(".").strip().lower()


def _correct(records: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    parsed = predictions(records).map(normalize)
    return parsed, (parsed == records["answer"].map(normalize)).astype(float)


def measure(records: pd.DataFrame, correct: pd.Series, counts: np.ndarray) -> Measured:
    """Every metric per resample (`counts[b, i]`: draws of record i in resample b)."""
    return {
        ("accuracy", ""): share(counts, ~unanswered(records).to_numpy(), correct.to_numpy()),
        (ERRORS.name, ""): errors(counts, records),
    }


def score(records: pd.DataFrame, settings: dict | None = None, judges=None) -> Scored:
    parsed, correct = _correct(records)
    per_sample = blank_unanswered(pd.DataFrame({"parsed": parsed, "score": correct}), records)
    return Scored(per_sample, table_of(measure(records, correct, every_record(records))))


def bootstrap(
    records: pd.DataFrame, settings: dict | None, counts: np.ndarray
) -> dict[tuple[str, str], np.ndarray]:
    """`score`'s values on many resamples at once (`counts[b, i]`: draws of record i in
    resample b), from each record's correctness, parsed once (the fast path of `compare`)."""
    return values_of(measure(records, _correct(records)[1], counts))


# --- the samples contract (score/contract.py): what this scorer reads from a samples file ---
SAMPLE_FIELDS = (
    id_field("id"),
    Field("answer", required=True, nullable=False),
    Field("question"),
)
