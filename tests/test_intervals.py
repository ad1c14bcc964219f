"""Every metric's 95% interval (analyse/intervals.py) and the verdict against the paper, on runs
scored from the golden POPE, MME and MMMU files (real LLaVA-1.5-13B answers), synthetic runs of
the other benchmarks, and judge-graded runs built from stored per-sample scores."""

from __future__ import annotations

import json
import random
import zlib
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from run_builders import GOLDEN, MME_GOLDEN, POPE_GOLDEN, invoke, read_jsonl, score_run
from test_compare import gqa_rows, mmbench_rows, seedbench_rows

from janus_eval.analyse import judged
from janus_eval.analyse.intervals import run_scores, task_intervals, verdict, with_intervals
from janus_eval.analyse.resampling import read_frame, unit_counts
from janus_eval.analyse.verdicts import terminal_table, verdict_line
from janus_eval.data.load import make_ids
from janus_eval.runner import score_records
from janus_eval.store.run_info import load_run
from janus_eval.store.run_store import RunStore
from janus_eval.tasks.geneval.scorer import TAGS, summarize
from janus_eval.tasks.mme import scorer as mme
from janus_eval.tasks.mmmu import scorer as mmmu
from janus_eval.tasks.registry import load_task

MMMU_GOLDEN = GOLDEN / "mmmu" / "llava1.5-13b.samples.jsonl"
GOLDENS = {"pope": POPE_GOLDEN, "mme": MME_GOLDEN, "mmmu": MMMU_GOLDEN}


@pytest.fixture(scope="module")
def golden_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("golden")
    return {task: score_run(root, task, read_jsonl(path), task) for task, path in GOLDENS.items()}


def scores_of(run: Path, n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    info = load_run(run)
    return with_intervals(info, info.store.read_scores(), n_boot, seed)[0]


def row(scores: pd.DataFrame, metric: str, subset: str = "") -> pd.Series:
    hit = scores[(scores["metric"] == metric) & (scores["subset"] == subset)]
    assert len(hit) == 1, (metric, subset)
    return hit.iloc[0]


def width(r: pd.Series) -> float:
    return float(r["ci_high"] - r["ci_low"])


# --- the golden runs ------------------------------------------------------------------------------
@pytest.mark.parametrize("task", list(GOLDENS))
def test_every_interval_contains_its_point_value(golden_runs, task):
    scores = scores_of(golden_runs[task])
    finite = scores[scores["ci_low"].notna()]
    assert len(finite) == len(scores)  # rule-scored: every row has one
    assert (finite["ci_low"] <= finite["value"] + 1e-9).all() and (finite["value"] <= finite["ci_high"] + 1e-9).all()
    assert finite["ci_method"].str.contains("fast path").all()
    headline = load_task(task).headline.split("/")
    assert width(row(scores, *headline)) > 0  # a real spread, not a degenerate point


@pytest.mark.parametrize(("task", "metric"), [("pope", ("f1", "random")), ("mme", ("perception", "")),
                                              ("mmmu", ("accuracy", ""))])  # fmt: skip
def test_interval_shrinks_as_the_sample_grows(tmp_path, golden_runs, task, metric):
    rows = read_jsonl(GOLDENS[task])
    if task == "mme":  # whole images, so acc+ keeps both questions of each
        images = sorted({r["question_id"] for r in rows})
        keep = set(random.Random(0).sample(images, len(images) // 4))
        part = [r for r in rows if r["question_id"] in keep]
    else:
        part = random.Random(0).sample(rows, len(rows) // 4)
    small = scores_of(score_run(tmp_path, task, part, f"{task}-quarter"))
    whole = scores_of(golden_runs[task])
    assert width(row(whole, *metric)) < 0.7 * width(row(small, *metric))  # ~1/2 expected for 1/4 the sample


def test_same_seed_same_intervals_other_seed_other_intervals(golden_runs):
    a, b = scores_of(golden_runs["pope"], seed=3), scores_of(golden_runs["pope"], seed=3)
    pd.testing.assert_frame_equal(a, b)
    c = scores_of(golden_runs["pope"], seed=4)
    assert not np.allclose(a["ci_low"], c["ci_low"])


def mc_close(ours: pd.Series, low: float, high: float, share: float = 0.12) -> None:
    """Two bootstrap intervals of the same statistic agree within the Monte-Carlo error of their
    endpoints (1,000 resamples: a few percent of the width; `share` of it allowed)."""
    tol = share * (high - low)
    assert ours["ci_low"] == pytest.approx(low, abs=tol) and ours["ci_high"] == pytest.approx(high, abs=tol)


def test_pope_f1_agrees_with_scipy_bootstrap(golden_runs):
    recs = read_jsonl(POPE_GOLDEN)
    labels = np.array([r["answer"] == "yes" for r in recs])
    preds = np.array([json.loads(json.dumps(r))["prediction"] for r in recs])
    from janus_eval.tasks.pope.scorer import parse

    yes = np.array([parse(p) == "yes" for p in preds])

    def f1(lab, pre, axis=-1):
        tp = (lab & pre).sum(axis=axis)
        return 100 * 2 * tp / (2 * tp + (~lab & pre).sum(axis=axis) + (lab & ~pre).sum(axis=axis))

    ref = scipy.stats.bootstrap(
        (labels, yes), f1, paired=True, vectorized=True, n_resamples=2000, method="percentile",
        random_state=np.random.default_rng(1),
    ).confidence_interval
    mc_close(row(scores_of(golden_runs["pope"]), "f1", "pooled"), ref.low, ref.high)


def test_mmmu_accuracy_agrees_with_scipy_bootstrap(golden_runs):
    stored = np.array([r["score"] for r in read_jsonl(golden_runs["mmmu"] / "mmmu" / "samples.jsonl")], float)
    ref = scipy.stats.bootstrap((100 * stored,), np.mean, n_resamples=2000, method="percentile",
                                random_state=np.random.default_rng(1)).confidence_interval  # fmt: skip
    mc_close(row(scores_of(golden_runs["mmmu"]), "accuracy"), ref.low, ref.high)


def rescored(frame: pd.DataFrame, score, units: np.ndarray, key: tuple[str, str], n: int, seed: int = 1):
    """The straight bootstrap: draw units with replacement, rebuild the records, call `score`."""
    rng = np.random.default_rng(seed)
    groups = pd.Series(np.arange(len(frame))).groupby(pd.Series(units)).apply(list).tolist()
    values = []
    for _ in range(n):
        picks = rng.integers(0, len(groups), len(groups))
        rows = [i for g in picks for i in groups[g]]
        table = score(frame.iloc[rows].reset_index(drop=True), {}, None).table
        hit = table[(table["metric"] == key[0]) & (table["subset"].fillna("") == key[1])]
        values.append(float(hit["value"].iloc[0]))
    return np.percentile(values, [2.5, 97.5])


def test_mme_perception_agrees_with_rescoring_whole_images(golden_runs):
    info = load_run(golden_runs["mme"])
    frame = read_frame(info, "mme").reset_index(drop=True)
    low, high = rescored(frame, mme.score, frame["question_id"].to_numpy(), ("perception", ""), 400)
    mc_close(row(scores_of(golden_runs["mme"]), "perception"), low, high, share=0.15)


def test_mme_interval_is_drawn_by_image_not_by_question(golden_runs):
    """acc+ needs both questions of an image: drawing single questions would leave many images
    with one question (acc+ then counts a lone right answer), and give another interval."""
    info = load_run(golden_runs["mme"])
    frame = read_frame(info, "mme")
    units = mme.resample_units(frame.reset_index(drop=True))
    assert len(set(units)) == len(frame) // 2  # 1,187 images of two questions each

    def interval(by) -> np.ndarray:
        rng = np.random.default_rng([0, zlib.crc32(b"mme")])  # the interval's own seed for the task
        counts = np.vstack(unit_counts(by, len(frame), 1000, rng))
        return np.percentile(mme.bootstrap(frame, {}, counts)[("perception", "")], [2.5, 97.5])

    by_image, by_question = interval(units), interval(None)
    ours = row(scores_of(golden_runs["mme"]), "perception")
    assert ours["ci_low"] == pytest.approx(by_image[0]) and ours["ci_high"] == pytest.approx(by_image[1])
    assert abs(by_question[0] - by_image[0]) > 10 and abs(by_question[1] - by_image[1]) > 10  # points
    assert "images" in ours["ci_method"]


# --- the synthetic benchmarks: one metric each against a straight rescoring -----------------------
def gqa_with_ids(rng: np.random.Generator) -> list[dict]:
    return [{"id": str(k), **r} for k, r in enumerate(gqa_rows(rng))]


SYNTHETIC = {"gqa": gqa_with_ids, "seedbench": seedbench_rows, "mmbench": mmbench_rows}


@pytest.mark.parametrize("task", list(SYNTHETIC))
def test_synthetic_benchmark_agrees_with_rescoring(tmp_path, task):
    run = score_run(tmp_path, task, SYNTHETIC[task](np.random.default_rng(5)), task)
    info = load_run(run)
    frame = read_frame(info, task).reset_index(drop=True)
    from janus_eval.tasks.registry import scorer_module

    module = scorer_module(task)
    hook = getattr(module, "resample_units", None)
    units = hook(frame) if hook is not None else np.arange(len(frame))
    key = ("accuracy", "")
    low, high = rescored(frame, module.score, units, key, 300)
    ours = row(scores_of(run), *key)
    assert ours["ci_low"] <= ours["value"] <= ours["ci_high"]
    mc_close(ours, low, high, share=0.15)


def test_mmbench_draws_a_question_with_all_its_rotations(tmp_path):
    run = score_run(tmp_path, "mmbench", mmbench_rows(np.random.default_rng(5)), "mmb")
    frame = read_frame(load_run(run), "mmbench")
    from janus_eval.tasks.mmbench import scorer as mmbench

    units = mmbench.resample_units(frame.reset_index(drop=True))
    assert len(set(units)) == 90 < len(frame)
    counts = np.vstack(unit_counts(units, len(frame), 50, np.random.default_rng(0)))
    for u in set(units):  # the rotations of a question are drawn equally often
        cols = counts[:, units == u]
        assert (cols == cols[:, :1]).all()


# --- judge-graded tasks: the rows the stored per-sample scores determine ---------------------------
class FakeJudge:
    """An LLM judge whose grade is a fixed function of the prompt."""

    def ask(self, prompt, temperature=0.0, max_tokens=None, sample=0):
        return f"{(sum(map(ord, prompt)) % 11) / 10:.1f}"


def judged_run(root: Path, task: str, records: list[dict], table: pd.DataFrame) -> Path:
    store = RunStore(root / task)
    store.rewrite_records(task, records)
    cfg = load_task(task)
    store.manifest_path.write_text(json.dumps({"run_id": task, "model": {"model": "Janus-Pro-7B"},
                                   "tasks": {task: {"config": cfg.to_dict(), "config_hash": cfg.config_hash()}}}))
    table = table.copy()
    if "task" not in table:
        table.insert(0, "task", task)
    from janus_eval.analyse.paper import with_paper

    store.write_scores(with_paper(table, "Janus-Pro-7B"))
    return store.root


def test_mmvet_rows_from_stored_grades(tmp_path):
    caps = ["rec", "ocr", "rec,ocr", "math,ocr", "know,gen,rec", "spat"]
    rng = np.random.default_rng(0)
    rows = [{"question_id": f"v1_{k}", "question": f"question {k}", "answer": "a", "prediction": f"p{k}",
             "capability": caps[int(rng.integers(len(caps)))]} for k in range(218)]  # fmt: skip
    rows[3]["prediction"] = None  # unanswered: counted in errors
    task = load_task("mmvet")
    records = [{"sample_id": i, **r, "error": None} for i, r in zip(make_ids(rows, task.id_columns), rows, strict=True)]
    records, table = score_records(task, records, SimpleNamespace(llm=FakeJudge(), llm_runs=2))
    scores = scores_of(judged_run(tmp_path, "mmvet", records, table))
    total = row(scores, "total")
    assert total["ci_low"] <= total["value"] <= total["ci_high"] and "stored per-sample scores" in total["ci_method"]
    assert scores[scores["metric"].isin(["capability", "integration"])]["ci_low"].notna().all()
    std = row(scores, "total_std")  # the spread over gradings is not a per-sample quantity
    assert np.isnan(std["ci_low"]) and std["ci_method"].startswith("none:")
    stored = np.array([r["score"] for r in records if r["score"] is not None], float)
    ref = scipy.stats.bootstrap((100 * stored,), np.mean, n_resamples=2000, method="percentile",
                                random_state=np.random.default_rng(1)).confidence_interval  # fmt: skip
    mc_close(total, ref.low, ref.high, share=0.15)  # (the errored record is drawn too: a tiny difference)
    assert total["verdict"] in ("below", "above", "consistent")


def geneval_records(rng: np.random.Generator, n: int = 120) -> tuple[list[dict], pd.DataFrame]:
    records, tags, flags, prompts = [], [], [], []
    for k in range(n):
        tag = TAGS[k % len(TAGS)]
        right = [bool(rng.random() < 0.3 + 0.1 * (k % 6)) for _ in range(4)]
        records.append({"sample_id": f"{k:05d}", "index": k, "tag": tag, "prompt": "p", "error": None,
                        "images": [f"images/{k:05d}/samples/{i:04d}.png" for i in range(4)],
                        "parsed": [{"correct": c} for c in right], "score": float(np.mean(right))})  # fmt: skip
        tags += [tag] * 4
        flags += right
        prompts += [f"{k:05d}"] * 4
    rows = summarize(tags, flags, prompts) + [("mode", "demo_judge", 1.0, len(flags)), ("errors", "", 0.0, n)]
    return records, pd.DataFrame(rows, columns=["metric", "subset", "value", "n"])


def test_geneval_overall_from_stored_verdicts_matches_its_own_summarize(tmp_path):
    records, table = geneval_records(np.random.default_rng(0))
    scores = scores_of(judged_run(tmp_path, "geneval", records, table))
    for metric in ("overall", "images_correct", "prompts_correct"):
        r = row(scores, metric)
        assert r["ci_low"] <= r["value"] <= r["ci_high"] and "stored per-sample scores" in r["ci_method"]
    assert np.isnan(row(scores, "mode", "demo_judge")["ci_low"])  # a flag, not an estimate
    # overall (the mean of the tag means) against a straight rescoring by GenEval's own summarize
    rng, values = np.random.default_rng(1), []
    for _ in range(300):
        picks = rng.integers(0, len(records), len(records))
        tags = [records[p]["tag"] for p in picks for _ in range(4)]
        flags = [v["correct"] for p in picks for v in records[p]["parsed"]]
        ids = [f"{b}" for b, p in enumerate(picks) for _ in range(4)]
        values.append(next(v for m, _, v, _ in summarize(tags, flags, ids) if m == "overall"))
    low, high = np.percentile(values, [2.5, 97.5])
    mc_close(row(scores, "overall"), low, high, share=0.15)


def test_dpgbench_overall_from_stored_scores_categories_without(tmp_path):
    rng = np.random.default_rng(0)
    records = [{"sample_id": str(k), "item_id": str(k), "prompt": "p", "error": None, "parsed": "{}",
                "score": float(rng.random())} for k in range(300)]  # fmt: skip
    overall = 100 * np.mean([r["score"] for r in records])
    table = pd.DataFrame([("overall", "", overall, 300), ("score", "entity", 80.0, 900), ("errors", "", 0.0, 300)],
                         columns=["metric", "subset", "value", "n"])  # fmt: skip
    scores = scores_of(judged_run(tmp_path, "dpgbench", records, table))
    r = row(scores, "overall")
    stored = 100 * np.array([x["score"] for x in records])
    ref = scipy.stats.bootstrap((stored,), np.mean, n_resamples=2000, method="percentile",
                                random_state=np.random.default_rng(1)).confidence_interval  # fmt: skip
    mc_close(r, ref.low, ref.high)
    cat = row(scores, "score", "entity")
    assert np.isnan(cat["ci_low"]) and "not derivable from the stored per-sample scores" in cat["ci_method"]


def test_a_derivation_that_disagrees_with_the_table_gives_no_interval(tmp_path):
    records, table = geneval_records(np.random.default_rng(0))
    table.loc[table["metric"] == "overall", "value"] += 1.0  # as if the scorer's rule had changed
    r = row(scores_of(judged_run(tmp_path, "geneval", records, table)), "overall")
    assert np.isnan(r["ci_low"]) and np.isnan(r["ci_high"]) and "not" in r["ci_method"]


# --- verdicts and output ----------------------------------------------------------------------------
def test_verdict_rules():
    assert verdict(87.4, 85.8, 88.5) == "consistent"
    assert verdict(87.4, 85.0, 87.0) == "below"
    assert verdict(87.4, 88.0, 89.0) == "above"
    assert verdict(float("nan"), 1, 2) == "" and verdict(87.4, float("nan"), float("nan")) == "n/a"


def test_verdict_line_names_each_headline_off_the_paper():
    scores = pd.DataFrame({
        "task": ["pope", "mmbench", "mmbench"], "metric": ["f1", "accuracy", "accuracy"],
        "subset": ["random", "", "cat"], "value": [87.1, 76.1, 50.0], "n": [2910, 1176, 10],
        "paper": [87.4, 79.2, np.nan], "delta": [-0.3, -3.1, np.nan], "ci_low": [85.8, 75.0, 40.0],
        "ci_high": [88.5, 77.2, 60.0], "verdict": ["consistent", "below", ""],
    })  # fmt: skip
    assert verdict_line(scores) == "1 of 2 headlines consistent with the report; MMBench below by 3.1 [2.0, 4.2]"
    assert "76.10 [75.0, 77.2]" in terminal_table(scores)


def test_score_writes_intervals_and_report_gives_old_runs_theirs(tmp_path):
    run = score_run(tmp_path, "pope", read_jsonl(POPE_GOLDEN), "pope")
    written = pd.read_csv(run / "scores.csv")
    assert {"ci_low", "ci_high", "ci_method", "verdict"} <= set(written.columns)
    assert set(pd.read_parquet(run / "scores.parquet").columns) == set(written.columns)
    head = written[(written["metric"] == "f1") & (written["subset"] == "random")].iloc[0]
    assert head["verdict"] == "consistent" and head["ci_low"] < 87.4 < head["ci_high"]
    # an old run: scores.csv without the columns; the report computes the same intervals from the records
    written.drop(columns=["ci_low", "ci_high", "ci_method", "verdict"]).to_csv(run / "scores.csv", index=False)
    code, _, err = invoke("report", run, "-o", tmp_path / "rep")
    assert code == 0, err
    long = pd.read_csv(tmp_path / "rep" / "leaderboard.csv")
    got = long[(long["source"] == "run") & (long["metric"] == "f1") & (long["subset"] == "random")].iloc[0]
    assert got["ci_low"] == pytest.approx(head["ci_low"]) and got["ci_high"] == pytest.approx(head["ci_high"])
    assert got["verdict"] == "consistent"
    md = (tmp_path / "rep" / "leaderboard.md").read_text()
    assert "87.14 \\[85.8, 88.5\\] consistent" in md  # the leaderboard cell (brackets escaped for markdown)
    assert "87.14 [85.8, 88.5] consistent" in (tmp_path / "rep" / "leaderboard.html").read_text()


def test_bad_n_boot_is_one_line_and_exit_2(tmp_path):
    code, out, err = invoke("score", "--task", "pope", POPE_GOLDEN, "--output", tmp_path, "--n-boot", "10")
    assert code == 2 and err.strip().count("\n") == 0 and "--n-boot" in err
    assert not list(tmp_path.iterdir())  # refused before anything was written


def test_run_scores_rewrites_the_run_folder(golden_runs):
    scores = run_scores(golden_runs["mmmu"], n_boot=200, seed=1)
    again = pd.read_csv(golden_runs["mmmu"] / "scores.csv", keep_default_na=False, na_values=[""])
    assert np.allclose(again["ci_low"].to_numpy(float), scores["ci_low"].to_numpy(float), equal_nan=True)
    assert "200 resamples" in again["ci_method"].iloc[0]
    info = load_run(golden_runs["mmmu"])
    ti = task_intervals(info, "mmmu", info.store.read_scores(), 200, 1)
    assert ti.method == "fast path" and ti.n_units == 900


def test_mmmu_fast_path_is_what_the_interval_uses():
    assert hasattr(mmmu, "bootstrap") and "mmvet" in judged.STORED_ROWS


class LetterJudge:
    """An LLM matcher that reads every unparsed MMBench answer as option A."""

    def ask(self, prompt, sample=0, **_):
        return "A"


def test_mmbench_rows_the_judge_changed_get_no_interval(tmp_path):
    """The fast path rescores without the LLM matcher: where the matcher moved a stored value, the
    interval would be of another number, so there is none; rows it left alone keep theirs."""
    rows = mmbench_rows(np.random.default_rng(5))
    task = load_task("mmbench")
    records = [{"sample_id": i, **r, "error": None} for i, r in zip(make_ids(rows, task.id_columns), rows, strict=True)]
    records, table = score_records(task, records, SimpleNamespace(llm=LetterJudge()))
    assert float(table[table["metric"] == "judge_matched"]["value"].iloc[0]) > 0
    scores = scores_of(judged_run(tmp_path, "mmbench", records, table))
    acc = row(scores, "accuracy")
    assert np.isnan(acc["ci_low"]) and "on the stored records, not" in acc["ci_method"]
    errors = row(scores, "errors")
    assert errors["ci_low"] == errors["ci_high"] == 0 and "fast path" in errors["ci_method"]


def test_the_runner_writes_the_intervals_itself(tmp_path):
    """`runner.run` alone (as a library, not through the command line) leaves every score with
    its interval, drawn as RunSpec says; the same seed gives the same interval again."""
    from janus_eval.core.spec import RunSpec
    from janus_eval.runner import run
    from janus_eval.tasks.registry import resolve_tasks

    def scores_of(run_id: str, **kw) -> pd.DataFrame:
        opts = RunSpec(model="janus-tiny", demo=True, output=tmp_path, run_id=run_id, progress=False, **kw)
        store = run(resolve_tasks("pope"), opts)
        return pd.read_csv(store.root / "scores.csv", keep_default_na=False, na_values=[""])

    a = scores_of("a", n_boot=200, boot_seed=3)
    f1 = a[(a.metric == "f1") & (a.subset == "pooled")].iloc[0]
    assert np.isfinite(f1.ci_low) and f1.ci_low <= f1.value <= f1.ci_high
    assert "200 resamples" in f1.ci_method
    b = scores_of("b", n_boot=200, boot_seed=3)
    assert np.allclose(a.ci_low.to_numpy(float), b.ci_low.to_numpy(float), equal_nan=True)
    c = scores_of("c", n_boot=1000, boot_seed=3)
    assert "1000 resamples" in c[(c.metric == "f1") & (c.subset == "pooled")].iloc[0].ci_method
