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

import pandas as pd

from ..options import is_missing
from .base import Scored, answered, blank_unanswered, error_rows, percent, predictions, table
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


def row_choices(row: pd.Series) -> dict[str, str]:
    return {k: str(row[c]) for k, c in OPTION_COLUMNS.items() if c in row and not is_missing(row[c])}


def dimension_name(type_id) -> str:
    try:
        tid = int(type_id)
    except (TypeError, ValueError):
        return str(type_id)
    return f"{tid} {DIMENSIONS.get(tid, 'unknown')}"


def score(records: pd.DataFrame, settings: dict | None = None, judges=None) -> Scored:
    preds = predictions(records)
    parsed = pd.Series(
        [extract_choice(preds[i], row_choices(records.loc[i])) for i in records.index],
        index=records.index,
        dtype=object,
    )
    labels = records["answer"].astype(str).str.strip().str.upper()
    correct = (parsed == labels).astype(float)
    per_sample = blank_unanswered(pd.DataFrame({"parsed": parsed, "score": correct}), records)

    ok = answered(records)
    if "data_type" in ok:
        ok = ok[ok["data_type"].astype(str) == "image"]
    idx = ok.index
    rows = [("accuracy", "", percent(correct[idx]), len(idx))]
    if "question_type_id" in ok:
        dims = ok["question_type_id"].map(dimension_name)
        for name in sorted(dims.unique(), key=lambda s: (len(s.split()[0]), s)):
            sub = dims.index[dims == name]
            rows.append(("accuracy", name, percent(correct[sub]), len(sub)))
    rows.append(("unparsed", "", float(parsed[idx].isna().sum()), len(idx)))
    rows += error_rows(records)
    return Scored(per_sample, table(rows))
