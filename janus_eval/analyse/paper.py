"""The Janus-Pro report's numbers (`results/paper/*.csv`) beside a run's scores."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: `janus-eval list` reads the numbers without pandas
    import pandas as pd

_PACKAGE = Path(__file__).resolve().parent.parent
# A checkout's results/paper/ (editable install); a wheel ships it as janus_eval/paper_tables.
PAPER_DIR = next(
    (d for d in (_PACKAGE.parent / "results" / "paper", _PACKAGE / "paper_tables") if d.is_dir()),
    _PACKAGE.parent / "results" / "paper",
)
KEY = ["model", "task", "metric", "subset"]


@lru_cache(maxsize=1)
def paper_table() -> pd.DataFrame:
    import pandas as pd

    frames = [pd.read_csv(p, keep_default_na=False) for p in sorted(PAPER_DIR.glob("*.csv"))]
    if not frames:
        return pd.DataFrame(columns=[*KEY, "value"])
    table = pd.concat(frames, ignore_index=True)
    table["value"] = table["value"].astype(float)
    return table


def paper_numbers(model: str) -> dict[tuple[str, str, str], float]:
    """(task, metric, subset) -> the report's number for `model`, read without pandas."""
    import csv

    out = {}
    for path in sorted(PAPER_DIR.glob("*.csv")):
        with open(path, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                if row["model"] == model:
                    out[(row["task"], row["metric"], row["subset"])] = float(row["value"])
    return out


def paper_model(model: str, names: Iterable[str] | None = None) -> str | None:
    """The report's name for a run's model, else None: `Janus-Pro-7B` itself, or a hub id or local
    folder whose last part is that name in any case (`deepseek-community/Janus-Pro-7B`,
    `ckpts/janus-pro-7b`). `names`: the models to match (default: the paper table's). The one rule
    for scores.csv and the report alike."""
    names = list(dict.fromkeys(paper_table()["model"] if names is None else names))
    if model in names:
        return model
    tail = model.rstrip("/").split("/")[-1].lower()
    return next((name for name in names if name.lower() == tail), None)


def with_paper(scores: pd.DataFrame, model: str | None) -> pd.DataFrame:
    """Add `paper` and `delta` columns to a long score table (task, metric, subset, value, n);
    empty when `model` is None or not one the report covers."""
    out = scores.copy()
    out["subset"] = out["subset"].fillna("")
    name = None if model is None else paper_model(model)
    if name is None:
        out["paper"] = float("nan")
    else:
        ref = paper_table()
        ref = ref[ref["model"] == name].drop(columns="model").rename(columns={"value": "paper"})
        out = out.merge(ref, on=["task", "metric", "subset"], how="left")
    out["delta"] = out["value"] - out["paper"]
    return out
