"""POPE, with the rules of the official `evaluate.py` (github AoiDragon/POPE).

An answer is cut at its first '.', commas are dropped and it is split on spaces;
if the words contain `No`, `not` or `no` it is a no, otherwise a yes. Per split
(`category`: adversarial / popular / random): accuracy, precision, recall, F1 and
yes-ratio (share of predicted yes), also pooled over all samples; the headline is
the mean F1 over the splits. All values in percent.
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
    table_of,
    unanswered,
    values_of,
)
from janus_eval.score.contract import Field, id_field, yes_no

METRICS = (
    Metric("accuracy", True, "percent"),
    Metric("precision", True, "percent"),
    Metric("recall", True, "percent"),
    Metric("f1", True, "percent"),
    Metric("yes_ratio", None, "percent"),  # the share of yes answers: neither way is better
    Metric("f1_mean", True, "percent"),
    ERRORS,
)


def parse(text: str) -> str:
    if "." in text:
        text = text.split(".")[0]
    words = text.replace(",", "").split(" ")
    return "no" if ("No" in words or "not" in words or "no" in words) else "yes"


def rates(tp, fp, tn, fn) -> dict[str, np.ndarray]:
    """Accuracy, precision, recall, F1 and yes-ratio from confusion counts; the counts may be
    arrays (one entry per bootstrap resample). An empty denominator gives 0, as in the official code,
    except with no samples at all: then every value is NaN (nothing was measured)."""
    tp, fp, tn, fn = (np.asarray(x, dtype=float) for x in (tp, fp, tn, fn))
    n = tp + fp + tn + fn

    def ratio(a, b):
        return np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape), where=b > 0)

    precision = ratio(tp, tp + fp)
    recall = ratio(tp, tp + fn)
    values = {
        "accuracy": ratio(tp + tn, n),
        "precision": precision,
        "recall": recall,
        "f1": ratio(2 * precision * recall, precision + recall),
        "yes_ratio": ratio(tp + fp, n),
    }
    return {k: np.where(n > 0, v, np.nan) for k, v in values.items()}


def measure(records: pd.DataFrame, parsed: pd.Series, counts: np.ndarray) -> Measured:
    """Every metric, per resample (`counts[b, i]`: draws of record i in resample b), in the table's
    order: per split (sorted) and pooled, from confusion counts; then `f1_mean`, the splits' F1
    fractions summed in split order (a split missing from a resample adds nothing and is NaN)."""
    labels = records["answer"].astype(str).str.strip().str.lower().to_numpy()
    ok = ~unanswered(records).to_numpy()
    cats = records["category"].astype(str).to_numpy() if "category" in records else None
    pos_l, pos_p = labels == "yes", parsed.to_numpy() == "yes"
    cells = [pos_l & pos_p, ~pos_l & pos_p, ~pos_l & ~pos_p, pos_l & ~pos_p]  # tp fp tn fn
    groups = [(s, ok & (cats == s)) for s in sorted(set(cats[ok]))] if cats is not None else []
    groups.append(("pooled", ok))
    # one indicator column per (group, cell), then all resamples in one product
    ind = np.stack([g & c for _, g in groups for c in cells], axis=1).astype(float)
    sums = counts.astype(float) @ ind
    out: Measured = {}
    f1_total = np.zeros(len(counts))
    n_splits = np.zeros(len(counts))
    for k, (name, _) in enumerate(groups):
        tp, fp, tn, fn = (sums[:, 4 * k + j] for j in range(4))
        n = tp + fp + tn + fn
        values = rates(tp, fp, tn, fn)  # NaN where nothing is drawn
        for metric, value in values.items():
            out[(metric, name)] = (100 * value, n)
        if name != "pooled":
            f1_total = f1_total + np.where(n > 0, values["f1"], 0.0)
            n_splits = n_splits + (n > 0)
    if len(groups) > 1:
        f1_mean = np.divide(100 * f1_total, n_splits, out=np.full(len(counts), np.nan), where=n_splits > 0)
        out[("f1_mean", "")] = (f1_mean, out[("accuracy", "pooled")][1])
    out[(ERRORS.name, "")] = errors(counts, records)
    return out


def score(records: pd.DataFrame, settings: dict | None = None, judges=None) -> Scored:
    parsed = predictions(records).map(parse)
    labels = records["answer"].astype(str).str.strip().str.lower()
    per_sample = pd.DataFrame({"parsed": parsed, "score": (parsed == labels).astype(float)})
    per_sample = blank_unanswered(per_sample, records)
    return Scored(per_sample, table_of(measure(records, parsed, every_record(records))))


def bootstrap(
    records: pd.DataFrame, settings: dict | None, counts: np.ndarray
) -> dict[tuple[str, str], np.ndarray]:
    """`score`'s values on many resamples at once (the fast path of `janus-eval compare`): the
    answers parsed once, the same `measure`."""
    return values_of(measure(records, predictions(records).map(parse), counts))


# --- the samples contract (score/contract.py): what this scorer reads from a samples file ---
SPLITS = ("adversarial", "popular", "random")
SAMPLE_FIELDS = (
    id_field("question_id"),
    Field("category", allowed=SPLITS, required=True, nullable=False),  # a split: anything else would be a new one
    Field("answer", allowed=("yes", "no"), normalise=yes_no, required=True, nullable=False),
    Field("question"),
)
