"""Builds the demo sample sets: `python -m janus_eval.data.build_demo` (into tasks/<name>/demo.parquet).

Each set is a few rows in the HF dataset's own schema, saved as parquet with the
images embedded (HF `Image` feature), so `--demo` runs the real pipeline offline.
The images are drawn shapes; the questions and answers are true of them.
Add a builder per task with `@demo("name")`.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Callable

from PIL import Image, ImageDraw

TASKS_DIR = Path(__file__).resolve().parent.parent / "tasks"  # a file path: the data stage imports no task
BUILDERS: dict[str, Callable[[], list[dict]]] = {}

COLOURS = {"red": (220, 40, 40), "green": (40, 170, 60), "blue": (40, 70, 220), "yellow": (235, 210, 40)}


def demo(name: str):
    def register(fn):
        BUILDERS[name] = fn
        return fn

    return register


def png(img: Image.Image) -> dict:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return {"bytes": buf.getvalue(), "path": None}


def shapes(items: list[tuple[str, str]], size: tuple[int, int] = (96, 64)) -> Image.Image:
    """Draw (shape, colour) items left to right on white: shape in circle/square/triangle."""
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    w = size[0] // max(len(items), 1)
    for i, (shape, colour) in enumerate(items):
        x0, y0, x1, y1 = i * w + 6, 10, (i + 1) * w - 6, size[1] - 10
        fill = COLOURS[colour]
        if shape == "circle":
            draw.ellipse((x0, y0, x1, y1), fill=fill)
        elif shape == "square":
            draw.rectangle((x0, y0, x1, y1), fill=fill)
        else:
            draw.polygon([(x0, y1), ((x0 + x1) // 2, y0), (x1, y1)], fill=fill)
    return img


@demo("pope")
def pope_rows() -> list[dict]:
    scenes = [
        [("circle", "red"), ("square", "blue")],
        [("triangle", "green")],
        [("square", "yellow"), ("circle", "green"), ("triangle", "red")],
    ]
    questions = [("circle", "square"), ("triangle", "circle"), ("square", "star")]
    rows: list[dict] = []
    for split_i, split in enumerate(["adversarial", "popular", "random"]):
        for k, (scene, (present, absent)) in enumerate(zip(scenes, questions)):
            image = png(shapes(scene))
            for obj in (present, absent):
                truth = any(s == obj for s, _ in scene)
                qid = str(len([r for r in rows if r["category"] == split]) + 1)
                rows.append({
                    "id": str(len(rows)), "question_id": qid,
                    "question": f"Is there a {obj} in the image?",
                    "answer": "yes" if truth else "no",
                    "image_source": f"demo_{split_i}_{k}", "image": image, "category": split,
                })  # fmt: skip
    return rows


@demo("mme")
def mme_rows() -> list[dict]:
    cases = [
        ("existence", [("circle", "red")], "Is there a circle in this image?", "Is there a square in this image?"),
        ("count", [("square", "blue"), ("square", "blue")], "Are there two squares in this image?",
         "Are there five squares in this image?"),
        ("color", [("triangle", "green")], "Is the triangle green?", "Is the triangle red?"),
        ("position", [("circle", "red"), ("square", "blue")], "Is the circle on the left of the square?",
         "Is the circle on the right of the square?"),
        ("commonsense_reasoning", [("circle", "yellow")], "Could this yellow circle be a drawing of the sun?",
         "Is this yellow circle a real photograph of a car?"),
        ("numerical_calculation", [("square", "green"), ("triangle", "red")],
         "Is the number of shapes in the image plus one equal to three?",
         "Is the number of shapes in the image plus one equal to seven?"),
    ]  # fmt: skip
    rows = []
    for i, (category, scene, yes_q, no_q) in enumerate(cases):
        image = png(shapes(scene))
        qid = f"{category}/{i:04d}.png"
        suffix = " Please answer yes or no."
        for question, answer in ((yes_q, "Yes"), (no_q, "No")):
            rows.append({"question_id": qid, "image": image, "question": question + suffix, "answer": answer,
                         "category": category})  # fmt: skip
    return rows


@demo("gqa")
def gqa_rows() -> list[dict]:
    """Instructions with their image already joined (the demo needs no second config)."""
    scenes = {
        "n100": [("circle", "red"), ("square", "blue")],
        "n200": [("triangle", "green")],
        "n300": [("square", "yellow"), ("circle", "green")],
    }
    qa = [
        ("n100", "What color is the circle?", "red", "The circle is red."),
        ("n100", "Which shape is on the right?", "square", "The shape on the right is a square."),
        ("n200", "What shape is in the image?", "triangle", "It is a triangle."),
        ("n300", "Is the square yellow?", "yes", "Yes, the square is yellow."),
        ("n300", "What color is the circle?", "green", "The circle is green."),
    ]
    return [
        {"id": f"20{i:05d}", "imageId": image_id, "question": q, "answer": a, "fullAnswer": full,
         "image": png(shapes(scenes[image_id]))}
        for i, (image_id, q, a, full) in enumerate(qa)
    ]  # fmt: skip


@demo("seedbench")
def seedbench_rows() -> list[dict]:
    """Image questions (one image in a list, as lmms-lab/SEED-Bench stores them) and one
    video question (frames) that the task's `where: data_type: image` filter leaves out."""
    cases = [
        (1, [("circle", "red")], "What does the image show?", ["A red circle", "A blue square", "A dog", "A car"], "A"),
        (5, [("square", "blue"), ("square", "blue")], "How many squares are there?",
         ["One", "Three", "Two", "Four"], "C"),
        (3, [("triangle", "green")], "What color is the triangle?", ["Red", "Green", "Blue", "Yellow"], "B"),
        (4, [("circle", "yellow"), ("triangle", "red")], "Where is the triangle?",
         ["On the left", "At the top", "At the bottom", "On the right"], "D"),
    ]  # fmt: skip
    rows = []
    for i, (dim, scene, q, opts, ans) in enumerate(cases):
        rows.append({
            "answer": ans, "choice_a": opts[0], "choice_b": opts[1], "choice_c": opts[2], "choice_d": opts[3],
            "data_id": f"demo_{i}.jpg", "data_type": "image", "question": q, "question_id": str(101 + i),
            "question_type_id": dim, "image": [png(shapes(scene))],
        })  # fmt: skip
    frames = [png(shapes([("circle", "red")])), png(shapes([("square", "red")]))]
    rows.append({
        "answer": "A", "choice_a": "The circle becomes a square", "choice_b": "Nothing changes",
        "choice_c": "The square becomes a circle", "choice_d": "The colour changes", "data_id": "demo.webm",
        "data_type": "video", "question": "What happens in the video?", "question_id": "v1",
        "question_type_id": 10, "image": frames,
    })  # fmt: skip
    return rows


def _rotations(options: list[str], answer: int) -> list[tuple[list[str], str]]:
    """MMBench's circular rotations: option texts shifted, the answer letter following."""
    n = len(options)
    return [
        ([options[(k + r) % n] for k in range(n)], "ABCD"[(answer - r) % n])
        for r in range(n)
    ]  # fmt: skip


@demo("mmbench")
def mmbench_rows() -> list[dict]:
    """Three questions with all their circular rotations (index + k x 1,000,000);
    absent options and hints are the string 'nan', as in lmms-lab/MMBench."""
    cases = [
        ([("circle", "red")], "What shape is shown?", "nan", ["circle", "square", "triangle", "star"], 0,
         "object_localization", "finegrained_perception (instance-level)"),
        ([("square", "blue")], "What color is the shape?", "The picture was drawn by a program.",
         ["red", "blue", "green", "yellow"], 1, "attribute_recognition", "finegrained_perception (instance-level)"),
        ([("triangle", "green"), ("circle", "red")], "Is there more than one shape?", "nan", ["no", "yes"], 1,
         "image_scene", "coarse_perception"),
    ]  # fmt: skip
    rows = []
    for r in range(4):
        for q, (scene, question, hint, options, answer, cat, l2) in enumerate(cases):
            rots = _rotations(options, answer)
            if r >= len(rots):
                continue
            opts, letter = rots[r]
            padded = opts + ["nan"] * (4 - len(opts))
            rows.append({
                "index": q + r * 1_000_000, "question": question, "hint": hint,
                "A": padded[0], "B": padded[1], "C": padded[2], "D": padded[3], "answer": letter,
                "category": cat, "L2-category": l2, "source": "demo", "comment": "nan", "split": "dev",
                "image": png(shapes(scene)),
            })  # fmt: skip
    return rows


@demo("mmmu")
def mmmu_rows() -> list[dict]:
    """Multiple-choice and open questions; one references its images out of order."""
    red, blue = png(shapes([("circle", "red")])), png(shapes([("square", "blue")]))
    cases = [
        ("validation_Art_1", "Which shape does <image 1> show?", "['circle', 'square', 'triangle', 'star']", "A",
         "multiple-choice", [red]),
        ("validation_Math_2", "Compare <image 2> with <image 1>: which one shows a square?",
         "['<image 1>', '<image 2>']", "B", "multiple-choice", [red, blue]),
        ("validation_Physics_3", "How many shapes are in <image 1>?", "[]", "1", "open", [blue]),
        ("validation_Design_4", "What colour is the square in <image 1>?", "['red', 'blue', 'green']", "B",
         "multiple-choice", [blue]),
    ]  # fmt: skip
    rows = []
    for sid, question, options, answer, qtype, images in cases:
        row: dict[str, Any] = {
            "id": sid, "question": question, "options": options, "explanation": "", "img_type": "['Diagrams']",
            "answer": answer, "topic_difficulty": "Easy", "question_type": qtype, "subfield": "demo",
        }  # fmt: skip
        for k in range(7):
            row[f"image_{k + 1}"] = images[k] if k < len(images) else None
        rows.append(row)
    return rows


@demo("mmvet")
def mmvet_rows() -> list[dict]:
    cases = [
        ([("circle", "red")], "What shape is in the image?", "circle", "rec"),
        ([("square", "blue"), ("circle", "green")], "Name the two shapes from left to right.",
         "square <AND> circle", "rec,spat"),
        ([("triangle", "yellow")], "What color is the triangle?", "yellow <OR> gold", "rec"),
        ([("square", "red"), ("square", "red")], "How many squares are there? Add three.", "5", "rec,math"),
    ]  # fmt: skip
    return [
        {"question_id": f"v1_{i}", "image": png(shapes(scene)), "question": q, "answer": a, "capability": cap}
        for i, (scene, q, a, cap) in enumerate(cases)
    ]  # fmt: skip


DPG_DEMO_ITEMS = ["partiprompts302", "COCOval2014000000053916", "COCOval2014000000126671"]


@demo("dpgbench")
def dpgbench_rows() -> list[dict]:
    """Three real DPG-Bench prompts; their questions are in tasks/dpgbench/demo_questions.csv (hand-written
    in the schema of the official dpg_bench.csv, for demo runs only)."""
    import json

    path = TASKS_DIR / "dpgbench" / "data" / "prompts.jsonl"
    rows = {r["item_id"]: r for r in map(json.loads, path.read_text(encoding="utf-8").splitlines())}
    return [{"item_id": i, "prompt": rows[i]["prompt"]} for i in DPG_DEMO_ITEMS]


@demo("geneval")
def geneval_rows() -> list[dict]:
    """The first real GenEval prompt of each of the six tags, with its line number as
    `index` and its clauses as JSON text (as the packaged loader gives them)."""
    import json

    path = TASKS_DIR / "geneval" / "data" / "evaluation_metadata.jsonl"
    rows, seen = [], set()
    for index, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        row = json.loads(line)
        if row["tag"] not in seen:
            seen.add(row["tag"])
            exclude = json.dumps(row["exclude"]) if "exclude" in row else None
            rows.append({"index": index, "tag": row["tag"], "include": json.dumps(row["include"]),
                         "exclude": exclude, "prompt": row["prompt"]})  # fmt: skip
    return rows


def _feature(values: list):
    """The HF feature of a column from its first non-empty value."""
    from datasets import Image as ImageFeature
    from datasets import List, Value

    v = next((x for x in values if x is not None), None)
    if isinstance(v, dict) and "bytes" in v:
        return ImageFeature()
    if isinstance(v, list) and v and isinstance(v[0], dict):
        return List(ImageFeature())
    if isinstance(v, bool):
        return Value("bool")
    if isinstance(v, int):
        return Value("int64")
    return Value("string")


def features(rows: list[dict]):
    """The HF features of rows in a dataset's schema (images as `Image`, lists of them as
    `List(Image)`), so the parquet reads back as the hub's own files do."""
    from datasets import Features

    return Features({k: _feature([r.get(k) for r in rows]) for k in rows[0]})


def build(name: str, tasks_dir: Path = TASKS_DIR) -> Path:
    from datasets import Dataset

    rows = BUILDERS[name]()
    ds = Dataset.from_list(rows, features=features(rows))
    path = tasks_dir / name / "demo.parquet"
    ds.to_parquet(str(path))
    return path


if __name__ == "__main__":
    import sys

    for task in sys.argv[1:] or BUILDERS:
        print(build(task))
