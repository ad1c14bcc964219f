"""`janus-eval compare BASELINE NEW`: the checkpoint regression gate.

For every task both runs hold, the records of the sample ids both share are
rescored by the task's own scorer (scoring is pure; no judges), and a paired
bootstrap gives each metric's delta a 95% interval: resample b draws the same
ids with replacement for both runs, and the metric is recomputed on each run's
draw, so F1-type and grouped metrics (MME's acc+) are handled by their own rules.
A scorer module may offer `bootstrap(records, settings, counts)`, which gives the
same values for many resamples at once (vectorised); otherwise `score` is called
once per resample. Tasks whose scorer needs judges (LLM, detector) and offer no
fast path are compared on the mean of their stored per-sample scores.

A gated higher-is-better metric regresses when its whole interval lies below
-tolerance, a lower-is-better one (`errors`, `unparsed`, ...) when its whole
interval lies above +tolerance; a gated metric the baseline has but the new run
lacks (or gives as NaN: say every sample errored) regresses too. Gated by default:
each task's headline metric and its `errors` count (`--gate all`: every metric
with a direction); see `tolerances.py` for the directions and the YAML overrides.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from janus_eval.analyse.markup import md_cell
from janus_eval.analyse.resampling import (
    CHUNK,
    STORED,
    Batch,
    Key,
    draw_counts,
    method,
    per_resample,
    read_frame,
    stored_mean,
)
from janus_eval.analyse.tolerances import HIGHER, LOWER, NEVER_GATED, Tolerances, direction, load_tolerances
from janus_eval.core.errors import UsageError
from janus_eval.store.run_info import RunInfo, load_run

GATED_BY_DEFAULT = {"errors"}  # beside each task's headline: a rise in samples the model could not be asked
BETTER = {HIGHER: "higher", LOWER: "lower"}  # the `better` column; "" for neutral metrics
__all__ = ["CHUNK", "STORED", "Batch", "Comparison", "TaskComparison", "compare", "render_markdown"]


@dataclass
class TaskComparison:
    task: str
    n_shared: int
    n_baseline: int
    n_new: int
    method: str  # "fast path" | "scorer per resample" | "stored per-sample scores"
    seconds: float


@dataclass
class Comparison:
    baseline: RunInfo
    new: RunInfo
    # rows: task, metric, subset, baseline, new, delta, ci_low, ci_high, n, gated, tolerance, better,
    #       verdict, headline, missing (in the baseline, not in the new run)
    rows: pd.DataFrame
    tasks: list[TaskComparison]
    notes: list[str] = field(default_factory=list)
    n_boot: int = 1000
    seed: int = 0

    @property
    def regressions(self) -> pd.DataFrame:
        return self.rows[self.rows["verdict"] == "regression"]

    @property
    def exit_code(self) -> int:
        return 1 if len(self.regressions) else 0

    def markdown(self) -> str:
        return render_markdown(self)


# --- records and resamples: the machinery `intervals` shares (analyse/resampling.py) ------
_frame = read_frame
_counts = draw_counts
_per_resample = per_resample
_stored_mean = stored_mean
_method = method


# --- the comparison ----------------------------------------------------------------------
def _check_configs(base: RunInfo, new: RunInfo) -> list[str]:
    shared = sorted(set(base.store.tasks()) & set(new.store.tasks()))
    if not shared:
        raise UsageError(
            f"no shared tasks: baseline {base.run_id} has {', '.join(base.store.tasks()) or 'none'}, "
            f"new {new.run_id} has {', '.join(new.store.tasks()) or 'none'}; compare runs of the same tasks"
        )
    changed = [
        f"{t} ({base.tasks[t].config_hash} -> {new.tasks[t].config_hash})"
        for t in shared
        if base.tasks[t].config_hash and new.tasks[t].config_hash
        and base.tasks[t].config_hash != new.tasks[t].config_hash
    ]  # fmt: skip
    if changed:
        raise UsageError(
            f"task config differs between the runs for {', '.join(changed)}; "
            "rerun the baseline with the current task config, or compare only runs of the same config"
        )
    return shared


def _gate(
    tol: Tolerances, gate: str, task: str, key: Key, headline: Key, scorer: str | None = None
) -> tuple[bool, float | None]:
    if key[0] in NEVER_GATED:
        return False, None
    named, value = tol.lookup(task, *key)
    if value is None:
        return False, None
    by_default = key == headline or key[0] in GATED_BY_DEFAULT
    gated = named or by_default or (gate == "all" and direction(key[0], scorer) != 0)
    return gated, (value if gated else None)


def _verdict(sense: int, missing: bool, lo: float, hi: float, t: float) -> str:
    """A gated metric's verdict from the 95% interval [lo, hi] of new - baseline."""
    if missing:
        return "regression"  # the baseline measured it; the new run could not
    if np.isnan(lo) or np.isnan(hi):
        return "n/a"
    if sense == HIGHER:
        return "regression" if hi < -t else "improved" if lo > 0 else "ok"
    if sense == LOWER:
        return "regression" if lo > t else "improved" if hi < 0 else "ok"
    return "regression" if hi < -t or lo > t else "ok"  # neutral, gated by name: no drift either way


def compare(
    baseline_dir: Path,
    new_dir: Path,
    tolerance: float = 0.0,
    overrides_yaml: Path | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    gate: str = "headline",
) -> Comparison:
    import time

    if gate not in ("headline", "all"):
        raise UsageError(f"--gate must be 'headline' or 'all', not '{gate}'")
    if n_boot < 100:
        raise UsageError(f"--n-boot must be at least 100 for a 95% interval, not {n_boot}")
    tol = load_tolerances(overrides_yaml, tolerance)
    base, new = load_run(Path(baseline_dir)), load_run(Path(new_dir))
    shared = _check_configs(base, new)
    notes = []
    for run, other in ((base, new), (new, base)):
        only = sorted(set(run.store.tasks()) - set(other.store.tasks()))
        if only:
            notes.append(f"only in {run.run_id} (not compared): {', '.join(only)}")

    rows, summaries = [], []
    for task in shared:
        t0 = time.perf_counter()
        info = base.tasks[task] if base.tasks[task].config else new.tasks[task]
        method, batch, full = _method(info)
        settings = info.scoring  # as recorded in the manifest: the YAML's and the command line's
        fb, fn = _frame(base, task), _frame(new, task)
        n_base, n_new = len(fb), len(fn)
        ids = sorted(set(fb.index) & set(fn.index))
        if not ids:
            raise UsageError(f"task {task}: the runs share no sample ids; compare runs of the same samples")
        fb, fn = fb.loc[ids], fn.loc[ids]
        fb.attrs["stored_score"] = fb.attrs["stored_score"].loc[ids]
        fn.attrs["stored_score"] = fn.attrs["stored_score"].loc[ids]
        values_b, values_n = full(fb, settings), full(fn, settings)
        rng = np.random.default_rng([seed, zlib.crc32(task.encode())])  # per task: independent of the others
        deltas: dict[Key, list[np.ndarray]] = {}
        for counts in _counts(len(ids), n_boot, rng):
            got_b, got_n = batch(fb, settings, counts), batch(fn, settings, counts)
            for key in set(got_b) | set(got_n):
                nan = np.full(len(counts), np.nan)
                deltas.setdefault(key, []).append(got_n.get(key, nan) - got_b.get(key, nan))
        headline = STORED if method == "stored per-sample scores" else info.headline
        for key in list(values_b) + [k for k in values_n if k not in values_b]:
            d = np.concatenate(deltas.get(key, [np.full(n_boot, np.nan)]))
            lo, hi = np.nanpercentile(d, [2.5, 97.5]) if np.isfinite(d).any() else (np.nan, np.nan)
            vb, vn = values_b.get(key, np.nan), values_n.get(key, np.nan)
            gated, t = _gate(tol, gate, task, key, headline, info.scorer)
            sense = direction(key[0], info.scorer)
            missing = bool(np.isfinite(vb) and not np.isfinite(vn))
            verdict = _verdict(sense, missing, lo, hi, t or 0.0) if gated else ""
            if missing and gated:
                name = f"{key[0]}/{key[1]}" if key[1] else key[0]
                notes.append(
                    f"{task}: {name} is in the baseline ({vb:.2f}) but missing or NaN in the new run"
                )
            rows.append({
                "task": task, "metric": key[0], "subset": key[1], "baseline": vb, "new": vn, "delta": vn - vb,
                "ci_low": lo, "ci_high": hi, "n": len(ids), "gated": gated, "tolerance": t,
                "better": BETTER.get(sense, ""), "verdict": verdict, "headline": key == headline, "missing": missing,
            })  # fmt: skip
        summaries.append(TaskComparison(task, len(ids), n_base, n_new, method, time.perf_counter() - t0))
        if len(ids) < max(n_base, n_new):
            notes.append(
                f"{task}: compared on the {len(ids)} samples both runs hold (baseline {n_base}, new {n_new})"
            )
        if method == "stored per-sample scores":
            notes.append(f"{task}: its scorer needs judges, so the stored per-sample scores are compared")
    return Comparison(base, new, pd.DataFrame(rows), summaries, notes, n_boot, seed)


# --- output ---------------------------------------------------------------------------
_MARK = {"regression": "❌ regression", "ok": "✅ ok", "improved": "⬆️ improved", "n/a": "n/a", "": ""}


def _num(v: float, sign: bool = False) -> str:
    if v is None or not np.isfinite(v):
        return "—"
    return f"{v:+.2f}" if sign else f"{v:.2f}"


def _table(rows: pd.DataFrame) -> list[str]:
    out = [
        "| task | metric | subset | baseline | new | Δ | 95% CI of Δ | tolerance | verdict |",
        "| --- | --- | --- | ---: | ---: | ---: | --- | ---: | --- |",
    ]
    for r in rows.itertuples():
        ci = f"[{_num(r.ci_low, True)}, {_num(r.ci_high, True)}]"
        tol = _num(r.tolerance) if r.gated else ""
        out.append(
            f"| {md_cell(r.task)} | {md_cell(r.metric)} | {md_cell(r.subset)} | {_num(r.baseline)} | "
            f"{_num(r.new)} | {_num(r.delta, True)} | {ci} | {tol} | {_MARK[r.verdict]} |"
        )
    return out


def _describe(info: RunInfo) -> str:
    fp = f", weights {md_cell(info.short_fingerprint)}" if info.fingerprint else ""
    date = f", {md_cell(info.date)}" if info.date else ""
    return f"`{md_cell(info.run_id)}` ({md_cell(info.model)}{fp}{date})"


def render_markdown(c: Comparison) -> str:
    reg = c.regressions
    if len(reg):
        names = ", ".join(
            f"{r.task} {r.metric}{'/' + r.subset if r.subset else ''} "
            f"({'missing in the new run' if r.missing else _num(r.delta, True)})"
            for r in reg.itertuples()
        )
        head = f"### ❌ janus-eval compare: regression in {md_cell(names)}"
    else:
        head = f"### ✅ janus-eval compare: no regression ({len(c.tasks)} task{'s' if len(c.tasks) != 1 else ''})"
    lines = [
        head,
        "",
        f"baseline {_describe(c.baseline)} · new {_describe(c.new)}",
        "",
        (
            f"Paired bootstrap over the shared samples: {c.n_boot} resamples, seed {c.seed}, 95% interval of "
            "new − baseline. A gated metric regresses when its whole interval lies on the worse side of "
            "its tolerance (below −tolerance; above +tolerance for counts where lower is better: errors, "
            "unparsed, ...), or when the new run lacks a value the baseline has."
        ),
        "",
    ]
    gated = c.rows[c.rows["gated"]]
    lines += _table(gated) if len(gated) else ["(no gated metric)"]
    lines.append("")
    for t in c.tasks:
        lines.append(f"- {md_cell(t.task)}: {t.n_shared} paired samples, {t.method}, {t.seconds:.1f} s")
    for note in c.notes:
        lines.append(f"- ⚠️ {md_cell(note)}")
    lines += ["", f"<details><summary>All metrics ({len(c.rows)})</summary>", ""]
    lines += _table(c.rows)
    lines += ["", "</details>", ""]
    return "\n".join(lines)
