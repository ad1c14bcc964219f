"""DPG-Bench, with the rules of ELLA's `dpg_bench/compute_dpg_bench.py`.

Each prompt's images are one grid (2x2 for 4 images, no padding). For every tile
the VQA judge answers each of the prompt's questions; an answer counts only if
it is exactly "yes". Then, in the question file's order, a question is zeroed at
the first of its parents (the `dependency` ids in their order, 0 = none) whose
score is 0 at that point (in place: a zeroed parent zeroes the children listed
after it, not those before). Tile score = mean over the questions; prompt score
= mean over the tiles; DPG-Bench = mean over prompts x 100. Categories come from
each question's `tuple` ("entity - whole (cat)" -> L2 "entity - whole", L1
"entity"), pooled over all prompts' questions.

The question file is read as the official `prepare_dpg_data` reads it: rows are
grouped into items by consecutive item_id, and a proposition_id repeated within an
item is one question, the last row's (question, dependency, tuple) in the first
row's place, as the official dicts keep it (a one-line note says so).

Two behaviours (`official_quirks` in the task's scoring settings):
- corrected (default): every question row is read; the rows of an item must be
  consecutive (else a UsageError naming the line); category scores use every
  tile's scores after dependency zeroing (each question: its mean over tiles); a
  dependency naming a question the item does not have is skipped (repaired: one
  note line, and the `dangling_dependencies` row counts them).
- official_quirks: as the official script runs: the csv's first data row is
  skipped; an item whose rows appear again later keeps only the later rows;
  category scores are the last tile's scores before dependency zeroing; a
  dependency on a question the item lacks, reached (on any tile) before a parent
  that scored 0, is the official KeyError: that prompt is left out of every score
  (counted in `failed` and `failed / missing_parent`, with a one-line note). So
  the first row's item, which loses its question 1, usually fails.
The table's `mode` row says which ran.

Records: `item_id` (the prompt stem), `images` (a list holding the grid image's
path) or else `prediction` (that path), absolute or relative to the `image_root`
setting (the run's task folder, or the samples file's folder for `janus-eval
score`), and `n_images` (tiles in the grid, 4 if absent). Settings: `csv` (question file; else
--dpg-csv / cache / download via `tasks/dpgbench/questions.py`), `official_quirks`, `image_root`, `vqa_model`,
`vqa_batch_size`, `device`, `progress` (the runner's: whether judging draws a bar, else plain lines).
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from PIL import Image

from janus_eval.core.errors import UsageError
from janus_eval.core.metric import Metric
from janus_eval.core.progress import progress
from janus_eval.score.base import ERRORS, Scored, answered, error_rows, table
from janus_eval.score.contract import Context, Field, RowCheck, id_field, outside_problem, shown
from janus_eval.score.contract import answered as row_answered
from janus_eval.score.judges import Judges
from janus_eval.tasks.dpgbench.grid import MAX_TILES, split_grid

METRICS = (
    Metric("overall", True, "percent"),
    Metric("score", True, "percent"),  # per level-1 category
    Metric("subcategory", True, "percent"),
    Metric("failed", False, "count"),  # prompts the judge could not score
    Metric("dangling_dependencies", False, "count"),
    Metric("mode", None, "text"),  # corrected / official_quirks, the VQA judge, demo_judge
    ERRORS,
)

CSV_COLUMNS = ["item_id", "proposition_id", "dependency", "tuple", "question_natural_language"]
PROMPTS_PER_CHUNK = 16


@dataclass(frozen=True)
class Question:
    qid: int
    parents: tuple[int, ...]  # 0 = no parent
    text: str
    category: str  # L2, e.g. "entity - whole"; L1 is the part before "-"
    line: int = field(default=0, compare=False)  # the line of the row it was read from

    @property
    def broad(self) -> str:
        return self.category.split("-")[0].strip()


@dataclass(frozen=True)
class Repeat:
    """A row whose proposition_id its item already has (the official dicts keep the last)."""

    line: int
    item: str
    qid: int
    earlier_line: int


@dataclass
class QuestionFile:
    path: Path
    items: dict[str, list[Question]]  # item_id -> its questions, one per proposition_id
    repeats: list[Repeat]


def _category(row: dict[str, str]) -> str:
    tup = (row.get("tuple") or "").strip()
    if tup:
        return tup.split("(")[0].strip()
    broad = (row.get("category_broad") or "").strip()
    detailed = (row.get("category_detailed") or "").strip()
    return f"{broad} - {detailed}" if detailed else broad


def _question(path: str | Path, n: int, row: dict[str, str]) -> Question:
    try:
        qid = int(row["proposition_id"])
        parents = tuple(int(d.strip()) for d in str(row["dependency"]).split(","))
    except ValueError as exc:
        raise UsageError(f"{path} line {n}: bad proposition_id/dependency ({exc})") from exc
    return Question(qid, parents, str(row["question_natural_language"]), _category(row), n)


def _add(questions: list[Question], q: Question, item: str, repeats: list[Repeat]) -> None:
    """Append `q`, or, when its id is already there, put it in that question's place (as a
    Python dict keeps a key's first position and its last value)."""
    for i, old in enumerate(questions):
        if old.qid == q.qid:
            repeats.append(Repeat(q.line, item, q.qid, old.line))
            questions[i] = q
            return
    questions.append(q)


def read_questions(path: str | Path, *, official_quirks: bool = False) -> QuestionFile:
    """The question file as the official `prepare_dpg_data` reads it: rows grouped into items
    by consecutive item_id, one question per proposition_id (a repeated id: the last row's
    question, dependency and tuple, in the first row's place). With official_quirks the
    first data row is dropped and an item seen again later starts over, as there; without,
    the rows of one item must be consecutive (a UsageError naming the line otherwise)."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the DPG-Bench question file {path}: {exc}") from exc
    missing = [c for c in CSV_COLUMNS if c not in frame.columns]
    if missing:
        raise UsageError(
            f"{path} is not DPG-Bench's dpg_bench.csv: no column(s) {', '.join(missing)} "
            f"(it has {', '.join(frame.columns)})"
        )
    rows = frame.to_dict("records")
    if official_quirks:
        rows = rows[1:]
    items: dict[str, list[Question]] = {}
    repeats: list[Repeat] = []
    previous = None
    for n, row in enumerate(rows, start=3 if official_quirks else 2):
        item = str(row["item_id"]).strip()
        question = _question(path, n, row)
        if item != previous and (official_quirks or item not in items):
            items[item] = []  # official: an item seen again starts over, its earlier rows lost
            repeats = [r for r in repeats if r.item != item]
        elif item != previous:
            raise UsageError(f"{path} line {n}: the rows of item {item} are not consecutive")
        _add(items[item], question, item, repeats)
        previous = item
    return QuestionFile(Path(path), items, repeats)


def load_questions(path: str | Path, *, official_quirks: bool = False) -> dict[str, list[Question]]:
    """item_id -> its questions in file order (see `read_questions`)."""
    return read_questions(path, official_quirks=official_quirks).items


def missing_parents(questions: list[Question]) -> list[tuple[Question, int]]:
    """(question, parent id) for each dependency on an id the item has no question for."""
    qids = {q.qid for q in questions}
    return [(q, p) for q in questions for p in q.parents if p != 0 and p not in qids]


def sure_key_error(questions: list[Question]) -> tuple[int, int] | None:
    """(question id, parent id) of a question whose first parent (0s skipped) is missing:
    the official loop raises KeyError there on the first tile, whatever the answers."""
    qids = {q.qid for q in questions}
    for q in questions:
        first = next((p for p in q.parents if p != 0), None)
        if first is not None and first not in qids:
            return q.qid, first
    return None


def apply_dependencies(
    questions: list[Question], raw: dict[int, float], *, official_quirks: bool
) -> tuple[dict[int, float], tuple[int, int] | None]:
    """One tile's scores after the official dependency pass: questions in file order, each
    one's parents in the dependency's order, 0 skipped; at the first parent whose current
    score is 0 the question is zeroed in place (so a zeroed parent zeroes children listed
    after it) and the rest of its parents are not looked at. A parent the item lacks is,
    with official_quirks, the official script's KeyError: returned as (question, parent),
    which leaves the whole image out; corrected, that parent is skipped."""
    scores = dict(raw)
    for q in questions:
        for p in q.parents:
            if p == 0:
                continue
            if p not in scores:
                if official_quirks:
                    return scores, (q.qid, p)
                continue
            if scores[p] == 0:
                scores[q.qid] = 0.0
                break
    return scores, None


@dataclass
class PromptResult:
    score: float | None  # mean over tiles; None = left out
    tile_scores: list[float]
    answers: list[dict[int, str]]  # per tile
    category_scores: dict[int, float]  # question id -> the score its categories pool
    dangling: int = 0
    failure: str | None = None
    key_error: tuple[int, int] | None = None  # (question, missing parent) that left it out


def key_error_result(
    questions: list[Question], answers: list[dict[int, str]], key_error: tuple[int, int]
) -> PromptResult:
    qid, parent = key_error
    why = (
        f"question {qid} depends on question {parent}, which the item lacks: the official script "
        "raises KeyError and leaves the image out"
    )
    return PromptResult(None, [], answers, {}, len(missing_parents(questions)), why, key_error)


def score_prompt(
    questions: list[Question], answers: list[dict[int, str]], *, official_quirks: bool
) -> PromptResult:
    """Scores of one prompt from the judge's answers for each tile (question id -> answer)."""
    tile_scores: list[float] = []
    zeroed_per_tile: list[dict[int, float]] = []
    raw: dict[int, float] = {}
    for tile in answers:
        raw = {q.qid: float(tile[q.qid] == "yes") for q in questions}
        scores, key_error = apply_dependencies(questions, raw, official_quirks=official_quirks)
        if key_error is not None:
            return key_error_result(questions, answers, key_error)
        tile_scores.append(sum(scores.values()) / len(scores))
        zeroed_per_tile.append(scores)
    if official_quirks:
        categories = raw  # the last tile, before zeroing
    else:
        categories = {q.qid: sum(t[q.qid] for t in zeroed_per_tile) / len(zeroed_per_tile) for q in questions}
    dangling = len(missing_parents(questions))
    return PromptResult(sum(tile_scores) / len(tile_scores), tile_scores, answers, categories, dangling)


def file_notes(qfile: QuestionFile, *, official_quirks: bool) -> list[str]:
    """One line per kind of repair the question file needed (none for a clean file)."""
    notes = []
    if qfile.repeats:
        r = qfile.repeats[0]
        notes.append(
            f"note: {qfile.path} repeats a proposition_id in {len(qfile.repeats)} row(s) (first: line "
            f"{r.line}, item {r.item} question {r.qid}, earlier at line {r.earlier_line}); the last row "
            "counts, in the first row's place, as in the official script"
        )
    dangling = [(item, q, p) for item, qs in qfile.items.items() for q, p in missing_parents(qs)]
    if dangling and not official_quirks:
        item, q, p = dangling[0]
        notes.append(
            f"note: {qfile.path} has {len(dangling)} dependency(ies) on a question the item lacks (first: "
            f"line {q.line}, item {item} question {q.qid} -> {p}); ignored (--official-quirks: the official "
            "script's KeyError, the image left out)"
        )
    return notes


def key_error_note(left_out: dict[Any, tuple[int, int]], records: pd.DataFrame) -> str:
    """The one line saying which prompts official_quirks left out for a missing parent."""
    idx, (qid, parent) = next(iter(left_out.items()))
    item = str(records.at[idx, "item_id"]).strip()
    return (
        f"note: official_quirks left {len(left_out)} prompt(s) out, as the official script does when a "
        f"dependency names a question the item lacks before any parent is answered no (KeyError; first: "
        f"item {item} question {qid} -> {parent}); the table's failed/missing_parent row counts them"
    )


# The settings `run` and `score` take from the command line (--dpg-csv, --vqa-model,
# --official-quirks): put into the task's `scoring`, so into its config hash.
COMMAND_LINE_SETTINGS = ("csv", "vqa_model", "official_quirks")


def preflight(settings: dict[str, Any], judges: Judges | None = None) -> None:
    """Before any image is drawn: the question file is at hand (downloaded once if need be)
    and the VQA judge can be loaded."""
    from janus_eval.tasks.dpgbench.questions import resolve_dpg_csv

    judges = judges if judges is not None else Judges()
    load_questions(
        resolve_dpg_csv(settings.get("csv"), demo=judges.demo),
        official_quirks=bool(settings.get("official_quirks")),
    )
    judges.check_vqa(settings)


# --- the samples contract (score/contract.py): what this scorer reads from a samples file ---
SAMPLE_FIELDS = (
    id_field("item_id"),  # the prompt stem: its questions in the question file
    Field("prompt"),
    Field("images", kinds=(list,), items=str),  # [the grid's path] (else `prediction` is that path)
    Field("n_images", kinds=(int,)),  # tiles in the grid; null: 4
)


def check_sample(row: dict) -> str | None:
    """One grid per prompt, of 1 to 4 tiles (a longer `images` list would be scored by its first
    path alone, a tile count outside 1-4 would crop tiles that are not there)."""
    n = row.get("n_images")
    if n is not None and not 1 <= n <= MAX_TILES:
        return f"field 'n_images' is {n}; it should be the grid's number of tiles, 1 to {MAX_TILES} (or null: 4)"
    images = row.get("images")
    if images is not None and len(images) > 1:
        return f"field 'images' is {shown(images)}; it should hold one path: the prompt's images tiled as one grid"
    return None


def grid_field(row: dict[str, Any]) -> tuple[str, Any]:
    """The field holding the path of the grid the scorer reads, and its value."""
    images = row.get("images")
    return ("images", images[0]) if isinstance(images, list) and images else ("prediction", row.get("prediction"))


def file_check(context: Context) -> RowCheck:
    """A file's rows against the question file (read once): every item_id is a prompt it has
    questions for, once (a repeat would count the prompt twice); an answered row's grid path is
    a string inside the samples file's folder. A grid that is missing or unreadable stays a
    per-prompt failure (the `failed` row), as the official script skips an image it cannot score."""
    from janus_eval.tasks.dpgbench.questions import resolve_dpg_csv

    csv = resolve_dpg_csv(context.settings.get("csv"), demo=context.demo)
    items = read_questions(csv, official_quirks=bool(context.settings.get("official_quirks"))).items
    example = next(iter(items), "")
    seen: set[str] = set()

    def check(row: dict[str, Any]) -> str | None:
        item = str(row["item_id"]).strip()
        if item not in items:
            return (
                f"field 'item_id' is {shown(row['item_id'])}, which {Path(csv).name} has no questions for; "
                f"it should be a DPG-Bench prompt stem (e.g. {example}) of that question file"
            )
        if item in seen:
            return f"field 'item_id' is {shown(row['item_id'])}, which an earlier line has too; one line per prompt"
        seen.add(item)
        if context.root is None or not row_answered(row):
            return None
        name, value = grid_field(row)
        if not isinstance(value, str):
            return f"field '{name}' is {shown(value)}; it should be the path of the prompt's grid image"
        return outside_problem(name, value, context.root)  # a missing or broken grid: a failed prompt

    return check


def _image_path(value: str, root: str | None) -> Path:
    p = Path(value)
    return p if p.is_absolute() or root is None else Path(root) / p


def _tiles(record: dict[str, Any], root: str | None) -> list[Image.Image]:
    n = int(record.get("n_images") or MAX_TILES)
    _, value = grid_field(record)
    if not value:
        raise ValueError("the record has no grid image path (`images` or `prediction`)")
    path = _image_path(str(value), root)
    with Image.open(path) as img:
        img.load()
        return split_grid(img.convert("RGB"), n)


def score(records: pd.DataFrame, settings: dict | None = None, judges: Judges | None = None) -> Scored:
    from janus_eval.tasks.dpgbench.questions import resolve_dpg_csv

    settings = dict(settings or {})
    judges = judges if judges is not None else Judges()  # none given: the VQA judge is loaded here
    quirks = bool(settings.get("official_quirks", False))
    csv = resolve_dpg_csv(settings.get("csv"), demo=judges.demo)
    qfile = read_questions(csv, official_quirks=quirks)
    for line in file_notes(qfile, official_quirks=quirks):
        print(line, file=sys.stderr)
    bank = qfile.items
    root = settings.get("image_root")

    per_sample = pd.DataFrame({"parsed": None, "score": None}, index=records.index, dtype=object)
    results: dict[Any, PromptResult] = {}
    failures: dict[Any, str] = {}
    todo: list[tuple[Any, list[Question], list[Image.Image]]] = []
    judge = None
    ok = answered(records)

    def flush(bar: Any) -> None:
        nonlocal judge
        if not todo:
            return
        judge = judge or judges.vqa_judge(settings)
        images, questions = [], []
        for _, qs, tiles in todo:
            for tile in tiles:
                images += [tile] * len(qs)
                questions += [q.text for q in qs]
        replies = iter(judge.answer(images, questions))
        for idx, qs, tiles in todo:
            answers = [{q.qid: next(replies) for q in qs} for _ in tiles]
            results[idx] = score_prompt(qs, answers, official_quirks=quirks)
        bar.update(len(todo))
        todo.clear()

    # the VQA judge answers every question of every tile: a bar over the prompts, moved a chunk
    # at a time, so judging is not silence (plain lines with --no-progress)
    with progress(len(ok), "dpgbench: judging", "prompt", enabled=bool(settings.get("progress", True))) as bar:
        for idx, record in ok.iterrows():
            item = str(record.get("item_id", "")).strip()
            questions = bank.get(item)
            if not questions:
                failures[idx] = f"no questions for item '{item}' in {Path(csv).name}"
                bar.update(1)
                continue
            sure = sure_key_error(questions) if quirks else None
            if sure is not None:  # fails in the official script whatever the answers: no need to ask
                results[idx] = key_error_result(questions, [], sure)
                bar.update(1)
                continue
            try:
                tiles = _tiles(record.to_dict(), root)
            except (OSError, ValueError, KeyError) as exc:
                failures[idx] = f"image: {exc}"
                bar.update(1)
                continue
            todo.append((idx, questions, tiles))
            if len(todo) >= PROMPTS_PER_CHUNK:
                flush(bar)
        flush(bar)

    prompt_scores: list[float] = []
    by_l1: dict[str, list[float]] = defaultdict(list)
    by_l2: dict[str, list[float]] = defaultdict(list)
    dangling = 0
    for idx, res in results.items():
        dangling += res.dangling
        if res.score is None:
            failures[idx] = res.failure or "failed"
            continue
        per_sample.at[idx, "score"] = res.score
        questions = bank[str(records.at[idx, "item_id"]).strip()]
        per_sample.at[idx, "parsed"] = json.dumps(
            {
                "tile_scores": res.tile_scores,
                "answers": [{str(k): v for k, v in t.items()} for t in res.answers],
                "questions": {str(q.qid): q.text for q in questions},  # what each answer answers (report)
            },
            ensure_ascii=False,
        )
        prompt_scores.append(res.score)
        for q in questions:
            by_l1[q.broad].append(res.category_scores[q.qid])
            by_l2[q.category].append(res.category_scores[q.qid])
    for idx, why in failures.items():
        per_sample.at[idx, "parsed"] = f"failed: {why}"
    left_out = {idx: res.key_error for idx, res in results.items() if res.key_error is not None}
    if left_out:
        print(key_error_note(left_out, records), file=sys.stderr)

    mean = lambda xs: 100.0 * sum(xs) / len(xs) if xs else float("nan")  # noqa: E731
    rows = [("overall", "", mean(prompt_scores), len(prompt_scores))]
    rows += [("score", c, mean(v), len(v)) for c, v in sorted(by_l1.items())]
    rows += [("subcategory", c, mean(v), len(v)) for c, v in sorted(by_l2.items())]
    rows += [
        ("failed", "", float(len(failures)), len(ok)),
        ("failed", "missing_parent", float(len(left_out)), len(ok)),
        ("dangling_dependencies", "", float(dangling), len(ok)),
        ("mode", "official_quirks" if quirks else "corrected", 1.0, len(prompt_scores)),
    ]
    if judge is not None:
        rows.append(("mode", f"judge:{judge.name}", 1.0, len(prompt_scores)))
    if judges.demo:
        rows.append(("mode", "demo_judge", 1.0, len(prompt_scores)))
    rows += error_rows(records)
    return Scored(per_sample, table(rows))
