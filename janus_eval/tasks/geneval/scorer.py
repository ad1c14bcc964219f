"""GenEval, with the rules of the official evaluator (github djghosh13/geneval,
`evaluation/evaluate_images.py` and `evaluation/summary_scores.py`).

Record shape (one line of `<task>/samples.jsonl` per prompt):

- `sample_id` (the runner's id) and `index`: the prompt's line number (from 0) in
  `evaluation_metadata.jsonl`;
- `tag`, `include`, `exclude`, `prompt`: the prompt's metadata under GenEval's own
  field names (`include`/`exclude` are lists of `{class, count, color?, position?}`, or
  the same as a JSON string; `exclude` is absent or null for prompts without one);
- `images`: the generated images' paths relative to the task folder, in the official
  layout: `images/<index:05d>/samples/<n:04d>.png`; the folder `images/<index:05d>/`
  also holds `metadata.jsonl` (the prompt's metadata line), so the official
  `evaluate_images.py` can read the same folder;
- `prediction`: that folder, `images/<index:05d>` (the samples contract's raw output);
- `error`: a message, or null (a prompt the model could not draw is left out of the
  metrics and counted in the `errors` row).

Settings (the task's `scoring:` mapping): `threshold` 0.3, `counting_threshold` 0.9,
`max_objects` 16, `max_overlap` 1.0 (no NMS), `position_threshold` 0.1, `bgcolor`
"#999999", `crop` true, as in the official script; plus `image_root`, the task folder
the image paths are relative to (the runner sets it; default: the working directory),
`progress` (the runner's: whether judging draws a bar, else plain lines), and the
judges' `device`, `geneval_dir`, `detector_config`, `detector_checkpoint`, `clip_checkpoint`
(see `judges/geneval_detector.py`). Other keys (settings meant for other tasks' scorers)
are ignored.

Per image: detections above the score threshold (0.9 for the `counting` tag; compared in
float32), at most 16 per class, most confident first in the official `np.argsort` order
(equal scores: the later detector row first; see `official_order`); every `include`
clause needs `count` objects of its class (and, with `color`, that many of the top
`count` classified as that colour by CLIP; with `position`, each of them in that
relation to every object of the target clause); every `exclude` clause needs fewer
than `count` (so counting is exactly N). The verdict text is the official one
("expected dog>=1, found 0", ...). Tables: `accuracy` per tag = mean over images,
`overall` = mean of the tag scores, plus the share of correct images and of prompts with
at least one correct image. Values are in percent like the rest of janus-eval (the paper
writes 0.80 for 80.0). With the demo (random-weight) judges the table has a row
`mode / demo_judge`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image, ImageOps

from janus_eval.core.errors import UsageError
from janus_eval.core.metric import Metric
from janus_eval.core.progress import progress
from janus_eval.score.base import ERRORS, Scored, answered, error_rows, table
from janus_eval.score.contract import Context, Field, RowCheck, image_path_problem, shown
from janus_eval.score.contract import answered as row_answered
from janus_eval.score.judges import Judges
from janus_eval.score.judges.geneval_detector import Detection, GenEvalJudge, object_names
from janus_eval.tasks.geneval.order import argsort_numpy123

METRICS = (
    Metric("accuracy", True, "percent"),  # per tag
    Metric("overall", True, "percent"),  # the mean of the tags' accuracies (the report's number)
    Metric("images_correct", True, "percent"),
    Metric("prompts_correct", True, "percent"),  # any of a prompt's images right
    Metric("unreadable_images", False, "count"),
    Metric("prompts_without_images", False, "count"),
    Metric("mode", None, "text"),  # demo_judge: random-weight judges
    ERRORS,
)

TAGS = ("single_object", "two_object", "counting", "colors", "position", "color_attr")
COLORS = ("red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "black", "white")
COLOR_TEMPLATES = ("a photo of a {c} {obj}", "a photo of a {c}-colored {obj}", "a photo of a {c} object")
RELATIONS = ("left of", "right of", "above", "below")  # the order verdicts list found relations in


@dataclass(frozen=True)
class Rules:
    """The official evaluator's options, with its defaults."""

    threshold: float = 0.3
    counting_threshold: float = 0.9
    max_objects: int = 16
    max_overlap: float = 1.0
    position_threshold: float = 0.1
    bgcolor: str = "#999999"
    crop: bool = True

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None) -> Rules:
        """The rule settings among `settings` (other keys belong to the judges, the runner
        or other tasks' scorers); a value of the wrong type is a UsageError."""
        given = {f.name: (settings or {})[f.name] for f in fields(cls) if f.name in (settings or {})}
        defaults = cls()
        try:
            for name, value in given.items():
                kind = type(getattr(defaults, name))
                given[name] = value if kind is bool and isinstance(value, bool) else kind(value)
                if kind is bool and not isinstance(value, bool):
                    raise ValueError(value)
        except (TypeError, ValueError) as exc:
            raise UsageError(
                f"geneval scoring setting {name}={value!r} is not a valid {kind.__name__}"
            ) from exc
        return cls(**given)


@dataclass(frozen=True)
class Verdict:
    correct: bool
    reason: str  # the official text: one line per failed clause, "" when correct


# --- detections -> objects -----------------------------------------------------------------


def compute_iou(box_a: Sequence[float], box_b: Sequence[float]) -> float:
    """IoU of two x1,y1,x2,y2 boxes with the official +1 pixel convention."""

    def area(b: Sequence[float]) -> float:
        return max(b[2] - b[0] + 1, 0) * max(b[3] - b[1] + 1, 0)

    inter = area(
        [max(box_a[0], box_b[0]), max(box_a[1], box_b[1]), min(box_a[2], box_b[2]), min(box_a[3], box_b[3])]
    )
    union = area(box_a) + area(box_b) - inter
    return inter / union if union else 0.0


def official_order(scores: Sequence[float], threshold: float, max_objects: int) -> list[int]:
    """Indices into one class's `scores` (in the detector's row order) of the detections
    kept, most confident first, as the official evaluator's
    `ordering = np.argsort(s)[::-1]; ordering = ordering[s[ordering] > threshold][:max_objects]`
    over the float32 scores: the comparison is strict and in float32 (a score equal to
    float32(0.3) is dropped), the cap comes after the threshold.

    Ties: the argsort is numpy 1.23's (the official environment's), reproduced by
    `argsort_numpy123` because newer numpy on AVX2/AVX-512 CPUs orders ties otherwise.
    For at most 16 detections of a class (counted before the threshold) tied ones come out
    later row first (scores [.5, .9, .5, .5, .9] -> [4, 1, 3, 2, 0]). For more than 16,
    numpy's own sort (its introsort's partitioning) decides, as in the official script."""
    s = np.asarray(scores, dtype=np.float32).reshape(-1)
    order = np.asarray(argsort_numpy123(s), dtype=np.intp)[::-1]
    order = order[s[order] > np.float32(threshold)]
    return [int(i) for i in order[:max_objects]]


def select_objects(
    detections: Sequence[Detection], tag: str, rules: Rules = Rules()
) -> dict[str, list[Detection]]:
    """Per class, the detections kept: `official_order` over the class's detections in
    the order `detections` lists them (the detector's rows filtered by label, as mmdet
    2.x's `bbox2result` splits them; `MmdetDetector.detect` keeps that order), with the
    counting threshold for the `counting` tag, then greedy suppression of overlaps
    >= `max_overlap` (none at the default 1.0)."""
    threshold = rules.counting_threshold if tag == "counting" else rules.threshold
    by_class: dict[str, list[Detection]] = {}
    for det in detections:
        by_class.setdefault(det.label, []).append(det)
    kept: dict[str, list[Detection]] = {}
    for label, dets in by_class.items():
        ordered = [dets[i] for i in official_order([d.score for d in dets], threshold, rules.max_objects)]
        chosen: list[Detection] = []
        while ordered:
            top = ordered.pop(0)
            chosen.append(top)
            if rules.max_overlap != 1:
                ordered = [d for d in ordered if compute_iou(top.box, d.box) < rules.max_overlap]
        if chosen:
            kept[label] = chosen
    return kept


# --- the rules ----------------------------------------------------------------------------


def relative_position(obj: Detection, target: Detection, position_threshold: float = 0.1) -> set[str]:
    """Where `obj` is relative to `target`: the offset between box centres, each component
    shrunk towards 0 by `position_threshold` x (sum of the two boxes' sizes), divided by
    the length of the raw offset; a component beyond 0.5 names a relation (y grows down)."""
    a, b = np.asarray(obj.box[:4], dtype=float), np.asarray(target.box[:4], dtype=float)
    offset = (a[:2] + a[2:]) / 2 - (b[:2] + b[2:]) / 2
    dims = np.abs(a[2:] - a[:2]) + np.abs(b[2:] - b[:2])
    revised = np.maximum(np.abs(offset) - position_threshold * dims, 0) * np.sign(offset)
    if np.all(np.abs(revised) < 1e-3):
        return set()
    dx, dy = revised / np.linalg.norm(offset)
    rels = set()
    if dx < -0.5:
        rels.add("left of")
    if dx > 0.5:
        rels.add("right of")
    if dy < -0.5:
        rels.add("above")
    if dy > 0.5:
        rels.add("below")
    return rels


ColorsOf = Callable[[str, list[Detection]], list[str]]  # (class name, objects) -> one colour name each


def evaluate(
    objects: Mapping[str, list[Detection]],
    metadata: Mapping[str, Any],
    colors_of: ColorsOf,
    rules: Rules = Rules(),
) -> Verdict:
    """One image's verdict: `include` clauses joined with AND, `exclude` clauses with OR.

    Colour and position are judged on the `count` most confident objects of the class;
    a clause whose colour fails is not checked for position; a position clause whose
    target clause failed fails with "no target ...".
    """
    correct = True
    reasons: list[str] = []
    matched_groups: list[list[Detection] | None] = []
    for req in metadata.get("include") or []:
        cls, count = req["class"], int(req["count"])
        found = list(objects.get(cls, []))[:count]
        matched = True
        if len(found) < count:
            matched = False
            reasons.append(f"expected {cls}>={count}, found {len(found)}")
        else:
            if req.get("color"):
                want = req["color"]
                colors = list(colors_of(cls, found))
                if colors.count(want) < count:
                    matched = False
                    tally = ", ".join(f"{colors.count(c)} {c}" for c in COLORS if c in colors)
                    reasons.append(
                        f"expected {want} {cls}>={count}, found {colors.count(want)} {want}; and {tally}"
                    )
            if req.get("position") and matched:
                relation, target = req["position"][0], int(req["position"][1])
                targets = matched_groups[target] if 0 <= target < len(matched_groups) else None
                if targets is None:
                    matched = False
                    reasons.append(f"no target for {cls} to be {relation}")
                else:
                    for obj in found:
                        for tobj in targets:
                            rels = relative_position(obj, tobj, rules.position_threshold)
                            if relation not in rels:
                                matched = False
                                seen = " and ".join(r for r in RELATIONS if r in rels)
                                reasons.append(f"expected {cls} {relation} target, found {seen} target")
                                break
                        if not matched:
                            break
        correct = correct and matched
        matched_groups.append(found if matched else None)
    for req in metadata.get("exclude") or []:
        cls, count = req["class"], int(req["count"])
        n = len(objects.get(cls, []))
        if n >= count:
            correct = False
            reasons.append(f"expected {cls}<{count}, found {n}")
    return Verdict(correct, "\n".join(reasons))


def color_crop(
    image: Image.Image, obj: Detection, bgcolor: str = "#999999", crop: bool = True
) -> Image.Image:
    """The picture the colour classifier sees: the object pasted through its mask onto a
    plain `bgcolor` background (or the whole image without a mask), cropped to its box
    (PIL rounds the float box)."""
    image = image.convert("RGB")
    if obj.mask is not None:
        mask = np.asarray(obj.mask, dtype=bool)
        if mask.shape != (image.height, image.width):
            raise ValueError(f"mask of shape {mask.shape} for an image of size {image.width}x{image.height}")
        blank = image.copy() if bgcolor == "original" else Image.new("RGB", image.size, color=bgcolor)
        image = Image.composite(image, blank, Image.fromarray(mask))
    if crop:
        x1, y1, x2, y2 = (float(v) for v in obj.box[:4])
        image = image.crop((x1, y1, x2, y2))
    return image


def color_prompts(classname: str) -> list[list[str]]:
    """The zero-shot prompts: per colour, the three official templates for this class."""
    return [[t.format(c=c, obj=classname) for t in COLOR_TEMPLATES] for c in COLORS]


# --- aggregation ---------------------------------------------------------------------------


def summarize(
    tags: Sequence[str], correct: Sequence[bool], prompt_ids: Sequence[str]
) -> list[tuple[str, str, float, int]]:
    """Per-tag accuracy (mean over images), overall (mean of the tag scores), correct
    images and correct prompts (any image right), in percent, as `summary_scores.py`."""
    df = pd.DataFrame({"tag": list(tags), "correct": [bool(c) for c in correct], "prompt": list(prompt_ids)})
    rows: list[tuple[str, str, float, int]] = []
    if df.empty:
        return [("overall", "", float("nan"), 0)]
    order = [t for t in TAGS if t in set(df["tag"])] + sorted(set(df["tag"]) - set(TAGS))
    tag_scores = []
    for tag in order:
        part = df[df["tag"] == tag]["correct"]
        tag_scores.append(part.mean())
        rows.append(("accuracy", tag, 100 * float(part.mean()), len(part)))
    rows.append(("overall", "", 100 * float(np.mean(tag_scores)), len(df)))
    rows.append(("images_correct", "", 100 * float(df["correct"].mean()), len(df)))
    per_prompt = df.groupby("prompt")["correct"].any()
    rows.append(("prompts_correct", "", 100 * float(per_prompt.mean()), len(per_prompt)))
    return rows


# --- the scorer ----------------------------------------------------------------------------


def _clauses(value: Any) -> list[dict]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    if isinstance(value, str):
        value = json.loads(value) if value.strip() else []
    return [dict(v) for v in value]


def _paths(value: Any) -> list[str]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    if isinstance(value, str):
        return json.loads(value) if value.strip().startswith("[") else [value]
    return [str(v) for v in value]


def metadata_of(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record's prompt metadata in the official shape."""
    meta: dict[str, Any] = {"tag": str(record["tag"]), "include": _clauses(record.get("include"))}
    exclude = _clauses(record.get("exclude"))
    if exclude:
        meta["exclude"] = exclude
    meta["prompt"] = str(record.get("prompt", ""))
    return meta


def records_from_folder(folder: str | Path) -> list[dict[str, Any]]:
    """Records for images already in the official layout (`<index:05d>/metadata.jsonl` +
    `samples/<n:04d>.png`, e.g. written by another tool for the official evaluator); image
    paths relative to `folder`."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UsageError(
            f"{folder} is not a folder of GenEval images (<index:05d>/metadata.jsonl + samples/)"
        )
    records = []
    for sub in sorted(
        (p for p in folder.iterdir() if p.is_dir() and p.name.isdigit()), key=lambda p: int(p.name)
    ):
        meta_path = sub / "metadata.jsonl"
        if not meta_path.is_file():
            raise UsageError(f"{meta_path} is missing: every prompt folder needs its metadata.jsonl")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8").strip().splitlines()[0])
        except (json.JSONDecodeError, IndexError) as exc:
            raise UsageError(
                f"{meta_path} is not a JSON metadata line; copy it from evaluation_metadata.jsonl"
            ) from exc
        pngs = (
            sorted(p for p in (sub / "samples").glob("*.png") if p.stem.isdigit())
            if (sub / "samples").is_dir()
            else []
        )
        records.append({
            "sample_id": str(int(sub.name)), "index": int(sub.name), "tag": meta.get("tag"),
            "include": meta.get("include", []), "exclude": meta.get("exclude"), "prompt": meta.get("prompt", ""),
            "images": [p.relative_to(folder).as_posix() for p in pngs],
            "prediction": sub.relative_to(folder).as_posix(), "error": None,
        })  # fmt: skip
    if not records:
        raise UsageError(f"{folder} holds no GenEval prompt folders (<index:05d>/metadata.jsonl + samples/)")
    return records


# --- the samples contract (score/contract.py): what this scorer reads from a samples file ---
SAMPLE_FIELDS = (
    Field("index", kinds=(int,), required=True, nullable=False),  # the prompt's line: its image folder
    Field("tag", allowed=TAGS, required=True, nullable=False),  # anything else would be a new tag score
    Field("include", kinds=(list, str), required=True, nullable=False),  # clauses, or the same as JSON text
    Field("exclude", kinds=(list, str)),
    Field("prompt"),
    Field("images", kinds=(list,), items=str),
)
CLAUSE_KEYS = ("class", "count", "color", "position")
OBJECT_NAMES = frozenset(object_names())  # the 80 COCO classes the detector labels


def _clause_problem(name: str, n: int, clause: Any, earlier: int) -> str | None:
    """What is wrong with clause `n` of `include`/`exclude`; `earlier`: how many include
    clauses come before it (a position's target must be one of them)."""
    where = f"field '{name}' clause {n}"
    if not isinstance(clause, dict):
        return f"{where} is {shown(clause)}; it should be an object {{class, count, color?, position?}}"
    keys = CLAUSE_KEYS if name == "include" else ("class", "count")
    unknown = [k for k in clause if k not in keys]
    if unknown:  # a typo ("colour") would drop the rule silently
        return f"{where} has key {shown(unknown[0])}; a clause has only {', '.join(keys)}"
    cls, count = clause.get("class"), clause.get("count")
    if cls not in OBJECT_NAMES:
        return (
            f"{where} has class {shown(cls)}; it should be one of the 80 COCO classes the detector knows "
            "(score/judges/geneval_object_names.txt, e.g. dog, traffic light)"
        )
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        return f"{where} has count {shown(count)}; it should be a positive integer"
    if "color" in clause and clause["color"] not in COLORS:
        return f"{where} has color {shown(clause['color'])}; it should be one of {', '.join(COLORS)}"
    if "position" in clause:
        pos = clause["position"]
        ok = isinstance(pos, list) and len(pos) == 2 and pos[0] in RELATIONS
        target = pos[1] if ok else None
        if not ok or not isinstance(target, int) or isinstance(target, bool) or not 0 <= target < earlier:
            return (
                f"{where} has position {shown(pos)}; it should be [relation, index] with the relation one of "
                f"{', '.join(RELATIONS)} and the index that of an earlier include clause "
                f"({'0' if earlier == 1 else f'0 to {earlier - 1}'})"
                if earlier
                else f"{where} has a position, but no include clause comes before it to be its target"
            )
    return None


def _clauses_problem(name: str, value: Any) -> str | None:
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else []
        except ValueError:
            return f"field '{name}' is {shown(value)}, not JSON; it should be a list of clauses (or that list as JSON)"
    if not isinstance(value, list):
        return f"field '{name}' is {shown(value)}; it should be a list of clauses {{class, count, ...}}"
    if name == "include" and not value:
        return "field 'include' is empty; it should list at least one clause {class, count, ...}"
    for n, clause in enumerate(value):
        problem = _clause_problem(name, n, clause, n)
        if problem:
            return problem
    return None


def check_sample(row: dict) -> str | None:
    """The prompt's metadata as in GenEval's evaluation_metadata.jsonl: the index names a folder,
    every clause names a class the detector knows, a positive count, one of the ten colours and a
    relation to an earlier clause (anything else would be judged by rules that do not exist)."""
    if row["index"] < 0:
        return f"field 'index' is {row['index']}; it should be the prompt's line in evaluation_metadata.jsonl (from 0)"
    for name in ("include", "exclude"):
        if row.get(name) is not None:
            problem = _clauses_problem(name, row[name])
            if problem:
                return problem
    return None


def file_check(context: Context) -> RowCheck:
    """A file's rows: one per prompt (a repeated index would count its images twice), and each
    answered row's images inside the samples file's folder, present and readable: the official
    evaluator judges every image it finds and stops at one it cannot read, so a missing or
    broken image is a bad file here too, not a silent wrong verdict."""
    seen: set[int] = set()

    def check(row: dict[str, Any]) -> str | None:
        if row["index"] in seen:
            return f"field 'index' is {row['index']}, which an earlier line has too; one line per prompt"
        seen.add(row["index"])
        if context.root is None or not row_answered(row):
            return None
        if "images" not in row or row["images"] is None:
            return "missing field 'images'; it should list the prompt's image paths, relative to the samples file"
        for rel in row["images"]:
            problem = image_path_problem("images", rel, context.root, readable=True)
            if problem:
                return problem
        return None

    return check


# The settings `run` and `score` take from the command line (--geneval-dir): put into the
# task's `scoring`, so into its config hash.
COMMAND_LINE_SETTINGS = ("geneval_dir",)


def preflight(settings: Mapping[str, Any] | None, judges: Judges | None = None) -> None:
    """Before any image is drawn: the rule settings are valid, the geneval extra is
    installed and the judges' weights are at hand (not needed in demo mode)."""
    Rules.from_settings(settings)
    (judges if judges is not None else Judges()).check_geneval(settings or {})


def judge_image(path: Path, metadata: Mapping[str, Any], judge: GenEvalJudge, rules: Rules) -> dict[str, Any]:
    """Detect, select, classify colours on demand, and give the verdict for one image file."""
    try:
        with Image.open(path) as raw:
            image = ImageOps.exif_transpose(raw).convert("RGB")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        return {"correct": False, "reason": f"unreadable image: {exc}", "details": {}, "unreadable": True}
    objects = select_objects(judge.detect(path), str(metadata["tag"]), rules)

    def colors_of(classname: str, objs: list[Detection]) -> list[str]:
        crops = [color_crop(image, o, rules.bgcolor, rules.crop) for o in objs]
        return [COLORS[i] for i in judge.classify(crops, color_prompts(classname))]

    verdict = evaluate(objects, metadata, colors_of, rules)
    details = {k: [[*map(float, o.box[:4]), float(o.score)] for o in v] for k, v in objects.items()}
    return {"correct": verdict.correct, "reason": verdict.reason, "details": details}


def score(records: pd.DataFrame, settings: Mapping[str, Any] | None = None, judges: Judges | None = None) -> Scored:
    rules = Rules.from_settings(settings)
    root = Path((settings or {}).get("image_root") or ".")
    ok = answered(records)
    missing = [c for c in ("tag", "include", "images") if c not in records.columns]
    if missing:
        raise UsageError(
            f"geneval records lack column(s) {', '.join(missing)}; expected tag, include, exclude, "
            "prompt, images (paths relative to the task folder)"
        )
    for _, rec in ok.iterrows():
        for rel in _paths(rec["images"]):
            if not (root / rel).is_file():
                raise UsageError(
                    f"GenEval image {root / rel} is missing: pass the task folder that holds images/ "
                    "(or rerun the generation)"
                )
    parsed = pd.Series([None] * len(records), index=records.index, dtype=object)
    per_score = pd.Series([None] * len(records), index=records.index, dtype=object)
    tags: list[str] = []
    flags: list[bool] = []
    prompt_ids: list[str] = []
    unreadable = 0
    judges = judges if judges is not None else Judges()  # none given: loaded here, for this call
    judge = judges.geneval_judge(settings or {}) if len(ok) else None  # nothing to judge: none loaded
    n_images = sum(len(_paths(rec["images"])) for _, rec in ok.iterrows())
    # detecting takes a while per image: a bar, so judging is not silence (plain lines with --no-progress)
    on = bool((settings or {}).get("progress", True))
    with progress(n_images, "geneval: judging", "image", enabled=on) as bar:
        for idx, rec in ok.iterrows():
            assert judge is not None
            meta = metadata_of(rec)
            verdicts = []
            for rel in _paths(rec["images"]):
                v = judge_image(root / rel, meta, judge, rules)
                unreadable += int(v.pop("unreadable", False))
                verdicts.append({"image": rel, **v})
                tags.append(meta["tag"])
                flags.append(v["correct"])
                prompt_ids.append(str(rec.get("sample_id", rec.get("index", idx))))
                bar.update(1)
            parsed[idx] = verdicts
            per_score[idx] = float(np.mean([v["correct"] for v in verdicts])) if verdicts else None
    rows = summarize(tags, flags, prompt_ids)
    rows.append(("unreadable_images", "", float(unreadable), len(flags)))
    # a prompt with no images at all (e.g. a folder without samples/) is in no tag's mean: say so
    empty = sum(1 for idx in ok.index if not parsed.get(idx))
    rows.append(("prompts_without_images", "", float(empty), len(ok)))
    if judge is not None and judge.demo:
        rows.append(("mode", "demo_judge", 1.0, len(flags)))  # random-weight judges: the scores mean nothing
    rows += error_rows(records)
    return Scored(pd.DataFrame({"parsed": parsed, "score": per_score}), table(rows))
