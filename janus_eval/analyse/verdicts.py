"""Scores with their intervals for a reader: the terminal table and the line summing up the verdicts.

A value is printed with its 95% interval, `87.14 [85.9, 88.3]`; a row the report has a number
for gets its verdict (`consistent`: the report's number lies inside the interval; `below` /
`above`: the run lies below / above it). The summary line counts the headlines (the rows
compared with the report) and names each that is not consistent with the gap and its interval:
"5 of 6 headlines consistent with the report; MMBench below by 3.1 [2.0, 4.2]".
"""

from __future__ import annotations

import math

import pandas as pd

from janus_eval.core.metric import COUNT_METRICS, TEXT_METRICS, format_value

DISPLAY = {
    "pope": "POPE", "mme": "MME", "mmbench": "MMBench", "seedbench": "SEED-Bench", "gqa": "GQA",
    "mmmu": "MMMU", "mmvet": "MM-Vet", "geneval": "GenEval", "dpgbench": "DPG-Bench",
}  # fmt: skip


def _finite(v: object) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(float(v))


def with_interval(value: float, low: float, high: float) -> str:
    """`87.14 [85.9, 88.3]`; the bare value without an interval; `-` without a value."""
    if not _finite(value):
        return "-"
    if not (_finite(low) and _finite(high)):
        return f"{value:.2f}"
    return f"{value:.2f} [{low:.1f}, {high:.1f}]"


def terminal_table(scores: pd.DataFrame) -> str:
    """The overall rows and every row compared with the paper, each value with its interval."""
    keep = (scores["subset"].fillna("") == "") | scores["paper"].notna() | scores["metric"].isin(TEXT_METRICS)
    rows = scores[keep].copy()
    for col in ("ci_low", "ci_high", "verdict"):
        if col not in rows:
            rows[col] = float("nan") if col != "verdict" else ""
    rows["value [95% CI]"] = [
        with_interval(v, lo, hi) for v, lo, hi in zip(rows["value"], rows["ci_low"], rows["ci_high"], strict=True)
    ]
    plain = rows["metric"].isin(COUNT_METRICS | TEXT_METRICS)  # `unparsed 5`, `mode corrected`
    rows.loc[plain, "value [95% CI]"] = [
        format_value(m, v, s) for m, v, s in zip(rows.loc[plain, "metric"], rows.loc[plain, "value"],
                                                  rows.loc[plain, "subset"].fillna(""), strict=True)
    ]  # fmt: skip
    rows.loc[rows["metric"].isin(TEXT_METRICS), "subset"] = ""  # the mode's name is its value
    rows["verdict"] = rows["verdict"].astype(object).fillna("").astype(str)  # all-empty reads back as floats
    cols = ["task", "metric", "subset", "value [95% CI]", "n", "paper", "delta", "verdict"]
    return rows[cols].to_string(index=False, float_format=lambda v: f"{v:.2f}", na_rep="-")


def gap(value: float, paper: float, low: float, high: float, side: str) -> tuple[float, float, float]:
    """How far the run lies from the paper (positive), with its interval: below, paper - value over
    [paper - high, paper - low]; above, value - paper over [low - paper, high - paper]."""
    if side == "below":
        return paper - value, paper - high, paper - low
    return value - paper, low - paper, high - paper


def verdict_line(scores: pd.DataFrame) -> str:
    """"6 of 7 headlines consistent with the report; MMBench below by 3.1 [2.0, 4.2]"; "" when no
    row has a paper value."""
    if "paper" not in scores or "verdict" not in scores:
        return ""
    heads = scores[scores["paper"].notna()]
    if not len(heads):
        return ""
    verdicts = heads["verdict"].fillna("").astype(str)
    consistent = int((verdicts == "consistent").sum())
    noun = "headline" if len(heads) == 1 else "headlines"
    line = f"{consistent} of {len(heads)} {noun} consistent with the report"
    notes = []
    for r, v in zip(heads.itertuples(), verdicts, strict=True):
        name = DISPLAY.get(str(r.task), str(r.task))
        if v in ("below", "above"):
            size, lo, hi = gap(r.value, r.paper, r.ci_low, r.ci_high, v)
            notes.append(f"{name} {v} by {size:.1f} [{lo:.1f}, {hi:.1f}]")
        elif v != "consistent":
            notes.append(f"{name} without an interval")
    return line + ("; " + ", ".join(notes) if notes else "")
