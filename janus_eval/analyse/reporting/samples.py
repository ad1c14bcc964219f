"""Per-sample views for the report: failures of understanding tasks, thumbnails of generation tasks.

Image paths in records are relative to the task folder; a path that is absolute or
leaves the task folder is refused (shown as a note), never opened.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from janus_eval.analyse.reporting.collect import RunResult
from janus_eval.core.record import ERROR, IMAGES, INTERNAL_KEYS, PARSED, PREDICTION, PROMPT, SCORE, record_id

INTERNAL = INTERNAL_KEYS  # harness fields: not shown as the record's dataset columns


@dataclass
class Failure:
    sample_id: str
    fields: list[tuple[str, Any]]  # the record's dataset columns, in record order
    prediction: Any
    parsed: Any
    error: Any


@dataclass
class FailureSet:
    run: str
    task: str
    n_records: int
    n_scored: int
    n_failed: int
    n_errors: int
    failures: list[Failure] = field(default_factory=list)  # the first `limit`, file order
    errors: list[Failure] = field(default_factory=list)


@dataclass
class Thumb:
    data: bytes | None  # JPEG bytes, or None with a note
    note: str = ""


@dataclass
class GalleryItem:
    sample_id: str
    prompt: Any
    verdict: str
    passed: bool | None
    parsed: Any
    thumbs: list[Thumb]
    lines: list[str] = field(default_factory=list)  # the judges' verdicts as text (card_lines)


@dataclass
class Gallery:
    run: str
    task: str
    n_records: int
    n_passed: int
    n_failed: int
    items: list[GalleryItem] = field(default_factory=list)
    mean_score: float | None = None  # set when scores are graded (0 < score < 1: DPG-Bench), not pass/fail


def _score(record: dict[str, Any]) -> float | None:
    try:
        value = float(record[SCORE])
    except (KeyError, TypeError, ValueError):
        return None
    return None if math.isnan(value) else value


def _failure(record: dict[str, Any]) -> Failure:
    fields = [(k, v) for k, v in record.items() if k not in INTERNAL]
    return Failure(
        str(record_id(record)), fields, record.get(PREDICTION), record.get(PARSED), record.get(ERROR)
    )


def failures(run: RunResult, task: str, limit: int) -> FailureSet:
    records = run.info.store.read_records(task)
    scored = [r for r in records if _score(r) is not None]
    failed = [r for r in scored if _score(r) == 0]
    errored = [r for r in records if r.get(ERROR) not in (None, "")]
    return FailureSet(
        run=run.label, task=task, n_records=len(records), n_scored=len(scored), n_failed=len(failed),
        n_errors=len(errored), failures=[_failure(r) for r in failed[:limit]],
        errors=[_failure(r) for r in errored[:limit]],
    )  # fmt: skip


def image_path(task_dir: Path, rel: Any) -> Path | None:
    """`rel` inside `task_dir`, or None when it is not a relative path that stays inside."""
    if not isinstance(rel, str) or not rel or "\x00" in rel or Path(rel).is_absolute():
        return None
    root = task_dir.resolve()
    path = (root / rel).resolve()
    return path if root in path.parents else None


def thumbnail(path: Path | None, size: int) -> Thumb:
    if path is None:
        return Thumb(None, "image path outside the task folder (not shown)")
    if not path.is_file():
        return Thumb(None, "image file missing")
    try:
        with Image.open(path) as opened:
            opened.draft("RGB", (size, size))
            img = opened.convert("RGB")
            img.thumbnail((size, size))
            buf = io.BytesIO()
            img.save(buf, format="JPEG", quality=85)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        return Thumb(None, f"unreadable image ({exc.__class__.__name__})")
    return Thumb(buf.getvalue())


def _verdict(record: dict[str, Any]) -> tuple[str, bool | None]:
    if record.get(ERROR) not in (None, ""):
        return "error", None
    score = _score(record)
    if score is None:
        return "unscored", None
    if score >= 1:
        return "correct", True
    if score <= 0:
        return "wrong", False
    return f"score {score:.2f}", score >= 0.5


def gallery_counts(g: Gallery) -> str:
    """Pass/fail counts, or the mean for graded scores (a DPG-Bench prompt scores 0.72, it does
    not pass)."""
    if g.mean_score is not None:
        return f"mean score {g.mean_score:.2f} over {g.n_records} prompts"
    return f"{g.n_passed} passed, {g.n_failed} not, of {g.n_records}"


def _decoded(parsed: Any) -> Any:
    """A `parsed` field as data: JSON text decoded, Python-literal text read safely."""
    if not isinstance(parsed, str):
        return parsed
    import ast
    import json

    for read in (json.loads, ast.literal_eval):
        try:
            return read(parsed)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
    return parsed


def _yes_no(value: Any) -> str:
    return "yes" if value is True else "no" if value is False else str(value)


def card_lines(parsed: Any) -> list[str]:
    """A generation judge's verdicts as lines a reader follows: GenEval's per image (correct or
    not, and why), DPG-Bench's per tile score and per question the answer of each tile. [] when
    `parsed` is neither (it is then shown as it is)."""
    data = _decoded(parsed)
    if isinstance(data, list) and data and all(isinstance(d, dict) and "correct" in d for d in data):
        lines = []
        for k, d in enumerate(data, start=1):
            clauses = [" ".join(c.split()) for c in str(d.get("reason") or "").splitlines()]
            reason = "; ".join(c for c in clauses if c)
            lines.append(f"image {k}: {'correct' if d.get('correct') else 'wrong'}" + (f": {reason}" if reason else ""))
        return lines
    if isinstance(data, dict) and isinstance(data.get("answers"), list):
        tiles = data["answers"]
        scores = data.get("tile_scores") or []
        lines = ["tile scores: " + ", ".join(f"{float(s):.2f}" for s in scores)] if scores else []
        questions = data.get("questions") or {}
        ids = list(dict.fromkeys(q for t in tiles if isinstance(t, dict) for q in t))
        for q in ids:
            answers = ", ".join(_yes_no(t.get(q, "-")) if isinstance(t, dict) else "-" for t in tiles)
            text = " ".join(str(questions.get(q, "")).split())
            lines.append(f"Q{q}" + (f" {text}" if text else "") + f": {answers}")
        return lines
    return []


def gallery(run: RunResult, task: str, limit: int, size: int = 160, per_record: int = 4) -> Gallery:
    """Up to `limit` records: half of them failures, the rest passes, each in file order."""
    records = run.info.store.read_records(task)
    verdicts = [_verdict(r) for r in records]
    failed = [i for i, (_, ok) in enumerate(verdicts) if ok is False or ok is None]
    passed = [i for i, (_, ok) in enumerate(verdicts) if ok is True]
    take_failed = failed[: max(limit // 2, limit - len(passed))]
    chosen = sorted(take_failed + passed[: limit - len(take_failed)])
    task_dir = run.info.store.task_dir(task)
    items = []
    for i in chosen:
        rec = records[i]
        paths = rec.get(IMAGES) or []
        paths = paths if isinstance(paths, list) else [paths]
        thumbs = [thumbnail(image_path(task_dir, p), size) for p in paths[:per_record]]
        items.append(
            GalleryItem(
                str(record_id(rec)),
                rec.get(PROMPT),
                verdicts[i][0],
                verdicts[i][1],
                rec.get("parsed"),
                thumbs,
                card_lines(rec.get("parsed")),
            )
        )
    scores = [s for s in map(_score, records) if s is not None]
    graded = any(0 < s < 1 for s in scores)
    mean = sum(scores) / len(scores) if graded and scores else None
    return Gallery(run.label, task, len(records), len(passed), len(failed), items, mean)
