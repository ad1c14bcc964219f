"""benchmarks/scale.py at a small size: its data generator writes all seven understanding
benchmarks in their real schemas, and the instant adapter and judges carry all nine
benchmarks through the real run, score, report and compare."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))

import scale  # noqa: E402
import scale_data  # noqa: E402

from janus_eval.data.load import load_samples  # noqa: E402
from janus_eval.tasks.registry import resolve_tasks  # noqa: E402

ALL = scale.UNDERSTANDING + scale.GENERATION


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    out = tmp_path_factory.mktemp("scale")
    figures = scale.run_suite(out, fraction=0.003, runs=2, workers=1, batch_size=8, gen_limit=3)
    return out, figures


def test_generated_data_loads_in_each_tasks_real_schema(suite):
    out, figures = suite
    for task in resolve_tasks("understanding"):
        loaded = load_samples(task, data_dir=out / "data")
        assert len(loaded.samples) == figures["run"]["tasks"][task.name]["samples"] > 0
        assert loaded.samples[0].images()  # every row has its image(s), decodable
    mmbench = pd.read_parquet(next((out / "data/mmbench/en").glob("dev-*.parquet")), columns=["index"])
    assert (mmbench["index"] >= 1_000_000).any()  # rotations are there
    seed = load_samples(resolve_tasks("seedbench")[0], data_dir=out / "data")
    assert figures["data"]["rows"]["seedbench"] > len(seed.samples)  # video rows filtered out


def test_all_nine_benchmarks_run_score_report_compare(suite):
    out, figures = suite
    run1 = out / "runs/run1"
    scores = pd.read_csv(run1 / "scores.csv")
    assert set(scores["task"]) == set(ALL)
    for task in ALL:
        records = [json.loads(x) for x in (run1 / task / "samples.jsonl").read_text().splitlines()]
        assert len(records) == figures["run"]["tasks"][task]["samples"]
        assert all(r.get("error") is None for r in records)
        assert all(r["score"] is not None or r["parsed"] is not None for r in records)  # scored, not skipped
        assert (out / f"scored/score-{task}/scores.csv").exists()  # the `score` verb on each samples file
    assert figures["run"]["layouts_ok"] == {"geneval": True, "dpgbench": True}
    assert (run1 / "geneval/images/00000/samples/0003.png").is_file()
    html = (out / "report/leaderboard.html").read_text()
    for task in ALL:
        assert task in html
    assert figures["report"]["runs"] == 2 and figures["compare"]["rows"] > 0
    # the two runs answered with different seeds: some prediction differs
    a = (out / "runs/run1/pope/samples.jsonl").read_text()
    assert a != (out / "runs/run2/pope/samples.jsonl").read_text()


def test_figures_name_every_target(suite):
    _, figures = suite
    names = [t["target"] for t in figures["targets"]]
    assert len(names) == 6 and all(t["value"] is not None for t in figures["targets"])
    assert figures["peak_pss_mb"] > 0
    assert set(figures["bare"]) == set(scale.UNDERSTANDING)


def test_dpg_questions_cover_every_packaged_prompt(tmp_path):
    from janus_eval.tasks.dpgbench.scorer import load_questions

    ids = scale_data.packaged_ids("dpgbench/data/prompts.jsonl", "item_id")
    bank = load_questions(scale_data.write_dpg_csv(tmp_path / "q.csv", ids))
    assert set(bank) == set(ids) and len(ids) == 1065
    assert all(any(q.parents != (0,) for q in qs) for qs in bank.values())  # dependencies present
