"""What a metric is, as a benchmark's scorer declares it (`METRICS` in tasks/<name>/scorer.py).

`higher_is_better` says which way a change is better: True (accuracies, F1, scores),
False (counts of failures: `errors`, `unparsed`), None for a neutral metric where
neither way is (POPE's `yes_ratio`). `janus-eval compare` reads it for its
verdicts (`analyse/tolerances.py`, `direction`). `unit` is the scale of the
table's value: "percent" (0-100), "points" (MME's scores), "count" (failures, unparsed
answers) or "text" (the `mode` rows: the subset names how a run was scored, the value is 1).
It is the `unit` column of scores.csv.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Unit = Literal["percent", "points", "count", "text"]
UNITS: tuple[str, ...] = ("percent", "points", "count", "text")


@dataclass(frozen=True)
class Metric:
    name: str  # the `metric` column of the score table
    higher_is_better: bool | None  # None: neutral
    unit: Unit

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"metric {self.name}: unit must be one of {', '.join(UNITS)}, not {self.unit!r}")
        if not (self.higher_is_better is None or isinstance(self.higher_is_better, bool)):
            raise ValueError(f"metric {self.name}: higher_is_better must be True, False or None")


# How a table row is printed (terminal table, report): counts as whole numbers, the `mode`
# rows (which way a run was scored: the subset names it, the value is 1) as text, the rest
# (percent, MME's points) with two decimals. Every metric a scorer declares "count" (or "text")
# is here (tests/test_cli_ux.py checks it against every scorer's METRICS).
COUNT_METRICS = frozenset(
    {"errors", "unparsed", "judge_error", "judge_matched", "failed", "unreadable_images", "dangling_dependencies",
     "prompts_without_images"}
)  # fmt: skip
TEXT_METRICS = frozenset({"mode"})


def unit_of(metric: str, declared: Mapping[str, Metric]) -> str:
    """A metric's unit: as its scorer declares it, else by the names above (a metric of a
    scorer that declares none, e.g. a user's own task), else percent."""
    if metric in declared:
        return declared[metric].unit
    if metric in COUNT_METRICS:
        return "count"
    if metric in TEXT_METRICS:
        return "text"
    return "percent"


def format_value(metric: str, value: float | None, subset: str = "") -> str:
    """A table value as its unit reads: `5` for 5 unparsed answers (not `5.00`), `corrected`
    for DPG-Bench's mode row (`yes` where a subset column names it), `87.40` for a percentage; `-` for none (NaN)."""
    if value is None or value != value:
        return "-"
    if metric in TEXT_METRICS:
        return subset or "yes"  # beside a subset column that names it: this run was scored so
    if metric in COUNT_METRICS:
        return f"{value:.0f}"
    return f"{value:.2f}"
