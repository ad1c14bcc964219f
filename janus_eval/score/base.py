"""The scorer contract.

A scorer is a pure function `score(records, settings, judges) -> Scored`:

- `records`: a DataFrame with one row per sample in the samples-JSONL contract
  (the dataset row's text columns under their HF names, `prediction` the raw
  model output, `sample_id`, and `error`: a message or None when the model could
  not be asked, e.g. an unreadable image).
- `settings`: the task's `scoring` mapping from its YAML (may be empty).
- `judges`: the outside models a scorer may need (`janus_eval.judges.Judges`),
  or None.

It returns per-sample columns (`parsed`, `score`, same index as `records`) and a
long table with columns `metric, subset, value, n`. Values are on the scale the
benchmark reports (percent for accuracies, points for MME). `subset` is "" for
an overall figure.

Unanswered samples — `error` set, or `prediction` null (`"prediction": null` in
an external samples file) — are one case, decided once here (`unanswered`):
they are left out of every metric (`answered`), counted in the `errors` row
(`error_rows`), and their `parsed`/`score` are None (`blank_unanswered`). A
metric over no samples is NaN with n = 0 (`percent`), never a silent 0.

A scorer may also offer `bootstrap(records, settings, counts)`: the table's
values on many resamples at once (`counts[b, i]`: how often record i is drawn in
resample b), equal to what `score` gives on each resampled frame — the fast path
of `janus-eval compare`. `resampled_percent` and `resampled_count` are its parts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from janus_eval.core.record import ERROR, PARSED, PREDICTION, SCORER_KEYS

TABLE_COLUMNS = ["metric", "subset", "value", "n"]


@dataclass
class Scored:
    per_sample: pd.DataFrame  # columns: parsed, score; index = records.index
    table: pd.DataFrame  # columns: metric, subset, value, n


def table(rows: list[tuple[str, str, float, int]]) -> pd.DataFrame:
    """Build a score table from (metric, subset, value, n) tuples."""
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def unanswered(records: pd.DataFrame) -> pd.Series:
    """True for the samples without an answer: the model could not be asked (`error`
    set) or the record holds no prediction (`prediction` null)."""
    mask = pd.Series(False, index=records.index, dtype=bool)
    if ERROR in records:
        mask |= records[ERROR].notna()
    if PREDICTION in records:
        mask |= records[PREDICTION].isna()
    return mask


def answered(records: pd.DataFrame) -> pd.DataFrame:
    """The records with an answer; the others are left out of the metrics and
    counted in the `errors` row instead."""
    return records[~unanswered(records)]


def error_rows(records: pd.DataFrame) -> list[tuple[str, str, float, int]]:
    """One `errors` row counting the unanswered samples (0 shown too)."""
    return [("errors", "", float(unanswered(records).sum()), len(records))]


def predictions(records: pd.DataFrame) -> pd.Series:
    """The predictions as strings ("" for an unanswered sample, which `answered`
    leaves out of the metrics and `blank_unanswered` blanks)."""
    if PREDICTION not in records:
        return pd.Series([""] * len(records), index=records.index, dtype=object)
    return records[PREDICTION].fillna("").astype(str)


def blank_unanswered(per_sample: pd.DataFrame, records: pd.DataFrame) -> pd.DataFrame:
    """`per_sample` with `parsed` and `score` set to None for the unanswered samples."""
    per_sample = per_sample.astype({PARSED: object})  # a string column would turn None into NaN
    per_sample.loc[unanswered(records), list(SCORER_KEYS)] = None
    return per_sample


def percent(values) -> float:
    """100 x the mean of 0/1 (or graded) values; NaN when there are none (never a silent 0)."""
    values = pd.Series(values, dtype=float)
    return 100 * float(values.mean()) if len(values) else float("nan")


def resampled_count(counts: np.ndarray, member: np.ndarray) -> np.ndarray:
    """Per resample: how many drawn records have `member` (bool or 0/1 per record)."""
    return counts.astype(float) @ np.asarray(member, dtype=float)


def resampled_percent(counts: np.ndarray, member: np.ndarray, correct: np.ndarray) -> np.ndarray:
    """Per resample: 100 x the mean of 0/1 `correct` over the drawn records in `member`,
    computed as `percent` does (100 x right / drawn, exact on whole counts); NaN where
    none is drawn."""
    member = np.asarray(member, dtype=bool)
    drawn = resampled_count(counts, member)
    right = resampled_count(counts, member & (np.asarray(correct, dtype=float) == 1.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(drawn > 0, 100 * (right / drawn), np.nan)
