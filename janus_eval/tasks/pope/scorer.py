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

from janus_eval.score.base import Scored, answered, blank_unanswered, error_rows, predictions, table, unanswered


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


def binary_metrics(labels: pd.Series, preds: pd.Series) -> dict[str, float]:
    pos_l, pos_p = labels == "yes", preds == "yes"
    tp = int((pos_l & pos_p).sum())
    fp = int((~pos_l & pos_p).sum())
    tn = int((~pos_l & ~pos_p).sum())
    fn = int((pos_l & ~pos_p).sum())
    return {k: float(v) for k, v in rates(tp, fp, tn, fn).items()}


def score(records: pd.DataFrame, settings: dict | None = None, judges=None) -> Scored:
    parsed = predictions(records).map(parse)
    labels = records["answer"].astype(str).str.strip().str.lower()
    per_sample = pd.DataFrame({"parsed": parsed, "score": (parsed == labels).astype(float)})
    per_sample = blank_unanswered(per_sample, records)

    ok = answered(records).index
    rows = []
    splits = sorted(records.loc[ok, "category"].astype(str).unique()) if "category" in records else []
    f1s = []
    for split in splits:
        idx = ok[records.loc[ok, "category"].astype(str) == split]
        m = binary_metrics(labels[idx], parsed[idx])
        f1s.append(m["f1"])
        rows += [(k, split, 100 * v, len(idx)) for k, v in m.items()]
    m = binary_metrics(labels[ok], parsed[ok])
    rows += [(k, "pooled", 100 * v, len(ok)) for k, v in m.items()]
    if f1s:
        rows.append(("f1_mean", "", 100 * sum(f1s) / len(f1s), len(ok)))
    rows += error_rows(records)
    return Scored(per_sample, table(rows))


def bootstrap(
    records: pd.DataFrame, settings: dict | None, counts: np.ndarray
) -> dict[tuple[str, str], np.ndarray]:
    """The table's values on many resamples at once (the fast path of `janus-eval compare`).

    `counts[b, i]` is how often record i is drawn in resample b. Gives, per (metric, subset),
    the values `score` gives on `records.iloc[np.repeat(range(n), counts[b])]`; a split
    missing from a resample is NaN there.
    """
    parsed = predictions(records).map(parse).to_numpy()
    labels = records["answer"].astype(str).str.strip().str.lower().to_numpy()
    ok = ~unanswered(records).to_numpy()
    cats = records["category"].astype(str).to_numpy() if "category" in records else None
    pos_l, pos_p = labels == "yes", parsed == "yes"
    cells = [pos_l & pos_p, ~pos_l & pos_p, ~pos_l & ~pos_p, pos_l & ~pos_p]  # tp fp tn fn
    groups = [(s, ok & (cats == s)) for s in sorted(set(cats[ok]))] if cats is not None else []
    groups.append(("pooled", ok))
    # one indicator column per (group, cell), then all resamples in one product
    ind = np.stack([g & c for _, g in groups for c in cells] + [~ok], axis=1).astype(float)
    sums = counts.astype(float) @ ind
    out: dict[tuple[str, str], np.ndarray] = {}
    f1_total = np.zeros(len(counts))  # fractions summed in split order, as `score` does
    n_splits = np.zeros(len(counts))
    for k, (name, _) in enumerate(groups):
        tp, fp, tn, fn = (sums[:, 4 * k + j] for j in range(4))
        present = (tp + fp + tn + fn) > 0 if name != "pooled" else np.ones(len(counts), bool)
        values = rates(tp, fp, tn, fn)
        for metric, value in values.items():
            out[(metric, name)] = np.where(present, 100 * value, np.nan)
        if name != "pooled":
            f1_total = f1_total + np.where(present, values["f1"], 0.0)
            n_splits = n_splits + present
    if len(groups) > 1:
        out[("f1_mean", "")] = np.divide(
            100 * f1_total, n_splits, out=np.full(len(counts), np.nan), where=n_splits > 0
        )
    out[("errors", "")] = sums[:, -1]
    return out
