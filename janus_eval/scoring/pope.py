"""POPE, with the rules of the official `evaluate.py` (github AoiDragon/POPE).

An answer is cut at its first '.', commas are dropped and it is split on spaces;
if the words contain `No`, `not` or `no` it is a no, otherwise a yes. Per split
(`category`: adversarial / popular / random): accuracy, precision, recall, F1 and
yes-ratio (share of predicted yes), also pooled over all samples; the headline is
the mean F1 over the splits. All values in percent.
"""

from __future__ import annotations

import pandas as pd

from .base import Scored, answered, error_rows, predictions, table


def parse(text: str) -> str:
    if "." in text:
        text = text.split(".")[0]
    words = text.replace(",", "").split(" ")
    return "no" if ("No" in words or "not" in words or "no" in words) else "yes"


def binary_metrics(labels: pd.Series, preds: pd.Series) -> dict[str, float]:
    pos_l, pos_p = labels == "yes", preds == "yes"
    tp = int((pos_l & pos_p).sum())
    fp = int((~pos_l & pos_p).sum())
    tn = int((~pos_l & ~pos_p).sum())
    fn = int((pos_l & ~pos_p).sum())
    n = tp + fp + tn + fn
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "accuracy": (tp + tn) / n if n else 0.0,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "yes_ratio": (tp + fp) / n if n else 0.0,
    }


def score(records: pd.DataFrame, settings: dict | None = None, judges=None) -> Scored:
    parsed = predictions(records).map(parse)
    labels = records["answer"].astype(str).str.strip().str.lower()
    per_sample = pd.DataFrame({"parsed": parsed, "score": (parsed == labels).astype(float)})
    per_sample.loc[records["error"].notna() if "error" in records else [], ["parsed", "score"]] = None

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
