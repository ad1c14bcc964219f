"""Builds the demo sample sets: `python -m janus_eval.demo.build`.

Each set is a few rows in the HF dataset's own schema, saved as parquet with the
images embedded (HF `Image` feature), so `--demo` runs the real pipeline offline.
The images are drawn shapes; the questions and answers are true of them.
Add a builder per task with `@demo("name")`.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Callable

from PIL import Image, ImageDraw

DEMO_DIR = Path(__file__).resolve().parent
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
    rows = []
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
        rows.append({"question_id": qid, "image": image, "question": yes_q + suffix, "answer": "Yes", "category": category})
        rows.append({"question_id": qid, "image": image, "question": no_q + suffix, "answer": "No", "category": category})
    return rows


def build(name: str, out_dir: Path = DEMO_DIR) -> Path:
    from datasets import Dataset, Features, Image as ImageFeature, Value

    rows = BUILDERS[name]()
    features = Features(
        {k: (ImageFeature() if isinstance(v, dict) and "bytes" in v else Value("string")) for k, v in rows[0].items()}
    )
    ds = Dataset.from_list(rows, features=features)
    path = out_dir / f"{name}.parquet"
    ds.to_parquet(str(path))
    return path


if __name__ == "__main__":
    for task in BUILDERS:
        print(build(task))
