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
metric over no samples is NaN with n = 0 (`share`), never a silent 0.

Each metric is written once, over resample counts (`counts[b, i]`: how often
record i is drawn in resample b): a scorer's measuring function gives, per
(metric, subset), the value and n on every resample at once (`Measured`).
`score` takes its table from the full set (`every_record`: one resample drawing
each record once, `table_of`); `bootstrap(records, settings, counts)` gives the
values on many resamples (`values_of`), the fast path of `janus-eval compare`.
`share`, `count` and `errors` are the common parts. A scorer declares its metrics
(`METRICS`, `janus_eval.core.metric.Metric`): direction and unit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from janus_eval.core.metric import Metric
from janus_eval.core.record import ERROR, PARSED, PREDICTION, SCORER_KEYS

TABLE_COLUMNS = ["metric", "subset", "value", "n"]


Key = tuple[str, str]  # (metric, subset)
Measured = dict[Key, tuple[np.ndarray, np.ndarray]]  # per key: (value, n), one entry per resample

ERRORS = Metric("errors", higher_is_better=False, unit="count")  # every scorer's `errors` row
UNPARSED = Metric("unparsed", higher_is_better=False, unit="count")  # answers naming no option


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
    """One `errors` row counting the unanswered samples (0 shown too): `errors` on the full set."""
    value, n = errors(every_record(records), records)
    return [(ERRORS.name, "", float(value[0]), int(n[0]))]


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


def every_record(records: pd.DataFrame) -> np.ndarray:
    """The counts of the full set: one resample that draws each record once."""
    return np.ones((1, len(records)), dtype=np.int32)


def table_of(measured: Measured) -> pd.DataFrame:
    """The score table of the first resample (the full set, `every_record`), in the measured order."""
    return table([(m, s, float(value[0]), int(n[0])) for (m, s), (value, n) in measured.items()])


def values_of(measured: Measured) -> dict[Key, np.ndarray]:
    """The values on every resample (what `bootstrap` returns)."""
    return {key: value for key, (value, _) in measured.items()}


def resampled_count(counts: np.ndarray, member: np.ndarray) -> np.ndarray:
    """Per resample: how many drawn records have `member` (bool or 0/1 per record)."""
    return counts.astype(float) @ np.asarray(member, dtype=float)


def count(counts: np.ndarray, member: np.ndarray, among: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A count metric: the drawn records with `member`, n the drawn records in `among`."""
    return resampled_count(counts, member), resampled_count(counts, among)


def share(counts: np.ndarray, member: np.ndarray, correct: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """100 x the mean of 0/1 `correct` over the drawn records in `member` (100 x right / drawn,
    exact on whole counts), n the drawn ones; NaN with n = 0 where none is drawn (never a silent 0)."""
    member = np.asarray(member, dtype=bool)
    drawn = resampled_count(counts, member)
    right = resampled_count(counts, member & (np.asarray(correct, dtype=float) == 1.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(drawn > 0, 100 * (right / drawn), np.nan), drawn


def errors(counts: np.ndarray, records: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The `errors` row (`error_rows`) per resample: the drawn unanswered records, n all drawn."""
    return count(counts, unanswered(records).to_numpy(), np.ones(len(records), bool))
