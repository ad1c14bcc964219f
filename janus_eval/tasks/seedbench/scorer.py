"""SEED-Bench (v1), image subset: multiple choice A-D.

The letter is read from the answer with the exact-matching rules shared with
MMBench (`choices.extract_choice`: a lone letter such as `B`, `B.`, `(B)`, else
the text of exactly one option); an answer naming no option is unparsed, counted
in the table and wrong. Accuracy in percent over all image questions (pooled, as
the official leaderboard and lmms-eval's `seed_image` report it) and per
evaluation dimension (`question_type_id` 1-9, names from the SEED-Bench repo's
DATASET.md). Video questions (`data_type` other than `image`), if any reach the
scorer, are left out of the metrics.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from janus_eval.core.metric import Metric
from janus_eval.score.base import (
    ERRORS,
    UNPARSED,
    Measured,
    Scored,
    blank_unanswered,
    count,
    errors,
    every_record,
    predictions,
    share,
    table_of,
    unanswered,
    values_of,
)
from janus_eval.score.choices import extract_choice
from janus_eval.score.contract import Field, id_field
from janus_eval.score.options import is_missing

METRICS = (Metric("accuracy", True, "percent"), UNPARSED, ERRORS)
DIMENSIONS = {
    1: "Scene Understanding",
    2: "Instance Identity",
    3: "Instance Attributes",
    4: "Instance Location",
    5: "Instances Counting",
    6: "Spatial Relation",
    7: "Instance Interaction",
    8: "Visual Reasoning",
    9: "Text Understanding",
}
OPTION_COLUMNS = {"A": "choice_a", "B": "choice_b", "C": "choice_c", "D": "choice_d"}


def row_choices(row: Mapping[str, Any]) -> dict[str, str]:
    return {k: str(row[c]) for k, c in OPTION_COLUMNS.items() if c in row and not is_missing(row[c])}


def dimension_name(type_id) -> str:
    try:
        tid = int(type_id)
    except (TypeError, ValueError):
        return str(type_id)
    return f"{tid} {DIMENSIONS.get(tid, 'unknown')}"


def _parse(records: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """The letter read from each answer (None: unparsed) and whether it is right (0/1)."""
    preds = predictions(records)
    parsed = pd.Series(
        [extract_choice(pred, row_choices(row)) for pred, row in zip(preds.tolist(), records.to_dict("records"))],
        index=records.index,
        dtype=object,
    )
    labels = records["answer"].astype(str).str.strip().str.upper()
    return parsed, (parsed == labels).astype(float)


def _dimension_order(name: str) -> tuple[int, str]:
    return len(name.split()[0]), name


def measure(records: pd.DataFrame, parsed: pd.Series, correct: pd.Series, counts: np.ndarray) -> Measured:
    """Every metric per resample (`counts[b, i]`: draws of record i in resample b): accuracy over
    the answered image questions, pooled and per dimension (NaN where none is drawn)."""
    ok = ~unanswered(records).to_numpy()
    if "data_type" in records:
        ok &= (records["data_type"].astype(str) == "image").to_numpy()
    right = correct.to_numpy()
    out = {("accuracy", ""): share(counts, ok, right)}
    if "question_type_id" in records:
        dims = records["question_type_id"].map(dimension_name).to_numpy()
        for name in sorted(set(dims[ok]), key=_dimension_order):
            out[("accuracy", name)] = share(counts, ok & (dims == name), right)
    out[(UNPARSED.name, "")] = count(counts, ok & parsed.isna().to_numpy(), ok)
    out[(ERRORS.name, "")] = errors(counts, records)
    return out


def score(records: pd.DataFrame, settings: dict | None = None, judges=None) -> Scored:
    parsed, correct = _parse(records)
    per_sample = blank_unanswered(pd.DataFrame({"parsed": parsed, "score": correct}), records)
    return Scored(per_sample, table_of(measure(records, parsed, correct, every_record(records))))


def bootstrap(
    records: pd.DataFrame, settings: dict | None, counts: np.ndarray
) -> dict[tuple[str, str], np.ndarray]:
    """`score`'s values on many resamples at once (`counts[b, i]`: draws of record i in
    resample b): the answers are parsed once, each resample weighs their correctness
    (the fast path of `compare`). A dimension none of whose questions is drawn is NaN."""
    return values_of(measure(records, *_parse(records), counts))


# --- the samples contract (score/contract.py): what this scorer reads from a samples file ---
SAMPLE_FIELDS = (
    id_field("question_id"),
    Field("answer", allowed=tuple(OPTION_COLUMNS), normalise=str.strip, required=True, nullable=False),
    *(Field(column) for column in OPTION_COLUMNS.values()),
    Field("question"),
    Field("data_type", allowed=("image", "video")),
    Field("question_type_id", kinds=(int, str)),
)


def check_sample(row: dict) -> str | None:
    """A dimension is 1-12 (its number, as an integer or a string of one)."""
    value = row.get("question_type_id")
    if value is None or str(value).strip().isdigit() and 1 <= int(value) <= 12:
        return None
    return f"field 'question_type_id' is {value!r}; it should be a SEED-Bench dimension 1-12"
