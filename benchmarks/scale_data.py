"""Synthetic local copies of the seven understanding benchmarks at their real sizes, in
each HF dataset's own schema and file layout, for `janus-eval run --data-dir DIR`.

    write_all(DIR, fraction=1.0) -> {task: rows}

Row counts, column names, id formats, category counts and the file layout
(`DIR/<task>/<split>-0000k-of-0000n.parquet`, configs in their own folders) follow the
real datasets (see shared/BENCHMARKS.md). Images are photo-like JPEGs of realistic
sizes and weights (640x480 at ~110 KB, some 1024x768 and larger), PNG screenshots and
diagrams, and a few odd modes (CMYK, palette, RGBA, grayscale, 16-bit). To keep the
generation within minutes each task draws a pool of distinct images and reuses the
bytes across rows (every row still stores and decodes its own copy, as in the real
files). Parquet files are written in parts of PART_ROWS rows, so the generator never
holds a task in memory. GenEval and DPG-Bench need no data folder: their prompts ship
in the package; `write_dpg_csv` writes a question file in dpg_bench.csv's schema for
their 1,065 prompts (the real file is a pinned download).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from janus_eval.data.build_demo import features

PART_ROWS = 500
POOL = 600  # distinct images per task at most (GQA: its own ~400)

Row = dict[str, Any]


# --- images -------------------------------------------------------------------------
def photo(seed: int, size: tuple[int, int] = (640, 480), fmt: str = "JPEG", mode: str = "RGB") -> bytes:
    """A photo-like image: gradient + low-frequency blobs + grain + a few shapes, so a
    640x480 JPEG at quality 90 weighs ~110 KB like a COCO photo."""
    w, h = size
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = (xx / w)[..., None] * rng.uniform(40, 200, 3) + (yy / h)[..., None] * rng.uniform(40, 200, 3)
    small = rng.normal(128, 40, (h // 16 + 1, w // 16 + 1, 3)).clip(0, 255).astype(np.uint8)
    blobs = np.asarray(Image.fromarray(small).resize((w, h), Image.BICUBIC), np.float32) - 128
    arr = base * 0.6 + blobs + rng.normal(0, 10, (h, w, 3))
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for _ in range(6):
        x, y = int(rng.integers(0, w - 80)), int(rng.integers(0, h - 80))
        box = (x, y, x + int(rng.integers(20, 80)), y + int(rng.integers(20, 80)))
        draw.ellipse(box, fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
    if mode == "I;16":
        img = Image.fromarray((np.asarray(img.convert("L"), np.uint16) * 257).astype(np.uint16))
    elif mode == "P":
        img = img.quantize(64)
    elif mode != "RGB":
        img = img.convert(mode)
    buf = io.BytesIO()
    img.save(buf, format=fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buf.getvalue()


def screenshot(seed: int, size: tuple[int, int] = (800, 600)) -> bytes:
    """A PNG with flat areas and text-like strokes (posters, OCR, diagrams)."""
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", size, tuple(int(v) for v in rng.integers(180, 255, 3)))
    draw = ImageDraw.Draw(img)
    for _ in range(40):
        x, y = int(rng.integers(0, size[0] - 60)), int(rng.integers(0, size[1] - 20))
        draw.text((x, y), "lorem %d ipsum" % rng.integers(0, 999), fill=tuple(int(v) for v in rng.integers(0, 120, 3)))
    for _ in range(8):
        x, y = int(rng.integers(0, size[0] - 100)), int(rng.integers(0, size[1] - 100))
        draw.rectangle((x, y, x + int(rng.integers(20, 100)), y + int(rng.integers(20, 100))),
                       outline=(0, 0, 0), fill=tuple(int(v) for v in rng.integers(0, 255, 3)))  # fmt: skip
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


# (weight, maker): most images are 640x480-class JPEGs; some larger; PNGs; odd modes
KINDS: list[tuple[int, Callable[[int], bytes]]] = [
    (60, lambda s: photo(s)),
    (10, lambda s: photo(s, (500, 375))),
    (8, lambda s: photo(s, (1024, 768))),
    (3, lambda s: photo(s, (1600, 1200))),
    (8, lambda s: screenshot(s)),
    (4, lambda s: photo(s, (640, 480), "PNG")),
    (2, lambda s: photo(s, (640, 480), "JPEG", "CMYK")),
    (2, lambda s: photo(s, (480, 640), "PNG", "P")),
    (1, lambda s: photo(s, (640, 480), "PNG", "RGBA")),
    (1, lambda s: photo(s, (640, 480), "JPEG", "L")),
    (1, lambda s: photo(s, (320, 240), "PNG", "I;16")),
]  # fmt: skip
_CUM = np.cumsum([w for w, _ in KINDS])


def image_bytes(seed: int) -> bytes:
    kind = int(np.searchsorted(_CUM, seed * 7919 % int(_CUM[-1]), side="right"))
    return KINDS[kind][1](seed)


class Pool:
    """Image values by index: `n` distinct images made on first use, then reused."""

    def __init__(self, n: int, seed: int, maker: Callable[[int], bytes] = image_bytes):
        self.n, self.seed, self.maker, self._cache = max(1, n), seed, maker, {}

    def __call__(self, i: int) -> dict[str, Any]:
        k = i % self.n
        if k not in self._cache:
            self._cache[k] = self.maker(self.seed * 100_003 + k)
        return {"bytes": self._cache[k], "path": None}


# --- writing ------------------------------------------------------------------------
def write_parts(folder: Path, split: str, rows: Iterator[Row], proto: Row, n: int) -> int:
    """Rows -> `folder/<split>-0000k-of-0000m.parquet` in parts of PART_ROWS, with the
    features of `proto` (a row holding every image column)."""
    from datasets import Dataset

    folder.mkdir(parents=True, exist_ok=True)
    feats = features([proto])
    parts = max(1, -(-n // PART_ROWS))
    chunk: list[Row] = []
    written = k = 0
    for row in rows:
        chunk.append(row)
        if len(chunk) == PART_ROWS:
            Dataset.from_list(chunk, features=feats).to_parquet(str(folder / f"{split}-{k:05d}-of-{parts:05d}.parquet"))
            written, k, chunk = written + len(chunk), k + 1, []
    if chunk or not written:
        Dataset.from_list(chunk, features=feats).to_parquet(str(folder / f"{split}-{k:05d}-of-{parts:05d}.parquet"))
        written += len(chunk)
    return written


def scaled(n: int, fraction: float, least: int = 1) -> int:
    return max(least, round(n * fraction))


# --- the benchmarks -----------------------------------------------------------------
OBJECTS = ["dog", "cat", "car", "person", "chair", "bottle", "cup", "bicycle", "tv", "bench", "clock", "umbrella"]


def pope(out: Path, fraction: float) -> int:
    per_split = scaled(3000, fraction, 6)
    images = Pool(min(POOL, scaled(1500, fraction)), 1)

    def rows() -> Iterator[Row]:
        i = 0
        for split in ("adversarial", "popular", "random"):
            for q in range(per_split):
                yield {"id": str(i), "question_id": str(q + 1),
                       "question": f"Is there a {OBJECTS[(i * 5 + q) % len(OBJECTS)]} in the image?",
                       "answer": "yes" if q % 2 == 0 else "no", "image_source": f"COCO_val2014_{q // 6:012d}",
                       "image": images(q // 6), "category": split}  # fmt: skip
                i += 1

    proto = next(rows())
    return write_parts(out / "pope", "test", rows(), proto, 3 * per_split)


MME_COUNTS = {
    "existence": 60, "count": 60, "position": 60, "color": 60, "posters": 294, "celebrity": 340, "scene": 400,
    "landmark": 400, "artwork": 400, "OCR": 40, "commonsense_reasoning": 140, "numerical_calculation": 40,
    "text_translation": 40, "code_reasoning": 40,
}  # fmt: skip


def mme(out: Path, fraction: float) -> int:
    photos, shots = Pool(min(POOL, 1200), 2), Pool(300, 3, screenshot)
    text_like = {"posters", "OCR", "text_translation", "code_reasoning", "numerical_calculation"}
    counts = {c: 2 * scaled(n // 2, fraction) for c, n in MME_COUNTS.items()}

    def rows() -> Iterator[Row]:
        k = 0
        for cat, n in counts.items():
            for j in range(n // 2):
                image = (shots if cat in text_like else photos)(k)
                qid = f"{cat}/{j:04d}.png"
                for truth in ("Yes", "No"):
                    obj = OBJECTS[(k + (truth == "No")) % len(OBJECTS)]
                    yield {"question_id": qid, "image": image, "category": cat, "answer": truth,
                           "question": f"Is there a {obj} in this image? Please answer yes or no."}  # fmt: skip
                k += 1

    proto = next(rows())
    return write_parts(out / "mme", "test", rows(), proto, sum(counts.values()))


MMB_CATEGORIES = [
    ("object_localization", "finegrained_perception (instance-level)"),
    ("attribute_recognition", "finegrained_perception (instance-level)"),
    ("image_scene", "coarse_perception"), ("image_style", "coarse_perception"),
    ("ocr", "finegrained_perception (cross-instance)"), ("spatial_relationship", "relation_reasoning"),
    ("future_prediction", "logic_reasoning"), ("physical_property_reasoning", "attribute_reasoning"),
]  # fmt: skip


def mmbench(out: Path, fraction: float) -> int:
    """1,176 questions: 900 with 4 options, 225 with 3, 51 with 2 -> 4,377 rotation rows."""
    n4, n3, n2 = scaled(900, fraction), scaled(225, fraction), scaled(51, fraction)
    images = Pool(min(POOL, n4 + n3 + n2), 4)
    sizes = [4] * n4 + [3] * n3 + [2] * n2

    def rows() -> Iterator[Row]:
        for rot in range(4):  # the dataset lists the originals first, then each rotation
            for q, n in enumerate(sizes):
                if rot >= n:
                    continue
                options = [f"option {q}-{k} {OBJECTS[(q + k) % len(OBJECTS)]}" for k in range(n)]
                answer = q % n
                opts = [options[(k + rot) % n] for k in range(n)] + ["nan"] * (4 - n)
                cat, l2 = MMB_CATEGORIES[q % len(MMB_CATEGORIES)]
                yield {"index": q + rot * 1_000_000, "question": f"Which option describes image {q}?",
                       "hint": "nan" if q % 3 else f"A hint for question {q}.",
                       "A": opts[0], "B": opts[1], "C": opts[2], "D": opts[3], "answer": "ABCD"[(answer - rot) % n],
                       "category": cat, "L2-category": l2, "source": "synthetic", "comment": "nan", "split": "dev",
                       "image": images(q)}  # fmt: skip

    proto = next(rows())
    return write_parts(out / "mmbench" / "en", "dev", rows(), proto, sum(sizes))


SEED_DIMENSIONS = {1: 3158, 2: 1831, 3: 4649, 4: 978, 5: 2447, 6: 657, 7: 97, 8: 331, 9: 85}
SEED_VIDEO = 3757  # dimensions 10-12, left out by the task's `data_type: image` filter


def seedbench(out: Path, fraction: float) -> int:
    images, frames = Pool(POOL, 5), Pool(16, 6, lambda s: photo(s, (320, 240)))
    counts = {d: scaled(n, fraction) for d, n in SEED_DIMENSIONS.items()}
    videos = scaled(SEED_VIDEO, fraction)

    def rows() -> Iterator[Row]:
        i = 0
        for dim, n in counts.items():
            for _ in range(n):
                yield {"answer": "ABCD"[i % 4], "choice_a": f"a {OBJECTS[i % 12]}", "choice_b": f"two {OBJECTS[(i + 1) % 12]}s",
                       "choice_c": f"a red {OBJECTS[(i + 2) % 12]}", "choice_d": "none of them",
                       "data_id": f"{i:07d}.jpg", "data_type": "image", "question": f"What is shown in picture {i}?",
                       "question_id": str(100000 + i), "question_type_id": dim, "image": [images(i)]}  # fmt: skip
                i += 1
        for v in range(videos):
            yield {"answer": "A", "choice_a": "it opens", "choice_b": "it closes", "choice_c": "nothing", "choice_d": "it falls",
                   "data_id": f"v{v:05d}.mp4", "data_type": "video", "question": "What happens next?",
                   "question_id": str(900000 + v), "question_type_id": 10 + v % 3, "image": [frames(v), frames(v + 1)]}  # fmt: skip

    proto = next(rows())
    return write_parts(out / "seedbench", "test", rows(), proto, sum(counts.values()) + videos)


GQA_ANSWERS = ["yes", "no", "left", "right", "table", "man", "white", "black", "car", "dog", "wood", "red"]


def gqa(out: Path, fraction: float) -> int:
    """12,578 questions joined on `imageId` to ~400 images in their own config."""
    n, n_images = scaled(12578, fraction, 2), scaled(398, fraction)
    images = Pool(n_images, 7)
    image_ids = [f"n{161313 + 97 * k}" for k in range(n_images)]

    def questions() -> Iterator[Row]:
        for i in range(n):
            a = GQA_ANSWERS[i % len(GQA_ANSWERS)]
            yield {"id": f"20{i:07d}", "imageId": image_ids[(i * 31) % n_images], "question": f"Question {i} about the scene?",
                   "answer": a, "fullAnswer": f"The answer is {a}.", "isBalanced": True}  # fmt: skip

    def pictures() -> Iterator[Row]:
        for k, iid in enumerate(image_ids):
            yield {"id": iid, "image": images(k)}

    written = write_parts(out / "gqa" / "testdev_balanced_instructions", "testdev", questions(), next(questions()), n)
    write_parts(out / "gqa" / "testdev_balanced_images", "testdev", pictures(), next(pictures()), n_images)
    return written


MMMU_SUBJECTS = [
    "Accounting", "Agriculture", "Architecture_and_Engineering", "Art", "Art_Theory", "Basic_Medical_Science",
    "Biology", "Chemistry", "Clinical_Medicine", "Computer_Science", "Design", "Diagnostics_and_Laboratory_Medicine",
    "Economics", "Electronics", "Energy_and_Power", "Finance", "Geography", "History", "Literature", "Manage",
    "Marketing", "Materials", "Math", "Mechanical_Engineering", "Music", "Pharmacy", "Physics", "Psychology",
    "Public_Health", "Sociology",
]  # fmt: skip


def mmmu(out: Path, fraction: float) -> int:
    """900 questions (30 per subject): 53 open, the rest multiple choice; 1-7 images each,
    referenced as `<image N>` in the question or the options."""
    per_subject = scaled(30, fraction)
    images = Pool(min(POOL, 900), 8, lambda s: screenshot(s, (700 + s % 5 * 60, 400 + s % 7 * 50)))
    n_total = per_subject * len(MMMU_SUBJECTS)
    open_every = max(1, round(900 / 53))

    def rows() -> Iterator[Row]:
        i = 0
        for subject in MMMU_SUBJECTS:
            for j in range(per_subject):
                opened = i % open_every == 0
                image_options = i % 9 == 0 and not opened  # options are images 2-5, as some real ones
                n_img = 5 if image_options else 7 if i % 97 == 0 else 1 + (i % 5 == 0) + (i % 7 == 0)
                refs = "<image 1>" if image_options else " ".join(f"<image {k + 1}>" for k in range(n_img))
                options = "[]" if opened else str([f"<image {k + 2}>" if image_options else f"value {k}" for k in range(4)])
                row = {"id": f"validation_{subject}_{j + 1}", "question": f"Look at {refs}. What is the value?",
                       "options": options, "explanation": "", "img_type": "['Diagrams']",
                       "answer": str(i % 10) if opened else "ABCD"[i % 4], "topic_difficulty": ("Easy", "Medium", "Hard")[i % 3],
                       "question_type": "open" if opened else "multiple-choice", "subfield": subject}  # fmt: skip
                for k in range(7):
                    row[f"image_{k + 1}"] = images(i * 7 + k) if k < n_img else None
                yield row
                i += 1

    proto = {**next(rows()), **{f"image_{k + 1}": images(k) for k in range(7)}}
    return write_parts(out / "mmmu", "validation", rows(), proto, n_total)


def mmvet(out: Path, fraction: float) -> int:
    n = scaled(218, fraction)
    images = Pool(n, 9)
    caps = ["rec", "ocr", "know", "gen", "spat", "math", "rec,ocr", "ocr,spat,math", "rec,know,gen"]

    def rows() -> Iterator[Row]:
        for i in range(n):
            yield {"question_id": f"v1_{i}", "image": images(i), "question": f"What is written in picture {i}?",
                   "answer": f"word {i % 17} <OR> term {i % 17}", "capability": caps[i % len(caps)]}  # fmt: skip

    return write_parts(out / "mmvet", "test", rows(), next(rows()), n)


WRITERS: dict[str, Callable[[Path, float], int]] = {
    "pope": pope, "mme": mme, "mmbench": mmbench, "seedbench": seedbench, "gqa": gqa, "mmmu": mmmu, "mmvet": mmvet,
}  # fmt: skip


def write_all(out: Path, fraction: float = 1.0, tasks: list[str] | None = None) -> dict[str, int]:
    """Every understanding benchmark's local copy in `out`; returns the rows written per task."""
    return {t: WRITERS[t](Path(out), fraction) for t in (tasks or WRITERS)}


def write_dpg_csv(path: Path, item_ids: list[str]) -> Path:
    """A question file in dpg_bench.csv's schema: 4-9 questions per prompt, entities with
    attributes and relations that depend on them (`dependency`: parent ids, 0 = none)."""
    import csv

    path.parent.mkdir(parents=True, exist_ok=True)
    cols = ["item_id", "text", "keywords", "proposition_id", "dependency", "category_broad",
            "category_detailed", "tuple", "question_natural_language"]  # fmt: skip
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        for n, item in enumerate(item_ids):
            entities = 2 + n % 3
            qid = 0
            for e in range(entities):
                qid += 1
                parent = qid
                obj = OBJECTS[(n + e) % len(OBJECTS)]
                w.writerow([item, "prompt", "", qid, 0, "entity", "whole", f"entity - whole ({obj})", f"Is there a {obj}?"])
                if (n + e) % 2 == 0:
                    qid += 1
                    w.writerow([item, "prompt", "", qid, parent, "attribute", "color", f"attribute - color ({obj}, red)",
                                f"Is the {obj} red?"])  # fmt: skip
            qid += 1
            w.writerow([item, "prompt", "", qid, "1,2", "relation", "spatial", "relation - spatial (a, b, next to)",
                        "Are they next to each other?"])  # fmt: skip
            if n % 4 == 0:
                qid += 1
                w.writerow([item, "prompt", "", qid, 0, "global", "", "global - (realistic)", "Is the image realistic?"])
    return path


def packaged_ids(rel: str, key: str) -> list[str]:
    """Ids of a prompt file shipped in a task's folder (`rel` under janus_eval/tasks/)."""
    from janus_eval.tasks.registry import TASKS_DIR

    lines = (TASKS_DIR / rel).read_text(encoding="utf-8").splitlines()
    return [str(json.loads(line)[key]) for line in lines if line.strip()]
