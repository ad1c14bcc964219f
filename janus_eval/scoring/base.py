"""The scorer contract.

A scorer is a pure function `score(records, settings, judges) -> Scored`:

- `records`: a DataFrame with one row per sample in the samples-JSONL contract
  (the dataset row's text columns under their HF names, `prediction` the raw
  model output, `id`, and `error`: a message or None when the model could not be
  asked, e.g. an unreadable image).
- `settings`: the task's `scoring` mapping from its YAML (may be empty).
- `judges`: the outside models a scorer may need (`janus_eval.judges.Judges`),
  or None.

It returns per-sample columns (`parsed`, `score`, same index as `records`) and a
long table with columns `metric, subset, value, n`. Values are on the scale the
benchmark reports (percent for accuracies, points for MME). `subset` is "" for
an overall figure.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

TABLE_COLUMNS = ["metric", "subset", "value", "n"]


@dataclass
class Scored:
    per_sample: pd.DataFrame  # columns: parsed, score; index = records.index
    table: pd.DataFrame  # columns: metric, subset, value, n


def table(rows: list[tuple[str, str, float, int]]) -> pd.DataFrame:
    """Build a score table from (metric, subset, value, n) tuples."""
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def predictions(records: pd.DataFrame) -> pd.Series:
    """The predictions as strings; a sample that errored counts as an empty answer."""
    if "prediction" not in records:
        return pd.Series([""] * len(records), index=records.index, dtype=object)
    return records["prediction"].fillna("").astype(str)


def error_rows(records: pd.DataFrame) -> list[tuple[str, str, float, int]]:
    """One `errors` row counting the samples the model could not be asked (0 shown too)."""
    n_err = int(records["error"].notna().sum()) if "error" in records else 0
    return [("errors", "", float(n_err), len(records))]


def answered(records: pd.DataFrame) -> pd.DataFrame:
    """The records the model was asked; errored ones are left out of the metrics
    and counted in the `errors` row instead."""
    if "error" not in records:
        return records
    return records[records["error"].isna()]
