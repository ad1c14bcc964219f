"""Which metrics `janus-eval compare` gates on, and how large a drop each may take.

A tolerance is in the metric's own units (percentage points for accuracies and
F1, points for MME). The file given with `--tolerances` is YAML mapping keys to
numbers:

    default: 0.5            # every gated metric without a key of its own (else --tolerance)
    pope/f1_mean: 1.0       # task/metric: the overall row (subset "")
    pope/f1/random: 2.0     # task/metric/subset
    mme/score/*: 15         # shell-style wildcards (fnmatch) in any part
    mme: 20                 # task: every gated metric of the task
    pope/yes_ratio/*: off   # off / null / false: shown, never gated

A key naming a metric that is not gated by default gates it (`mode` rows, which
only label how a run was scored, are never gated). Gated by default: each task's
headline and its `errors` count; with `--gate all`, every metric that has a
direction. `*/errors: off` switches the errors gate off for every task.
The first of these that matches decides: an exact `task/metric[/subset]` key, then
wildcard keys in file order, then the task's key, then `default`, then `--tolerance`.

Each metric has a direction (`direction()`): higher is better (accuracies, F1,
scores), lower is better (counts of failures: `errors`, `unparsed`, ...), or
neutral (`yes_ratio`, `judge_matched`, `total_std`, `mode`: neither way is better).
A task's scorer declares its metrics' directions (`METRICS`, `core.metric.Metric`);
for a metric its scorer does not declare, the names below decide.
A higher-is-better metric regresses when its interval lies below -tolerance, a
lower-is-better one when it lies above +tolerance, and a neutral metric that a
key gates when it lies outside [-tolerance, +tolerance] either way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

import yaml

from janus_eval.core.errors import UsageError
from janus_eval.tasks.registry import get_metrics

OFF = object()

HIGHER, LOWER, NEUTRAL = 1, -1, 0
# for the metrics no scorer declares (and `direction` without a scorer)
LOWER_IS_BETTER = frozenset(
    {"errors", "unparsed", "judge_error", "failed", "unreadable_images", "dangling_dependencies"}
)
NEUTRAL_METRICS = frozenset({"yes_ratio", "judge_matched", "total_std", "mode"})
NEVER_GATED = frozenset({"mode"})  # labels of how a run was scored, not measurements


SENSE = {True: HIGHER, False: LOWER, None: NEUTRAL}  # Metric.higher_is_better -> direction


def direction(metric: str, scorer: str | None = None) -> int:
    """HIGHER (+1) when a larger value is better, LOWER (-1) when a smaller one is, else NEUTRAL (0):
    as the task's scorer declares it, else by the names above."""
    found = get_metrics(scorer).get(metric) if scorer else None
    if found is not None:
        return SENSE[found.higher_is_better]
    if metric in LOWER_IS_BETTER:
        return LOWER
    if metric in NEUTRAL_METRICS:
        return NEUTRAL
    return HIGHER


@dataclass
class Tolerances:
    default: float = 0.0
    exact: dict[tuple[str, str, str], object] = field(default_factory=dict)
    patterns: list[tuple[tuple[str, str, str], object]] = field(default_factory=list)
    per_task: dict[str, object] = field(default_factory=dict)

    def lookup(self, task: str, metric: str, subset: str) -> tuple[bool, float | None]:
        """(named in the file, tolerance or None when switched off)."""
        key = (task, metric, subset)
        if key in self.exact:
            return True, _value(self.exact[key])
        for pattern, value in self.patterns:
            if all(fnmatchcase(part, pat) for part, pat in zip(key, pattern)):
                return True, _value(value)
        if task in self.per_task:
            return False, _value(self.per_task[task])
        return False, self.default


def _value(value: object) -> float | None:
    return None if value is OFF else float(value)  # type: ignore[arg-type]


def _parse_value(key: str, value: object, source: str) -> object:
    if value is None or value is False or (isinstance(value, str) and value.strip().lower() == "off"):
        return OFF
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise UsageError(f"{source}: tolerance for '{key}' must be a number >= 0 or 'off', not {value!r}")
    return float(value)


def load_tolerances(path: Path | None, default: float = 0.0) -> Tolerances:
    if default < 0:
        raise UsageError(f"--tolerance must be >= 0, not {default}")
    tol = Tolerances(default=float(default))
    if path is None:
        return tol
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"no tolerances file at {path}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: not valid YAML ({exc.__class__.__name__}); fix the file") from exc
    if not isinstance(raw, dict):
        raise UsageError(f"{path}: expected a mapping of task/metric/subset keys to tolerances")
    for key, value in raw.items():
        key = str(key)
        parsed = _parse_value(key, value, str(path))
        parts = key.split("/")
        if key == "default":
            if parsed is OFF:
                raise UsageError(f"{path}: 'default' must be a number; switch metrics off by name")
            tol.default = float(parsed)  # type: ignore[arg-type]
        elif len(parts) == 1:
            tol.per_task[key] = parsed
        elif len(parts) in (2, 3):
            full = (parts[0], parts[1], parts[2] if len(parts) == 3 else "")
            if any(ch in key for ch in "*?["):
                tol.patterns.append((full, parsed))
            else:
                tol.exact[full] = parsed
        else:
            raise UsageError(f"{path}: key '{key}' must be task, task/metric or task/metric/subset")
    return tol
