"""GQA, SEED-Bench, MMBench, MMMU and MM-Vet end to end with --demo on janus-tiny
(MM-Vet graded by a real local chat server), the judge checks of `run`, and
`score --task mmbench FILE`."""

from __future__ import annotations

import dataclasses
import json

import pandas as pd
import pytest
from llm_server import ChatServer, mmvet_grader

from janus_eval.core.errors import UsageError
from janus_eval.core.spec import RunSpec
from janus_eval.runner import run
from janus_eval.score.judges import Judges
from janus_eval.tasks.registry import resolve_tasks

DEMO_SIZES = {"gqa": 5, "seedbench": 4, "mmbench": 10, "mmmu": 4, "mmvet": 4}
HEADLINES = {
    "gqa": "accuracy",
    "seedbench": "accuracy",
    "mmbench": "accuracy",
    "mmmu": "accuracy",
    "mmvet": "total",
}


@pytest.fixture(autouse=True)
def judge_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("JANUS_EVAL_CACHE", str(tmp_path / "cache"))


def read_scores(folder) -> pd.DataFrame:
    scores = pd.read_csv(folder / "scores.csv", keep_default_na=False, na_values=[""], dtype={"subset": str})
    scores["subset"] = scores["subset"].fillna("")
    return scores


def read_records(folder, task) -> list[dict]:
    return [json.loads(line) for line in (folder / task / "samples.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("task", ["gqa", "seedbench", "mmbench", "mmmu"])
def test_demo_run_end_to_end(cli, tmp_path, task):
    code, out, err = cli("run", "--tasks", task, "--model", "janus-tiny", "--demo", "--output", tmp_path,
                         "--run-id", "demo", "--no-progress", "--batch-size", "3")  # fmt: skip
    assert code == 0, err
    folder = tmp_path / "demo"
    scores = read_scores(folder)
    head = scores[(scores["task"] == task) & (scores["metric"] == HEADLINES[task]) & (scores["subset"] == "")]
    assert len(head) == 1 and head["n"].iloc[0] == (3 if task == "mmbench" else DEMO_SIZES[task])
    assert 0 <= head["value"].iloc[0] <= 100
    records = read_records(folder, task)
    assert len(records) == DEMO_SIZES[task]
    assert all(isinstance(r["prediction"], str) and r["error"] is None for r in records)
    assert all("score" in r and "parsed" in r for r in records)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["tasks"][task]["n_samples"] == DEMO_SIZES[task]
    if task == "mmbench":
        assert {"accuracy", "circular_accuracy", "unparsed"} <= set(scores["metric"])
    if task == "mmmu":
        assert {"unparsed", "discipline_accuracy"} <= set(scores["metric"])


def test_mmmu_images_reach_the_model_in_column_order_with_references_kept(tmp_path):
    """As the Janus authors' evaluation sends them: every image first, image_1, image_2, ... in
    column order (one placeholder each), the `<image N>` references left in the text; each
    record keeps the whole prompt the tokenizer read."""
    from janus_eval.solve.models import load_model

    seen = []

    class Recording:
        def __init__(self, inner):
            self.inner, self.name = inner, inner.name

        def preparer(self):
            inner = self.inner.preparer()

            def prepare(asks):
                seen.extend(asks)
                return inner(asks)

            return prepare

        def generate(self, prepared):
            return self.inner.generate(prepared)

        def describe(self):
            return self.inner.describe()

    opts = RunSpec(model="janus-tiny", output=tmp_path, run_id="rec", demo=True, progress=False)
    store = run(resolve_tasks("mmmu"), opts, load_model=lambda *a, **k: Recording(load_model(*a, **k)))
    by_text = {a.prompt.split("\n")[1]: a for a in seen}
    ask = by_text["Compare <image 2> with <image 1>: which one shows a square?"]
    blue, red = (40, 70, 220), (220, 40, 40)
    assert [img.getpixel((30, 30)) for img in ask.images] == [red, blue]  # image_1, image_2
    assert "A. <image 1>\nB. <image 2>\n" in ask.prompt
    records = {r["question"]: r for r in store.read_records("mmmu")}
    assert records["Compare <image 2> with <image 1>: which one shows a square?"]["prompt"] == (
        "<|User|>: <image_placeholder><image_placeholder>\nCompare <image 2> with <image 1>: which one shows "
        "a square?\nA. <image 1>\nB. <image 2>\n\nAnswer with the option's letter from the given choices "
        "directly.\n\n<|Assistant|>:"
    )


def test_mmvet_end_to_end_with_local_judge(cli, tmp_path):
    with ChatServer(mmvet_grader) as server:
        args = ["run", "--tasks", "mmvet", "--model", "janus-tiny", "--demo", "--output", tmp_path, "--no-progress",
                "--judge-model", "grader-x", "--judge-base-url", server.base_url, "--judge-runs", "2"]  # fmt: skip
        code, out, err = cli(*args, "--run-id", "first")
        assert code == 0, err
        sent = len(server.requests)
        assert sent >= 2 * DEMO_SIZES["mmvet"]  # two runs per sample (more if a grade was unreadable)
        code, out, err = cli(*args, "--run-id", "second")
        assert code == 0, err
        assert len(server.requests) == sent  # the rerun is graded from the cache
    for run_id in ("first", "second"):
        scores = read_scores(tmp_path / run_id)
        total = scores[(scores["metric"] == "total") & (scores["subset"] == "")]
        assert len(total) == 1 and 0 <= total["value"].iloc[0] <= 100
        assert "judge_error" in set(scores["metric"]) and "capability" in set(scores["metric"])
        manifest = json.loads((tmp_path / run_id / "manifest.json").read_text())
        assert manifest["judge"]["llm"]["model"] == "grader-x" and manifest["judge"]["llm"]["runs"] == 2
    assert read_scores(tmp_path / "first").equals(read_scores(tmp_path / "second"))
    assert server.requests[0]["body"]["model"] == "grader-x"


def test_mmvet_named_without_judge_fails_before_model_work(cli, tmp_path):
    code, out, err = cli(
        "run", "--tasks", "pope,mmvet", "--model", "janus-tiny", "--demo", "--output", tmp_path
    )
    assert code == 2
    assert "mmvet" in err and "--judge-model" in err and "--judge-base-url" in err
    assert not any(tmp_path.iterdir())  # nothing was written: no run folder


def test_understanding_group_without_judge_skips_mmvet(cli, tmp_path):
    code, out, err = cli("run", "--tasks", "understanding", "--model", "janus-tiny", "--demo", "--output", tmp_path,
                         "--run-id", "all", "--no-progress", "--batch-size", "4")  # fmt: skip
    assert code == 0, err
    assert "skipping mmvet" in err and "--judge-model" in err
    scores = read_scores(tmp_path / "all")
    assert set(scores["task"]) == {"pope", "mme", "mmbench", "seedbench", "gqa", "mmmu"}
    assert not (tmp_path / "all" / "mmvet").exists()


def test_score_mmbench_file(cli, tmp_path):
    rows = []
    for q, (opts, ans) in enumerate([(["cat", "dog", "cow"], 1), (["yes", "no"], 0)]):
        n = len(opts)
        for r in range(n):
            rot = [opts[(k + r) % n] for k in range(n)] + ["nan"] * (4 - n)
            letter = "ABCD"[(ans - r) % n]
            right = not (q == 0 and r == 2)  # question 0 fails its last rotation
            rows.append({"index": q + r * 1_000_000, "question": "What?", "hint": "nan", "A": rot[0], "B": rot[1],
                         "C": rot[2], "D": rot[3], "answer": letter, "category": "c", "L2-category": "l2",
                         "source": "s", "comment": "nan", "split": "dev",
                         "prediction": f"{letter}." if right else "Z"})  # fmt: skip
    path = tmp_path / "mmbench.samples.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, out, err = cli("score", "--task", "mmbench", path, "--output", tmp_path, "--run-id", "mmb",
                         "--model", "Janus-Pro-1B")  # fmt: skip
    assert code == 0, err
    scores = read_scores(tmp_path / "mmb")
    plain = scores[(scores["metric"] == "accuracy") & (scores["subset"] == "")].iloc[0]
    circular = scores[(scores["metric"] == "circular_accuracy") & (scores["subset"] == "")].iloc[0]
    assert plain["value"] == 100 and plain["n"] == 2
    assert circular["value"] == 50 and circular["n"] == 2
    assert plain["paper"] == 75.5 and pd.isna(circular["paper"])  # the report's MMBench is plain accuracy
    assert "circular_accuracy" in out


def test_score_mmvet_file_needs_a_judge(cli, tmp_path):
    path = tmp_path / "mmvet.jsonl"
    path.write_text(json.dumps({"question_id": "v1_0", "question": "q", "answer": "a", "capability": "rec",
                                "prediction": "a"}) + "\n")  # fmt: skip
    code, out, err = cli("score", "--task", "mmvet", path, "--output", tmp_path)
    assert code == 2 and "--judge-model" in err


# --- a dead judge, unreadable values: one line and exit 2 -----------------------------------------
def dead_url() -> str:
    with ChatServer(lambda body, n: ("reply", "x")) as server:
        return server.base_url  # closed on exit: nothing listens on that port any more


def test_dead_judge_stops_the_run_with_one_line_and_keeps_the_answers(cli, tmp_path, monkeypatch):
    monkeypatch.setattr("janus_eval.score.judges.llm.LLMJudge._pause", lambda self, s: None)  # the default 5 retries, no waits
    url = dead_url()
    args = ["run", "--tasks", "mmvet", "--model", "janus-tiny", "--demo", "--output", tmp_path, "--no-progress",
            "--judge-model", "grader-x", "--run-id", "r"]  # fmt: skip
    code, out, err = cli(*args, "--judge-base-url", url)
    assert code == 2
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"error: LLM judge grader-x at {url} failed 3 requests in a row (last: cannot connect")
    assert "Traceback" not in err and not (tmp_path / "r" / "scores.csv").exists()
    answered = read_records(tmp_path / "r", "mmvet")
    assert len(answered) == DEMO_SIZES["mmvet"] and all(r["prediction"] is not None for r in answered)
    # with the judge back, the same --run-id grades the kept answers without asking the model again
    with ChatServer(mmvet_grader) as server:
        code, out, err = cli(*args, "--judge-base-url", server.base_url)
    assert code == 0, err
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert manifest["tasks"]["mmvet"]["resumed_samples"] == DEMO_SIZES["mmvet"]
    assert [r["prediction"] for r in read_records(tmp_path / "r", "mmvet")] == [r["prediction"] for r in answered]


def test_score_file_with_a_failing_judge_is_a_usage_error(tmp_path, monkeypatch):
    from janus_eval.runner import score_file
    from janus_eval.score.judges.llm import LLMJudge
    from janus_eval.tasks.registry import load_task

    monkeypatch.setattr("janus_eval.score.judges.llm.LLMJudge._pause", lambda self, s: None)
    path = tmp_path / "mmb.jsonl"
    rows = [{"index": i, "question": "q", "A": "cat", "B": "dog", "C": "nan", "D": "nan", "answer": "A",
             "category": "c", "L2-category": "l", "prediction": "something vague"} for i in range(5)]  # fmt: skip
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with ChatServer(lambda body, n: ("status", 500)) as server:
        judges = Judges(llm=LLMJudge(model="grader-x", base_url=server.base_url, cache_path=tmp_path / "c.jsonl",
                                     concurrency=1))  # one after another: the count below is exact
        with pytest.raises(UsageError) as err:
            score_file(load_task("mmbench"), path, tmp_path / "out", "s", "external", judges)
    assert f"LLM judge grader-x at {server.base_url} failed 3 requests in a row" in str(err.value)
    assert len(server.requests) == 3 * 6  # three samples' tries, then nothing more
    assert not (tmp_path / "out" / "s").exists()


def test_non_numeric_mmbench_index_names_the_column(cli, tmp_path):
    path = tmp_path / "mmb.jsonl"
    row = {"question": "q", "A": "cat", "B": "dog", "answer": "A", "category": "c", "prediction": "A"}
    path.write_text(json.dumps({**row, "index": 0}) + "\n" + json.dumps({**row, "index": "q-17"}) + "\n")
    code, out, err = cli("score", "--task", "mmbench", path, "--output", tmp_path, "--run-id", "bad")
    assert code == 2 and "Traceback" not in err
    (line,) = err.strip().splitlines()
    assert "column `index`" in line and "'q-17'" in line and "fix the samples file" in line


def test_scorer_value_errors_become_usage_errors_naming_the_task():
    from janus_eval.runner import score_records
    from janus_eval.tasks.registry import load_task

    records = [{"sample_id": "0", "index": 0, "question": "q", "A": "cat", "B": "dog", "answer": "A",
                "category": "c", "prediction": "a cat, I think"}]  # fmt: skip
    with pytest.raises(UsageError) as err:  # int("many") inside the scorer: a ValueError
        task = load_task("mmbench")
        task = dataclasses.replace(task, scoring={**task.scoring, "judge_tries": "many"})
        score_records(task, records, Judges(llm=object()))
    assert str(err.value).startswith("task mmbench: its scorer cannot use the samples or settings: invalid literal")
