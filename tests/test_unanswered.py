"""Unanswered samples — `error` set or `prediction: null` — are one case in every scorer:
left out of the metrics, counted in `errors`, `parsed`/`score` None. A metric over no
samples is NaN with n = 0, never a silent 0."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from llm_server import ChatServer

from janus_eval.score.judges import Judges
from janus_eval.score.judges.llm import LLMJudge
from janus_eval.tasks.gqa import scorer as gqa
from janus_eval.tasks.mmbench import scorer as mmbench
from janus_eval.tasks.mme import scorer as mme
from janus_eval.tasks.mmmu import scorer as mmmu
from janus_eval.tasks.mmvet import scorer as mmvet
from janus_eval.tasks.pope import scorer as pope
from janus_eval.tasks.seedbench import scorer as seedbench

SEED_OPTS = {"choice_a": "red", "choice_b": "green", "choice_c": "blue", "choice_d": "yellow"}
MMB_OPTS = {
    "question": "q",
    "A": "cat",
    "B": "dog",
    "C": "cow",
    "D": "pig",
    "category": "c",
    "L2-category": "l",
}


def _rows(task: str) -> list[dict]:
    """Three samples per task: right, wrong, and one whose prediction is null but whose label
    an empty answer would 'match' under the task's rules (POPE reads "" as yes)."""
    if task == "gqa":
        return [{"answer": "red", "prediction": "red"}, {"answer": "red", "prediction": "blue"},
                {"answer": "", "prediction": None}]  # fmt: skip
    if task == "seedbench":
        base = {**SEED_OPTS, "question_type_id": 1, "data_type": "image"}
        return [{**base, "answer": "A", "prediction": "A"}, {**base, "answer": "A", "prediction": "B"},
                {**base, "answer": "A", "prediction": None}]  # fmt: skip
    if task == "mmbench":
        return [{**MMB_OPTS, "index": 0, "answer": "A", "prediction": "A"},
                {**MMB_OPTS, "index": 1, "answer": "A", "prediction": "B"},
                {**MMB_OPTS, "index": 2, "answer": "A", "prediction": None}]  # fmt: skip
    if task == "mmmu":
        base = {"question_type": "open", "options": "[]", "answer": "7"}
        return [{**base, "id": "validation_Math_1", "prediction": "7"},
                {**base, "id": "validation_Math_2", "prediction": "8"},
                {**base, "id": "validation_Math_3", "prediction": None}]  # fmt: skip
    if task == "pope":
        return [{"category": "random", "answer": "yes", "prediction": "Yes"},
                {"category": "random", "answer": "no", "prediction": "Yes"},
                {"category": "random", "answer": "yes", "prediction": None}]  # fmt: skip
    if task == "mme":
        return [{"category": "existence", "question_id": "a.png", "answer": "Yes", "prediction": "Yes"},
                {"category": "existence", "question_id": "a.png", "answer": "No", "prediction": "Yes"},
                {"category": "existence", "question_id": "b.png", "answer": "Yes", "prediction": None}]  # fmt: skip
    raise AssertionError(task)


SCORERS = {"gqa": gqa, "seedbench": seedbench, "mmbench": mmbench, "mmmu": mmmu, "pope": pope, "mme": mme}
# the headline (metric, subset) and its value on the two answered samples (right, wrong)
HEADLINE = {
    "gqa": (("accuracy", ""), 50.0), "seedbench": (("accuracy", ""), 50.0),
    "mmbench": (("accuracy", ""), 50.0), "mmmu": (("accuracy", ""), 50.0),
    "pope": (("accuracy", "pooled"), 50.0), "mme": (("acc", "existence"), 50.0),
}  # fmt: skip


def cell(table: pd.DataFrame, metric: str, subset: str = "") -> tuple[float, int]:
    row = table[(table["metric"] == metric) & (table["subset"].fillna("") == subset)]
    assert len(row) == 1, (metric, subset, table)
    return float(row["value"].iloc[0]), int(row["n"].iloc[0])


@pytest.mark.parametrize("task", list(SCORERS))
def test_null_prediction_is_unanswered(task):
    frame = pd.DataFrame(_rows(task)).assign(error=None)
    scored = SCORERS[task].score(frame, {}, None)
    (metric, subset), expected = HEADLINE[task]
    assert cell(scored.table, metric, subset) == (expected, 2)
    assert cell(scored.table, "errors") == (1.0, 3)
    assert scored.per_sample.loc[2, "parsed"] is None and pd.isna(scored.per_sample.loc[2, "score"])
    assert scored.per_sample.loc[0, "score"] == 1.0
    # exactly as if the model could not be asked that sample
    errored = pd.DataFrame(_rows(task)).assign(error=[None, None, "unreadable image"])
    errored.loc[2, "prediction"] = "Yes" if task in ("pope", "mme") else "A"
    pd.testing.assert_frame_equal(SCORERS[task].score(errored, {}, None).table, scored.table)


@pytest.mark.parametrize("task", list(SCORERS))
def test_nothing_answered_is_nan_not_zero(task):
    frame = pd.DataFrame(_rows(task)).assign(error="unreadable image")
    table = SCORERS[task].score(frame, {}, None).table
    metric, subset = HEADLINE[task][0]
    if task == "mme":
        metric, subset = "total", ""
    value, n = cell(table, metric, subset)
    assert math.isnan(value) and n == 0
    assert cell(table, "errors") == (3.0, 3)


def test_mmbench_circular_over_no_question_is_nan():
    # every question has an errored rotation: no question is left for circular accuracy
    frame = pd.DataFrame(_rows("mmbench")[:2]).assign(error=None)
    frame["index"] = [0, 1_000_000]
    frame.loc[1, "error"] = "unreadable image"
    table = mmbench.score(frame, {}, None).table
    value, n = cell(table, "circular_accuracy")
    assert math.isnan(value) and n == 0
    assert cell(table, "accuracy") == (100.0, 1)


def test_mmvet_with_every_grading_failed_is_nan(tmp_path):
    frame = pd.DataFrame([
        {"question": "q", "answer": "stop", "capability": "ocr", "prediction": "GARBAGE"},
        {"question": "q", "answer": "go", "capability": "ocr", "prediction": None},  # never sent
    ]).assign(error=None)  # fmt: skip
    with ChatServer(lambda body, n: ("reply", "no idea")) as server:
        judge = LLMJudge(
            model="grader", base_url=server.base_url, cache_path=tmp_path / "j.jsonl", backoff=0.01
        )
        table = mmvet.score(frame, {"judge_retries": 1}, Judges(llm=judge, llm_runs=2)).table
        assert len(server.requests) == 4 and all("GARBAGE" in p for p in server.prompts())
    value, n = cell(table, "total")
    assert math.isnan(value) and n == 0
    std, runs = cell(table, "total_std")
    assert math.isnan(std) and runs == 0
    assert cell(table, "judge_error") == (2.0, 2) and cell(table, "errors") == (1.0, 2)


def test_null_prediction_in_a_samples_file(cli, tmp_path):
    """`janus-eval score` on POPE: a null prediction is counted in errors, not read as "yes"."""
    rows = [
        {"question_id": 1, "question": "Is there a dog?", "answer": "yes", "category": "random", "prediction": "Yes"},
        {"question_id": 2, "question": "Is there a cat?", "answer": "no", "category": "random", "prediction": "No"},
        {"question_id": 3, "question": "Is there a cow?", "answer": "yes", "category": "random", "prediction": None},
    ]  # fmt: skip
    path = tmp_path / "pope.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, _out, err = cli("score", "--task", "pope", path, "--output", tmp_path, "--run-id", "nulls")
    assert code == 0, err
    scores = pd.read_csv(tmp_path / "nulls" / "scores.csv", keep_default_na=False, na_values=[""])
    scores["subset"] = scores["subset"].fillna("")
    assert cell(scores, "errors") == (1.0, 3)
    assert cell(scores, "yes_ratio", "pooled") == (50.0, 2)  # the null is not a third "yes"
    records = [
        json.loads(line) for line in (tmp_path / "nulls" / "pope" / "samples.jsonl").read_text().splitlines()
    ]
    assert records[2]["prediction"] is None and records[2]["parsed"] is None and records[2]["score"] is None
