"""Run folders for the report and compare tests, built from real prediction files.

Understanding runs are made the way a user makes them: `janus-eval score --task T
FILE` over a golden samples file (or a copy of it with some answers changed).
Generation runs (whose scorers need detectors) are written through the run store
with drawn images and stored verdicts, in the layout `run` writes.
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import sys
from pathlib import Path

from PIL import Image, ImageDraw

from janus_eval.store.run_store import RunStore
from janus_eval.tasks.pope.scorer import parse as pope_parse

GOLDEN = Path(__file__).resolve().parent / "golden"
POPE_GOLDEN = GOLDEN / "pope" / "llava-v1.5-13b.samples.jsonl"
MME_GOLDEN = GOLDEN / "mme" / "llava-v1.5-13b.samples.jsonl"


def invoke(*args: str) -> tuple[int, str, str]:
    """`janus-eval ARGS` in-process: (exit code, stdout, stderr)."""
    from janus_eval.cli import main

    out, err = io.StringIO(), io.StringIO()
    old = sys.argv
    sys.argv = ["janus-eval", *map(str, args)]
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = old
    return code, out.getvalue(), err.getvalue()


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def score_run(root: Path, task: str, rows: list[dict], run_id: str, model: str = "Janus-Pro-7B") -> Path:
    """Score `rows` (a samples file's lines) into `root/run_id` with the CLI."""
    samples = write_jsonl(root / "inputs" / f"{run_id}.{task}.jsonl", rows)
    code, _, err = invoke(
        "score", "--task", task, samples, "--output", root, "--run-id", run_id, "--model", model
    )
    assert code == 0, err
    return root / run_id


def flip(row: dict) -> dict:
    """The POPE answer opposite to the label (so a right answer becomes wrong)."""
    return {**row, "prediction": "No" if row["answer"] == "yes" else "Yes"}


def pope_rows_with_wrong(share: float | None = None, count: int | None = None, seed: int = 0) -> list[dict]:
    """The POPE golden rows with `share` of the right answers (or `count` of them) turned wrong."""
    rows = read_jsonl(POPE_GOLDEN)
    right = [i for i, r in enumerate(rows) if pope_parse(r["prediction"]) == r["answer"]]
    k = count if count is not None else round(share * len(right))
    for i in random.Random(seed).sample(right, k):
        rows[i] = flip(rows[i])
    return rows


def draw(colour: str, shape: str, size: int = 48) -> Image.Image:
    img = Image.new("RGB", (size, size), "white")
    d = ImageDraw.Draw(img)
    box = (8, 8, size - 8, size - 8)
    (d.ellipse if shape == "circle" else d.rectangle)(box, fill=colour, outline="black")
    return img


GEN_TASK = "geneval"
GEN_PROMPTS = [
    ("single_object", "a photo of a red circle", "red", "circle", 1.0),
    ("single_object", "a photo of a blue square", "blue", "square", 1.0),
    ("colors", "a photo of a green circle", "orange", "circle", 0.0),
    ("two_object", "a photo of a circle and a square", "purple", "square", 0.0),
]


def generation_run(root: Path, run_id: str, prompt_extra: str = "", model: str = "Janus-Pro-7B") -> Path:
    """A generation run in the run-store layout: images under <task>/images/, stored verdicts."""
    import pandas as pd

    store = RunStore(root / run_id)
    records = []
    for k, (tag, prompt, colour, shape, score) in enumerate(GEN_PROMPTS):
        paths = []
        for n in range(2):
            rel = f"images/{k:05d}/samples/{n:04d}.png"
            (store.task_dir(GEN_TASK) / rel).parent.mkdir(parents=True, exist_ok=True)
            draw(colour, shape).save(store.task_dir(GEN_TASK) / rel)
            paths.append(rel)
        records.append({
            "sample_id": f"{k:05d}", "tag": tag, "prompt": prompt + (prompt_extra if k == 2 else ""),
            "images": paths, "error": None, "parsed": f"detected {colour} {shape}", "score": score,
        })  # fmt: skip
    # a record whose image paths try to leave the task folder: refused, never opened
    records.append({
        "sample_id": "00004", "tag": "counting", "prompt": "two circles", "error": None, "score": 0.0,
        "images": ["../../manifest.json", "/etc/hostname"], "parsed": "",
    })  # fmt: skip
    store.rewrite_records(GEN_TASK, records)
    config = {"name": GEN_TASK, "kind": "generation", "scorer": "gen_fixture_scorer", "headline": "overall/",
              "requires_judge": True, "scoring": {}}  # fmt: skip
    # hand-built, as an earlier janus-eval wrote it: Manifest.from_json must read it
    store.manifest_path.write_text(json.dumps({
        "run_id": run_id, "created": "2026-01-02T03:04:05+00:00",
        "model": {"model": model, "fingerprint": "f00dfeedbeef0123"},
        "tasks": {GEN_TASK: {"config": config, "config_hash": "gen-hash-1"}},
    }))  # fmt: skip
    rows = [("accuracy", "single_object", 100.0, 2), ("accuracy", "colors", 0.0, 1),
            ("accuracy", "two_object", 0.0, 1), ("accuracy", "counting", 0.0, 1), ("overall", "", 25.0, 5)]  # fmt: skip
    table = pd.DataFrame(rows, columns=["metric", "subset", "value", "n"])
    table.insert(0, "task", GEN_TASK)
    table["paper"] = float("nan")
    table["delta"] = float("nan")
    store.write_scores(table)
    return store.root
