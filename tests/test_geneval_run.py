"""GenEval through the run path: packaged prompts, the official image layout, the demo
judges, and `score` on the written samples."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import ROOT
from helpers import needs_geneval_extra
from PIL import Image

from janus_eval.core.sample import Sample
from janus_eval.data.load import load_samples
from janus_eval.tasks.geneval import scorer as G
from janus_eval.tasks.geneval.layout import write as write_geneval
from janus_eval.tasks.registry import load_task

META_LINES = (ROOT / "janus_eval/tasks/geneval/data/evaluation_metadata.jsonl").read_text().splitlines()

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
]


def test_packaged_prompts_load_with_their_line_numbers_and_clauses():
    task = load_task("geneval")
    data = load_samples(task)
    assert len(data.samples) == 553 and data.source["kind"] == "package"
    pos = next(s for s in data.samples if s.row["tag"] == "position")
    line = json.loads(META_LINES[pos.row["index"]])
    assert pos.id == str(pos.row["index"]) and pos.row["prompt"] == line["prompt"]
    assert json.loads(pos.row["include"]) == line["include"]  # mixed ["right of", 0] pairs survive Arrow
    count = next(s for s in data.samples if s.row["tag"] == "counting")
    assert json.loads(count.row["exclude"]) == json.loads(META_LINES[count.row["index"]])["exclude"]
    assert data.samples[0].row["exclude"] is None  # most prompts have no exclude clause
    demo = load_samples(task, demo=True)
    assert [s.row["tag"] for s in demo.samples] == list(G.TAGS)
    for s in demo.samples:
        line = json.loads(META_LINES[s.row["index"]])
        assert json.loads(s.row["include"]) == line["include"] and s.row["prompt"] == line["prompt"]
        assert (json.loads(s.row["exclude"]) if s.row["exclude"] else None) == line.get("exclude")


def test_layout_writes_the_official_folder(tmp_path):
    task = load_task("geneval")
    line = json.loads(META_LINES[179])  # a counting prompt, with an exclude clause
    row = {
        "index": 179,
        "tag": line["tag"],
        "include": json.dumps(line["include"]),
        "exclude": json.dumps(line["exclude"]),
        "prompt": line["prompt"],
    }
    imgs = [Image.new("RGB", (8, 8), c) for c in ("red", "blue")]
    fields = write_geneval(tmp_path, Sample("179", row), imgs, task)
    assert fields["prediction"] == "images/00179"
    assert fields["images"] == ["images/00179/samples/0000.png", "images/00179/samples/0001.png"]
    assert fields["include"] == line["include"] and fields["exclude"] == line["exclude"]
    written = (tmp_path / "images" / "00179" / "metadata.jsonl").read_text()
    assert json.loads(written) == line and list(json.loads(written)) == list(line)  # same keys, same order
    assert Image.open(tmp_path / fields["images"][1]).getpixel((0, 0)) == (0, 0, 255)
    assert sorted(p.name for p in (tmp_path / "images" / "00179").iterdir()) == ["metadata.jsonl", "samples"]


def test_run_geneval_end_to_end_on_the_tiny_model(cli, tmp_path):
    needs_geneval_extra()
    code, out, err = cli(
        "run", "--tasks", "geneval", "--model", "janus-tiny", "--demo", "--limit", "2", "--output", tmp_path,
        "--run-id", "ge", "--no-progress",
    )  # fmt: skip
    assert code == 0, err
    task_dir = tmp_path / "ge" / "geneval"
    records = [json.loads(x) for x in (task_dir / "samples.jsonl").read_text().splitlines()]
    assert [r["index"] for r in records] == [0, 80]  # the demo set: the first prompt of each tag
    for rec in records:
        folder = task_dir / f"images/{rec['index']:05d}"
        assert json.loads((folder / "metadata.jsonl").read_text()) == json.loads(META_LINES[rec["index"]])
        assert rec["images"] == [f"images/{rec['index']:05d}/samples/{n:04d}.png" for n in range(4)]
        assert all(
            Image.open(task_dir / p).size == (32, 32) for p in rec["images"]
        )  # the tiny model's images
        assert len(rec["parsed"]) == 4 and rec["score"] == sum(v["correct"] for v in rec["parsed"]) / 4
    # random judges find nothing above the 0.3 threshold: the official verdict text says so
    assert records[1]["parsed"][0]["reason"] == "expected bench>=1, found 0\nexpected sports ball>=1, found 0"
    scores = pd.read_csv(tmp_path / "ge" / "scores.csv", keep_default_na=False).set_index(
        ["metric", "subset"]
    )
    assert (
        scores.loc[("accuracy", "single_object"), "n"] == 4
        and scores.loc[("accuracy", "two_object"), "n"] == 4
    )
    assert scores.loc[("overall", ""), "n"] == 8 and ("mode", "demo_judge") in scores.index
    assert "overall" in out

    # the official layout on disk is enough to score again, as the official evaluator would
    folder_records = G.records_from_folder(task_dir / "images")
    assert [r["include"] for r in folder_records] == [r["include"] for r in records]
    # and `score` reads the samples file with its images relative to the file
    code, out, err = cli(
        "score",
        "--task",
        "geneval",
        task_dir / "samples.jsonl",
        "--output",
        tmp_path,
        "--run-id",
        "rescored",
        "--geneval-dir",
        tmp_path / "no-weights",
    )
    assert (
        code == 2 and "no-weights" in err and "mask2former" in err
    )  # offline, no weights: says where they go


def test_run_fails_before_drawing_without_the_judges_weights(cli, tmp_path):
    # offline (the tests set HF_HUB_OFFLINE=1) and no weights in the folder: nothing is drawn
    code, _, err = cli(
        "run", "--tasks", "geneval", "--model", "janus-tiny", "--limit", "1", "--output", tmp_path,
        "--run-id", "pf", "--geneval-dir", tmp_path / "weights",
    )  # fmt: skip
    assert code == 2 and "geneval" in err.lower()
    assert not (tmp_path / "pf").exists()
