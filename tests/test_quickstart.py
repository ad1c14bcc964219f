"""The README's quick start, end to end on janus-tiny, and batch-size invariance."""

from __future__ import annotations

import json

import pandas as pd

from janus_eval.core.spec import RunSpec
from janus_eval.runner import run
from janus_eval.tasks.registry import resolve_tasks


def test_quickstart_pope_mme(cli, tmp_path):
    code, out, err = cli(
        "run", "--tasks", "pope,mme", "--model", "janus-tiny", "--demo", "--output", tmp_path,
        "--run-id", "quick", "--no-progress",
    )  # fmt: skip
    assert code == 0, err
    run_dir = tmp_path / "quick"
    scores = pd.read_csv(run_dir / "scores.csv", keep_default_na=False)
    assert set(scores["task"]) == {"pope", "mme"}
    assert {"f1_mean", "perception", "cognition"} <= set(scores["metric"])
    # every demo sample has a record with a prediction and a per-sample score
    pope = [json.loads(line) for line in (run_dir / "pope/samples.jsonl").read_text().splitlines()]
    assert len(pope) == 18 and len({r["sample_id"] for r in pope}) == 18
    assert all(isinstance(r["prediction"], str) and r["score"] in (0.0, 1.0) for r in pope)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["model"]["model"] == "janus-tiny" and manifest["model"]["fingerprint"]
    assert manifest["tasks"]["pope"]["data"]["kind"] == "demo"
    assert "f1_mean" in out and "perception" in out


def _predictions(tmp_path, batch_size: int) -> dict[str, str]:
    opts = RunSpec(
        model="janus-tiny", output=tmp_path, run_id=f"bs{batch_size}", batch_size=batch_size, demo=True,
        progress=False,
    )  # fmt: skip
    store = run(resolve_tasks("pope,mme"), opts)
    return {
        f"{t}:{r['sample_id']}": r["prediction"] for t in ("pope", "mme") for r in store.read_records(t)
    }


def test_batch_size_does_not_change_predictions(tmp_path):
    one, four = _predictions(tmp_path, 1), _predictions(tmp_path, 4)
    assert one == four
    assert len(set(one.values())) > 3  # the tiny model really answers differently per sample


def test_static_cache_gives_the_same_predictions(tmp_path):
    """--compile switches to a static KV cache (compiled per-token step on CUDA): same greedy answers."""
    plain = _predictions(tmp_path, 4)
    opts = RunSpec(model="janus-tiny", output=tmp_path, run_id="static", batch_size=4, demo=True,
                      progress=False, compile=True)  # fmt: skip
    store = run(resolve_tasks("pope,mme"), opts)
    static = {f"{t}:{r['sample_id']}": r["prediction"] for t in ("pope", "mme") for r in store.read_records(t)}
    assert static == plain


def test_demo_scores_are_never_set_beside_the_paper(cli, tmp_path):
    """A --demo run of a model the report covers (here: a folder named Janus-Pro-7B holding janus-tiny)
    gets no paper column, and the output says the numbers test the pipeline."""
    import shutil

    from janus_eval.solve.models.tiny import tiny_path

    folder = tmp_path / "Janus-Pro-7B"
    shutil.copytree(tiny_path(), folder)
    code, out, err = cli("run", "--tasks", "pope", "--model", folder, "--demo", "--output", tmp_path / "o",
                         "--run-id", "d", "--no-progress")  # fmt: skip
    assert code == 0, err
    scores = pd.read_csv(tmp_path / "o/d/scores.csv")
    assert scores["paper"].isna().all() and scores["delta"].isna().all()
    assert "test the pipeline, not a model" in out
    code, out, err = cli("report", tmp_path / "o/d", "-o", tmp_path / "rep")
    assert code == 0, err
    board = pd.read_csv(tmp_path / "rep/leaderboard.csv")
    assert board[board["source"] == "run"]["paper"].isna().all()
