"""The POPE and MME scorers reproduce the official numbers on real prediction
files, through the `score` command, into a run folder like `run` writes."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import GOLDEN

EXPECTED = json.loads((GOLDEN / "expected.json").read_text())


def value(scores: pd.DataFrame, metric: str, subset: str = "") -> float:
    row = scores[(scores["metric"] == metric) & (scores["subset"].fillna("") == subset)]
    assert len(row) == 1, (metric, subset)
    return float(row["value"].iloc[0])


def test_pope_golden_through_score(cli, tmp_path):
    code, out, err = cli(
        "score", "--task", "pope", GOLDEN / "pope/llava-v1.5-13b.samples.jsonl",
        "--output", tmp_path, "--run-id", "pope-gold", "--model", "Janus-Pro-7B",
    )  # fmt: skip
    assert code == 0, err
    run = tmp_path / "pope-gold"
    scores = pd.read_csv(run / "scores.csv", keep_default_na=False, na_values=[""])
    exp = EXPECTED["pope/llava-v1.5-13b"]
    assert round(value(scores, "f1_mean"), 1) == 85.9
    assert value(scores, "f1_mean") == pytest.approx(100 * exp["f1_mean"], abs=1e-9)
    for split in ("adversarial", "popular", "random"):
        for metric in ("accuracy", "precision", "recall", "f1", "yes_ratio"):
            assert value(scores, metric, split) == pytest.approx(100 * exp[split][metric], abs=1e-9)
    assert round(value(scores, "f1", "adversarial") / 100, 4) == 0.8446
    assert round(value(scores, "f1", "popular") / 100, 4) == 0.8625
    assert round(value(scores, "f1", "random") / 100, 4) == 0.8714
    # the paper column: Janus-Pro-7B's POPE is 87.4, compared with the random split's F1 (the variant
    # the authors' own VLMEvalKit table reports); the mean over splits has no paper value
    head = scores[(scores["metric"] == "f1") & (scores["subset"] == "random")].iloc[0]
    assert head["paper"] == 87.4
    assert head["delta"] == pytest.approx(head["value"] - 87.4)
    assert scores[scores["metric"] == "f1_mean"]["paper"].isna().all()
    # the run folder is what `run` writes: manifest, samples with parsed and score
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["tasks"]["pope"]["n_samples"] == 8910
    first = json.loads((run / "pope/samples.jsonl").read_text().splitlines()[0])
    assert first["parsed"] in ("yes", "no") and first["score"] in (0.0, 1.0)
    assert (run / "scores.parquet").exists()
    assert "f1_mean" in out
    lines = [line.split() for line in out.splitlines()]
    # the headline beside the paper, with its 95% interval and the verdict against the paper's number
    assert ["pope", "f1", "random", "87.14", "[85.8,", "88.5]", "2910", "87.40", "-0.26", "consistent"] in lines
    assert "1 of 1 headline consistent with the report" in out


def test_mme_golden_through_score(cli, tmp_path):
    code, out, err = cli(
        "score", "--task", "mme", GOLDEN / "mme/llava-v1.5-13b.samples.jsonl", "--output", tmp_path
    )
    assert code == 0, err
    scores = pd.read_csv(tmp_path / "score-mme-llava-v1-5-13b-samples/scores.csv", keep_default_na=False)
    exp = EXPECTED["mme/llava-v1.5-13b"]
    assert round(value(scores, "perception"), 1) == 1531.3
    assert round(value(scores, "cognition"), 1) == 295.4
    for subtask, points in exp["subtasks"].items():
        assert value(scores, "score", subtask) == pytest.approx(points, abs=1e-9)
    assert scores["paper"].replace("", float("nan")).isna().all()  # 'external' model: no paper column


def test_results_folder_with_one_run_is_accepted(tmp_path):
    from janus_eval.runner import score_file
    from janus_eval.store.run_store import open_run
    from janus_eval.tasks.registry import load_task

    score_file(load_task("pope"), GOLDEN / "pope/llava-v1.5-13b.samples.jsonl", tmp_path, "only", "external")
    assert open_run(tmp_path).root == tmp_path / "only"
