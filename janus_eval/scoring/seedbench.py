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

from ..options import is_missing
from .base import (
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
from .choices import extract_choice

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


def score(records: pd.DataFrame, settings: dict | None = None, judges=None) -> Scored:
    parsed, correct = _parse(records)
    per_sample = blank_unanswered(pd.DataFrame({"parsed": parsed, "score": correct}), records)

    ok = answered(records)
    if "data_type" in ok:
        ok = ok[ok["data_type"].astype(str) == "image"]
    idx = ok.index
    rows = [("accuracy", "", percent(correct[idx]), len(idx))]
    if "question_type_id" in ok:
        dims = ok["question_type_id"].map(dimension_name)
        for name in sorted(dims.unique(), key=_dimension_order):
            sub = dims.index[dims == name]
            rows.append(("accuracy", name, percent(correct[sub]), len(sub)))
    rows.append(("unparsed", "", float(parsed[idx].isna().sum()), len(idx)))
    rows += error_rows(records)
    return Scored(per_sample, table(rows))


def bootstrap(
    records: pd.DataFrame, settings: dict | None, counts: np.ndarray
) -> dict[tuple[str, str], np.ndarray]:
    """`score`'s values on many resamples at once (`counts[b, i]`: draws of record i in
    resample b): the answers are parsed once, each resample weighs their correctness
    (the fast path of `compare`). A dimension none of whose questions is drawn is NaN."""
    parsed, correct = _parse(records)
    missing = unanswered(records).to_numpy()
    ok = ~missing
    if "data_type" in records:
        ok &= (records["data_type"].astype(str) == "image").to_numpy()
    right = correct.to_numpy()
    out = {("accuracy", ""): resampled_percent(counts, ok, right)}
    if "question_type_id" in records:
        dims = records["question_type_id"].map(dimension_name).to_numpy()
        for name in sorted(set(dims[ok]), key=_dimension_order):
            out[("accuracy", name)] = resampled_percent(counts, ok & (dims == name), right)
    out[("unparsed", "")] = resampled_count(counts, ok & parsed.isna().to_numpy())
    out[("errors", "")] = resampled_count(counts, missing)
    return out
