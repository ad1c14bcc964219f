"""The run store: one folder per run under `results/`.

    <run>/manifest.json          what ran: model, tasks and their config hashes, data, versions
    <run>/<task>/samples.jsonl   one record per sample, appended and flushed batch by batch
    <run>/scores.csv/.parquet    the long score table of every task in the run

A rerun with the same run id skips the ids already in `samples.jsonl`, so a
killed run resumes without recomputing, losing or duplicating a sample.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Iterable, Iterator

import pandas as pd

from janus_eval.core.errors import UsageError
from janus_eval.core.files import atomic_write_text, csv_text, from_csv_cell
from janus_eval.core.manifest import Manifest
from janus_eval.core.record import IMAGES, SAMPLE_ID, Record, as_dict

SCORE_COLUMNS = ["task", "metric", "subset", "value", "n", "paper", "delta"]
UNIT_COLUMN = "unit"  # percent, points, count or text (core/metric.py)
INTERVAL_COLUMNS = ["ci_low", "ci_high", "ci_method", "verdict"]  # kept when present (analyse/intervals.py)
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def safe_name(name: str, what: str = "name") -> str:
    """Names that become paths (run ids, task names) must be plain file names."""
    if not _SAFE.match(name) or name in (".", ".."):
        raise UsageError(f"{what} '{name}' must use only letters, digits, '.', '_' and '-'")
    return name


def json_objects(path: Path, lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of a JSON-lines text; a line that is
    not a JSON object is a UsageError naming the file and line."""
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if line.startswith("\ufeff"):  # not a broken record: the editor's byte-order mark
            raise UsageError(f"{path}:{n}: starts with a UTF-8 byte-order mark; save the file as UTF-8 without BOM")
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path}:{n}: not valid JSON ({exc.msg}); fix or remove that line") from exc
        if not isinstance(obj, dict):
            raise UsageError(f"{path}:{n}: expected a JSON object per line, got {type(obj).__name__}")
        yield n, obj


def _cut_partial_tail(path: Path) -> None:
    """Drop a last line a killed writer left without its newline, before appending after it."""
    if not path.exists() or path.stat().st_size == 0:
        return
    with open(path, "r+b") as fh:
        fh.seek(-1, os.SEEK_END)
        if fh.read(1) == b"\n":
            return
        data = path.read_bytes()
        fh.truncate(data.rfind(b"\n") + 1)


class RunStore:
    def __init__(self, root: Path):
        self.root = Path(root)

    def remove_partial_writes(self) -> list[Path]:
        """Delete the temporary files of atomic writes that never finished (a full disk, a kill:
        `.samples.jsonl.XXXX.part` beside its target); the records they would have replaced are
        whole. Called by the one process that owns the run, before it writes."""
        removed = []
        for path in sorted(self.root.rglob(".*.part")) if self.root.is_dir() else []:
            if path.is_file() and not path.is_symlink():
                path.unlink(missing_ok=True)
                removed.append(path)
        return removed

    # --- manifest -------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    def read_manifest(self) -> Manifest | None:
        """The run's manifest (None before the run wrote one); one that is not JSON is a UsageError."""
        if not self.manifest_path.exists():
            return None
        try:
            return Manifest.from_json(self.manifest_path.read_text(encoding="utf-8"), run_id=self.root.name)
        except (ValueError, TypeError) as exc:  # not JSON (JSONDecodeError), or not an object
            raise UsageError(f"{self.manifest_path} is not a run manifest ({exc})") from exc

    def write_manifest(self, manifest: Manifest) -> None:
        atomic_write_text(self.manifest_path, manifest.to_json())

    # --- samples --------------------------------------------------------
    def task_dir(self, task: str) -> Path:
        return self.root / safe_name(task, "task")

    def samples_path(self, task: str) -> Path:
        return self.task_dir(task) / "samples.jsonl"

    def read_records(self, task: str, path: Path | None = None) -> list[dict[str, Any]]:
        """Records written so far. Reading never writes: a last line cut off by a kill
        (no newline yet) is skipped here and cut by the next append. A malformed
        complete line is a UsageError naming the file and line."""
        path = path or self.samples_path(task)
        if not path.exists():
            return []
        data = path.read_bytes()
        if data and not data.endswith(b"\n"):
            data = data[: data.rfind(b"\n") + 1]
        records = []
        for n, rec in json_objects(path, data.decode("utf-8", errors="replace").splitlines()):
            if SAMPLE_ID not in rec:
                raise UsageError(f"{path}:{n}: not a record of this run store (no sample_id)")
            records.append(rec)
        return records

    def done_ids(self, task: str) -> set[str]:
        """Ids finished in this run, in the merged file or in any rank's own file. A record
        whose image files (`images`, generation tasks) are not all there is not finished:
        its images are drawn again."""
        root = self.task_dir(task)
        paths = [self.samples_path(task), *self.shard_paths(task)]
        return {
            r[SAMPLE_ID]
            for p in paths
            for r in self.read_records(task, p)
            if all((root / img).is_file() for img in (r.get(IMAGES) or []))
        }

    def merge_shards(self, task: str) -> None:
        """Fold the ranks' files into samples.jsonl (ids already there win), then remove them."""
        shards = self.shard_paths(task)
        if not shards:
            return
        merged = self.read_records(task)
        seen = {r[SAMPLE_ID] for r in merged}
        for path in shards:
            for rec in self.read_records(task, path):
                if rec[SAMPLE_ID] not in seen:
                    seen.add(rec[SAMPLE_ID])
                    merged.append(rec)
        self.rewrite_records(task, merged)
        for path in shards:
            path.unlink()

    def shard_paths(self, task: str) -> list[Path]:
        return sorted(self.task_dir(task).glob("samples.rank*.jsonl"))

    def append_records(
        self, task: str, records: Iterable[Record | dict[str, Any]], shard: int | None = None
    ) -> None:
        """Append and flush; `shard` (a torchrun rank) writes that rank's own file."""
        path = self.samples_path(task) if shard is None else self.task_dir(task) / f"samples.rank{shard}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        _cut_partial_tail(path)
        with open(path, "a", encoding="utf-8") as fh:
            for rec in records:
                fh.write(json.dumps(as_dict(rec), ensure_ascii=False, default=str) + "\n")
            fh.flush()  # in the OS's hands: a killed process loses nothing written

    def rewrite_records(self, task: str, records: list[dict[str, Any]]) -> None:
        """Replace the samples file whole (after scoring adds `parsed` and `score`)."""
        lines = "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in records)
        atomic_write_text(self.samples_path(task), lines)

    # --- scores ---------------------------------------------------------
    def write_scores(self, scores: pd.DataFrame) -> None:
        if UNIT_COLUMN in scores:  # after `value`; runs written before it have none
            scores = scores.assign(unit=scores[UNIT_COLUMN].fillna(""))
        columns = SCORE_COLUMNS[:4] + [UNIT_COLUMN] * (UNIT_COLUMN in scores) + SCORE_COLUMNS[4:]
        scores = scores[columns + [c for c in INTERVAL_COLUMNS if c in scores]]
        atomic_write_text(self.root / "scores.csv", csv_text(scores))  # formula-like text neutralised
        scores.to_parquet(self.root / "scores.parquet", index=False)

    def read_scores(self) -> pd.DataFrame:
        path = self.root / "scores.csv"
        if not path.exists():
            raise UsageError(f"{self.root} has no scores.csv: run `janus-eval score` or finish the run first")
        scores = pd.read_csv(path, keep_default_na=False, na_values=[""], dtype={"subset": str}).fillna({"subset": ""})
        for column in scores.columns:
            if not pd.api.types.is_numeric_dtype(scores[column]):
                scores[column] = scores[column].map(from_csv_cell)
        return scores

    def tasks(self) -> list[str]:
        return sorted(p.parent.name for p in self.root.glob("*/samples.jsonl"))


def run_folders(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """Each path as run folders, for a verb that takes many runs (`report`): a run folder
    itself, or every finished run a results folder holds, by name. Returns (folders, notes):
    a held run with no scores.csv yet (unfinished) is left out with a note; a path that is
    neither a run nor a folder of runs is kept as given, so its reader says what is wrong."""
    out: list[Path] = []
    notes: list[str] = []
    for path in map(Path, paths):
        held = [] if (path / "manifest.json").exists() or not path.is_dir() else [
            p for p in sorted(path.iterdir()) if (p / "manifest.json").exists()
        ]  # fmt: skip
        if not held:
            out.append(path)
            continue
        for run in held:
            if (run / "scores.csv").exists():
                out.append(run)
            else:
                notes.append(f"leaving out {run}: no scores.csv (unfinished)")
    return out, notes


def open_run(path: Path) -> RunStore:
    """A run folder, or a results folder holding exactly one run."""
    path = Path(path)
    if (path / "manifest.json").exists():
        return RunStore(path)
    if path.is_dir():
        runs = [p for p in sorted(path.iterdir()) if (p / "manifest.json").exists()]
        if len(runs) == 1:
            return RunStore(runs[0])
        if len(runs) > 1:
            raise UsageError(f"{path} holds {len(runs)} runs; name one of: {', '.join(p.name for p in runs)}")
    raise UsageError(f"{path} is not a run folder (no manifest.json)")
