"""`janus-eval compare`: the paired-bootstrap regression gate, on runs scored from the
POPE and MME golden prediction files (real LLaVA-1.5-13B answers)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from run_builders import (
    GOLDEN,
    MME_GOLDEN,
    POPE_GOLDEN,
    generation_run,
    invoke,
    pope_rows_with_wrong,
    read_jsonl,
    score_run,
)

from janus_eval.analyse.compare import _counts, _gate, _per_resample, compare
from janus_eval.analyse.tolerances import direction, load_tolerances
from janus_eval.core.errors import UsageError
from janus_eval.tasks.gqa import scorer as gqa
from janus_eval.tasks.mmbench import scorer as mmbench
from janus_eval.tasks.mme import scorer as mme
from janus_eval.tasks.mmmu import scorer as mmmu
from janus_eval.tasks.pope import scorer as pope
from janus_eval.tasks.pope.scorer import parse as pope_parse
from janus_eval.tasks.seedbench import scorer as seedbench


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    return {
        "base": score_run(root, "pope", read_jsonl(POPE_GOLDEN), "base"),
        "copy": score_run(root, "pope", read_jsonl(POPE_GOLDEN), "copy"),
        "worse10": score_run(root, "pope", pope_rows_with_wrong(share=0.10), "worse10"),
        "one": score_run(root, "pope", pope_rows_with_wrong(count=1), "one"),
        "mme": score_run(root, "mme", read_jsonl(MME_GOLDEN), "mme"),
        "root": root,
    }


def test_run_against_itself_exits_0(runs):
    code, out, err = invoke("compare", runs["base"], runs["base"])
    assert code == 0, err
    assert "no regression" in out
    assert "| pope | f1 | random | 87.14 | 87.14 | +0.00 | [+0.00, +0.00] | 0.00 | ✅ ok |" in out  # the headline


def test_ten_percent_wrong_is_a_regression_naming_pope(runs, tmp_path):
    summary = tmp_path / "summary.md"
    code, out, err = invoke("compare", runs["base"], runs["worse10"], "--output", summary)
    assert code == 1, err
    assert out.splitlines()[0].startswith("### ❌ janus-eval compare: regression in pope f1/random")
    assert summary.read_text() + "\n" == out  # the file holds exactly what was printed
    row = next(line for line in out.splitlines() if line.startswith("| pope | f1 | random |"))
    assert "❌ regression" in row


def test_a_single_changed_answer_is_inside_the_noise(runs):
    result = compare(runs["base"], runs["one"])
    head = result.rows[result.rows["headline"]].iloc[0]
    assert head["delta"] < 0  # the answer did change the score...
    assert head["ci_high"] >= 0  # ...but the interval reaches zero
    code, out, _ = invoke("compare", runs["base"], runs["one"])
    assert code == 0 and "no regression" in out


def test_interval_is_repeatable_and_depends_on_the_seed(runs):
    a = compare(runs["base"], runs["worse10"], seed=3)
    b = compare(runs["base"], runs["worse10"], seed=3)
    c = compare(runs["base"], runs["worse10"], seed=4)
    pd.testing.assert_frame_equal(a.rows, b.rows)
    assert not np.allclose(a.rows["ci_low"].to_numpy(), c.rows["ci_low"].to_numpy(), equal_nan=True)
    # the interval brackets the observed delta, and is narrow on the random split's 2,910 paired samples
    head = a.rows[a.rows["headline"]].iloc[0]
    assert head["ci_low"] < head["delta"] < head["ci_high"]
    assert head["ci_high"] - head["ci_low"] < 3.0
    mean = a.rows[(a.rows["metric"] == "f1_mean")].iloc[0]  # and narrower on all 8,910
    assert mean["ci_high"] - mean["ci_low"] < 2.0


def test_identical_copies_give_zero_width_intervals(runs):
    result = compare(runs["base"], runs["copy"])
    assert result.exit_code == 0
    assert (result.rows["delta"] == 0).all()
    assert (result.rows["ci_low"] == 0).all() and (result.rows["ci_high"] == 0).all()


def test_tolerance_absorbs_a_drop_and_yaml_overrides(runs, tmp_path):
    assert compare(runs["base"], runs["worse10"], tolerance=20).exit_code == 0
    assert compare(runs["base"], runs["worse10"], tolerance=5).exit_code == 1  # drop ~9.2 points
    loose = tmp_path / "loose.yaml"
    loose.write_text("pope/f1/random: 20\n")
    code, _, _ = invoke("compare", runs["base"], runs["worse10"], "--tolerances", loose)
    assert code == 0
    # a wildcard key gates non-headline metrics too; `off` switches the headline off
    extra = tmp_path / "extra.yaml"
    extra.write_text("pope/f1/random: off\npope/precision/*: 1.5\n")
    result = compare(runs["base"], runs["worse10"], overrides_yaml=extra)
    gated = result.rows[result.rows["gated"]]
    assert set(gated["metric"]) == {"precision", "errors"} and len(gated) == 5  # errors: gated by default
    assert set(result.regressions["metric"]) == {"precision"}
    # by task name: every gated metric of the task
    (tmp_path / "task.yaml").write_text("pope: 50\n")
    assert compare(runs["base"], runs["worse10"], overrides_yaml=tmp_path / "task.yaml").exit_code == 0


def test_gate_all_leaves_neutral_metrics_out(runs):
    result = compare(runs["base"], runs["worse10"], gate="all")
    gated = result.rows[result.rows["gated"]]
    assert "yes_ratio" not in set(gated["metric"])
    assert {"accuracy", "precision", "recall", "f1", "f1_mean", "errors"} <= set(gated["metric"])
    better = dict(zip(result.rows["metric"], result.rows["better"]))
    assert (better["f1_mean"], better["errors"], better["yes_ratio"]) == ("higher", "lower", "")


def test_headline_gate_covers_the_headline_and_errors_only(runs):
    result = compare(runs["base"], runs["worse10"])
    gated = result.rows[result.rows["gated"]]
    assert sorted(zip(gated["metric"], gated["subset"])) == [("errors", ""), ("f1", "random")]


# --- a broken checkpoint: every sample errored, or more of them ---------------------------------
def errored(rows: list[dict], every: int = 1, message: str = "CUDA error: device-side assert") -> list[dict]:
    """The rows with every `every`-th sample marked as one the model could not be asked."""
    return [{**r, "error": message} if i % every == 0 else r for i, r in enumerate(rows)]


def test_every_sample_errored_is_a_regression_not_a_pass(runs, tmp_path):
    broken = score_run(tmp_path, "pope", errored(read_jsonl(POPE_GOLDEN)), "broken")
    code, out, err = invoke("compare", runs["base"], broken)
    assert code == 1, out + err
    first = out.splitlines()[0]
    assert first.startswith("### ❌ janus-eval compare: regression in ")
    assert "pope f1/random (missing in the new run)" in first and "pope errors (+8910.00)" in first
    result = compare(runs["base"], broken)
    head = result.rows[result.rows["headline"]].iloc[0]
    assert head["verdict"] == "regression" and head["missing"] and np.isnan(head["new"])
    assert any(
        "f1/random is in the baseline (87.14) but missing or NaN in the new run" in n for n in result.notes
    )
    # the reverse is no regression: the broken run is the baseline, nothing of it was measured
    assert compare(broken, runs["base"]).exit_code == 0


def test_more_errors_than_the_baseline_regress_by_default(runs, tmp_path):
    some = score_run(tmp_path, "pope", errored(read_jsonl(POPE_GOLDEN), every=10), "some-errors")
    result = compare(runs["base"], some)
    assert result.exit_code == 1
    assert list(zip(result.regressions["metric"], result.regressions["subset"])) == [("errors", "")]
    row = result.regressions.iloc[0]
    assert (row["baseline"], row["new"]) == (0.0, 891.0) and row["ci_low"] > 0
    # fewer errors than the baseline: an improvement, exit 0
    back = compare(some, runs["base"])
    assert back.exit_code == 0
    assert back.rows.set_index("metric").loc["errors", "verdict"] == "improved"
    # a tolerance (in the metric's units: samples) absorbs them; `*/errors: off` switches the gate off
    assert compare(runs["base"], some, tolerance=1000).exit_code == 0
    off = tmp_path / "off.yaml"
    off.write_text("'*/errors': off\n")
    quiet = compare(runs["base"], some, overrides_yaml=off)
    assert quiet.exit_code == 0 and not quiet.rows.set_index("metric").loc["errors", "gated"]


def test_one_more_error_is_inside_the_noise(runs, tmp_path):
    rows = read_jsonl(POPE_GOLDEN)
    rows[5] = {**rows[5], "error": "timeout"}
    one = score_run(tmp_path, "pope", rows, "one-error")
    result = compare(runs["base"], one)
    errors = result.rows.set_index("metric").loc["errors"]
    assert errors["delta"] == 1 and errors["gated"] and errors["verdict"] == "ok"
    assert result.exit_code == 0


# --- directions: lower is better for counts of failures -----------------------------------------
def seed_rows(unparsed: int, n: int = 200) -> list[dict]:
    """SEED-Bench rows: the first `unparsed` answers name no option (wrong), then every
    third answer is wrong; the rest are right. Only the unparsed count differs between calls:
    an unparsed answer is replaced by a wrong letter, so accuracy stays the same."""
    rows = []
    for i in range(n):
        answer = "ABCD"[i % 4]
        wrong = "ABCD"[(i + 1) % 4]
        if i < 80:
            pred = "I cannot tell from the image." if i < unparsed else wrong
        else:
            pred = wrong if i % 3 == 0 else answer
        rows.append({
            "question_id": f"q{i:04d}", "question": f"question {i}?", "choice_a": "a cat", "choice_b": "a dog",
            "choice_c": "a bird", "choice_d": "a fish", "answer": answer, "data_type": "image",
            "question_type_id": 1 + i % 9, "prediction": pred,
        })  # fmt: skip
    return rows


def test_gate_all_treats_fewer_unparsed_as_better(tmp_path):
    many = score_run(tmp_path, "seedbench", seed_rows(unparsed=70), "many-unparsed")
    few = score_run(tmp_path, "seedbench", seed_rows(unparsed=10), "few-unparsed")
    code, out, err = invoke("compare", many, few, "--gate", "all", "--n-boot", "200")
    assert code == 0, out + err  # unparsed 70 -> 10 is an improvement
    result = compare(many, few, gate="all", n_boot=200)
    rows = result.rows.set_index(["metric", "subset"])
    assert rows.loc[("unparsed", ""), ["baseline", "new"]].tolist() == [70.0, 10.0]
    assert rows.loc[("unparsed", ""), "verdict"] == "improved"
    assert rows.loc[("accuracy", ""), "delta"] == 0 and rows.loc[("accuracy", ""), "verdict"] == "ok"
    # the other way round, the rise of unparsed answers is the one regression
    code, out, _ = invoke("compare", few, many, "--gate", "all", "--n-boot", "200")
    assert code == 1
    assert out.splitlines()[0] == "### ❌ janus-eval compare: regression in seedbench unparsed (+60.00)"


def test_a_neutral_metric_is_gated_only_by_name_and_then_both_ways(runs, tmp_path):
    rows = read_jsonl(POPE_GOLDEN)
    # 300 right "no" answers turned into "Yes": the yes-ratio rises by ~3.4 points
    right_no = [i for i, r in enumerate(rows) if r["answer"] == "no" and pope_parse(r["prediction"]) == "no"]
    for i in right_no[:300]:
        rows[i] = {**rows[i], "prediction": "Yes"}
    yes = score_run(tmp_path, "pope", rows, "more-yes")
    assert "yes_ratio" not in set(compare(runs["base"], yes, gate="all").regressions["metric"])
    named = tmp_path / "yes.yaml"
    named.write_text("pope/f1/random: off\npope/yes_ratio/pooled: 1.0\n")
    up = compare(runs["base"], yes, overrides_yaml=named)
    assert list(up.regressions["metric"]) == ["yes_ratio"]  # a rise past +1 point
    down = compare(yes, runs["base"], overrides_yaml=named)
    assert list(down.regressions["metric"]) == ["yes_ratio"]  # and a fall past -1 point


@pytest.mark.parametrize(
    "metric, sense",
    [("accuracy", 1), ("f1_mean", 1), ("sample_score_mean", 1), ("errors", -1), ("unparsed", -1),
     ("judge_error", -1), ("failed", -1), ("unreadable_images", -1), ("dangling_dependencies", -1),
     ("yes_ratio", 0), ("judge_matched", 0), ("total_std", 0), ("mode", 0)],
)  # fmt: skip
def test_metric_directions(metric, sense):
    assert direction(metric) == sense


def test_mode_rows_are_never_gated_even_by_a_wildcard(tmp_path):
    tol_file = tmp_path / "all.yaml"
    tol_file.write_text("'dpgbench/*/*': 1\n")
    tol = load_tolerances(tol_file)
    assert _gate(tol, "all", "dpgbench", ("mode", "corrected"), ("overall", "")) == (False, None)
    assert _gate(tol, "all", "dpgbench", ("failed", ""), ("overall", "")) == (True, 1.0)


@pytest.mark.parametrize(
    "text, fragment",
    [("pope/f1_mean: -1\n", "must be a number >= 0"), ("[1, 2]\n", "expected a mapping"),
     ("a/b/c/d: 1\n", "must be task, task/metric"), ("pope: [\n", "not valid YAML")],
)  # fmt: skip
def test_bad_tolerances_file_exits_2(runs, tmp_path, text, fragment):
    bad = tmp_path / "tol.yaml"
    bad.write_text(text)
    code, _, err = invoke("compare", runs["base"], runs["copy"], "--tolerances", bad)
    assert code == 2 and fragment in err and len(err.strip().splitlines()) == 1


def test_no_shared_tasks_exits_2_naming_both(runs):
    code, _, err = invoke("compare", runs["base"], runs["mme"])
    assert code == 2
    assert "no shared tasks" in err and "pope" in err and "mme" in err


def test_changed_task_config_exits_2_naming_the_task(runs, tmp_path):
    changed = tmp_path / "changed"
    shutil.copytree(runs["copy"], changed)
    manifest = json.loads((changed / "manifest.json").read_text())
    manifest["tasks"]["pope"]["config_hash"] = "0123456789abcdef"
    (changed / "manifest.json").write_text(json.dumps(manifest))
    code, _, err = invoke("compare", runs["base"], changed)
    assert code == 2
    assert "task config differs" in err and "pope" in err and "0123456789abcdef" in err


def with_bad_line(run, dest, line: str = '{"sample_id": "x", "prediction": "Yes"', at: int = 100):
    """A copy of `run` whose pope/samples.jsonl has `line` (not a JSON record) as line `at + 1`."""
    shutil.copytree(run, dest)
    path = dest / "pope" / "samples.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:at] + [line + "\n"] + lines[at:]), encoding="utf-8")
    return dest, path


@pytest.mark.parametrize("line", ['{"sample_id": "x", "prediction": "Yes"', "[1, 2, 3]"])
@pytest.mark.parametrize("side", ["new", "baseline"])
def test_malformed_samples_line_exits_2_not_1(runs, tmp_path, line, side):
    """Unusable input is exit 2; exit 1 would tell CI the model regressed."""
    bad, path = with_bad_line(runs["copy"], tmp_path / "bad", line)
    args = (runs["base"], bad) if side == "new" else (bad, runs["base"])
    code, out, err = invoke("compare", *args)
    assert code == 2, out + err
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ")
    assert f"{path}:101:" in err
    assert out == ""  # no verdict printed


def test_disjoint_sample_ids_exit_2(runs, tmp_path):
    rows = read_jsonl(POPE_GOLDEN)
    half_a = score_run(tmp_path, "pope", rows[: len(rows) // 2], "a")
    half_b = score_run(tmp_path, "pope", rows[len(rows) // 2 :], "b")
    with pytest.raises(UsageError, match="share no sample ids"):
        compare(half_a, half_b)


def test_partial_overlap_is_compared_on_shared_ids_with_a_note(runs, tmp_path):
    rows = read_jsonl(POPE_GOLDEN)
    part = score_run(tmp_path, "pope", rows[:3000] + rows[6000:], "part")
    result = compare(runs["base"], part)
    assert result.tasks[0].n_shared == 5910 and result.tasks[0].n_baseline == 8910
    assert any("5910 samples both runs hold" in n for n in result.notes)
    # the same samples, the same answers: no difference on what is shared
    assert (result.rows["delta"].fillna(0) == 0).all() and result.exit_code == 0


def gqa_rows(rng: np.random.Generator) -> list[dict]:
    words = ["red", "blue", "left", "right", "yes", "no"]
    rows = []
    for _ in range(240):
        answer = str(rng.choice(words))
        pred = rng.choice([answer, answer.capitalize() + ".", str(rng.choice(words)), f"a {answer} one"])
        rows.append({"question": "q", "answer": answer, "prediction": str(pred)})
    return rows


def seedbench_rows(rng: np.random.Generator) -> list[dict]:
    opts = {"choice_a": "red", "choice_b": "green", "choice_c": "blue", "choice_d": "yellow"}
    forms = [
        "{l}",
        "({l})",
        "{l}.",
        "{t}",
        "The answer is {l} as the picture shows plainly",
        "no idea",
        "A or B",
    ]
    rows = []
    for k in range(300):
        letter = "ABCD"[int(rng.integers(4))]
        guess = "ABCD"[int(rng.integers(4))] if rng.random() < 0.4 else letter
        text = opts["choice_" + guess.lower()]
        rows.append({**opts, "question_id": str(k), "answer": letter, "question_type_id": int(rng.integers(1, 10)),
                     "data_type": "image" if rng.random() < 0.95 else "video",
                     "prediction": str(rng.choice(forms)).format(l=guess, t=text)})  # fmt: skip
    return rows


def mmbench_rows(rng: np.random.Generator) -> list[dict]:
    rows = []
    for q in range(90):
        n_opts, n_rot = int(rng.integers(2, 5)), int(rng.integers(1, 5))  # some questions not circular
        opts = [f"option {q}-{k}" for k in range(n_opts)]
        answer = int(rng.integers(n_opts))
        category = ["cat_a", "cat_b", "cat_c", "nan"][q % 4]
        for r in range(n_rot):
            rot = [opts[(k + r) % n_opts] for k in range(n_opts)] + ["nan"] * (4 - n_opts)
            letter = "ABCD"[(answer - r) % n_opts]
            pred = (
                letter if rng.random() < 0.7 else str(rng.choice(["A", "B", "C", "D", "Z", "unsure", rot[0]]))
            )
            rows.append({"index": q + r * 1_000_000, "question": "q", "A": rot[0], "B": rot[1], "C": rot[2],
                         "D": rot[3], "answer": letter, "category": category, "L2-category": ["l2_x", "l2_y"][q % 2],
                         "prediction": pred})  # fmt: skip
    return rows


FRAMES = {
    "pope": lambda rng: read_jsonl(POPE_GOLDEN),
    "mme": lambda rng: read_jsonl(MME_GOLDEN),
    "mmmu": lambda rng: read_jsonl(GOLDEN / "mmmu" / "llava1.5-13b.samples.jsonl"),
    "gqa": gqa_rows,
    "seedbench": seedbench_rows,
    "mmbench": mmbench_rows,
}
MODULES = {"pope": pope, "mme": mme, "mmmu": mmmu, "gqa": gqa, "seedbench": seedbench, "mmbench": mmbench}


@pytest.mark.parametrize("task", list(FRAMES))
def test_fast_path_equals_the_scorer_on_every_resample(task):
    """The vectorised bootstrap gives exactly what `score` gives on each resampled frame
    (F1 from confusion counts, MME's acc+ over an image's drawn questions, MMBench's circular
    questions over their drawn rotations, MMMU's random picks replayed in the official order),
    errored and null predictions included."""
    module = MODULES[task]
    frame = pd.DataFrame(FRAMES[task](np.random.default_rng(3)))
    frame["error"] = None
    frame.loc[[3, 10, 11], "error"] = "unreadable image"
    frame.loc[20, "prediction"] = None  # a null prediction: unanswered too
    frame["error"] = frame["error"].astype(object).where(frame["error"].notna(), None)
    counts = _counts(len(frame), 25, np.random.default_rng(7))[0]
    fast = module.bootstrap(frame, {}, counts)
    slow = _per_resample(module.score)(frame, {}, counts)
    assert set(slow) <= set(fast)
    for key in set(fast) - set(slow):  # a subset no resample drew: NaN throughout
        assert np.isnan(fast[key]).all(), key
    for key in slow:
        np.testing.assert_array_equal(fast[key], slow[key], err_msg=str(key))
    # and on the full set (every count 1) it is the scorer's own table
    table = module.score(frame, {}, None).table
    ones = module.bootstrap(frame, {}, np.ones((1, len(frame)), dtype=np.int32))
    assert set(ones) == set(zip(table["metric"], table["subset"]))
    for m, s, v in zip(table["metric"], table["subset"], table["value"]):
        np.testing.assert_array_equal(ones[(m, s)], [v], err_msg=str((m, s)))


def test_mmmu_fast_path_replays_the_random_picks():
    """A resample that draws an unparsed question twice makes two picks, as `score` would."""
    frame = pd.DataFrame([
        {"id": f"validation_Art_{k}", "question_type": "multiple-choice", "options": "['a', 'b', 'c', 'd']",
         "answer": "A", "prediction": "no idea", "error": None}
        for k in range(1, 7)
    ])  # fmt: skip
    counts = np.array([[6, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 6], [1, 1, 1, 1, 1, 1]], dtype=np.int32)
    fast = mmmu.bootstrap(frame, {}, counts)
    slow = _per_resample(mmmu.score)(frame, {}, counts)
    np.testing.assert_array_equal(fast[("accuracy", "")], slow[("accuracy", "")])
    assert fast[("unparsed", "")].tolist() == [6, 6, 6]
    copies = mmmu.score(frame.iloc[[0] * 6].reset_index(drop=True), {}, None).per_sample["parsed"]
    assert len(set(copies)) > 1  # six picks, not one pick repeated


def test_resample_counts_draw_n_with_replacement():
    blocks = _counts(50, 450, np.random.default_rng(0))
    counts = np.concatenate(blocks)
    assert counts.shape == (450, 50) and (counts.sum(axis=1) == 50).all()
    assert (counts == 0).mean() == pytest.approx((1 - 1 / 50) ** 50, abs=0.03)  # ~e^-1 left out


def test_judge_task_without_fast_path_uses_stored_scores(tmp_path):
    base = generation_run(tmp_path, "gen-a")
    worse = generation_run(tmp_path, "gen-b")
    # the new run loses both passes: stored per-sample verdicts drop from 2/5 to 0/5
    path = worse / "geneval" / "samples.jsonl"
    recs = read_jsonl(path)
    for r in recs:
        r["score"] = 0.0
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    same = compare(base, base)
    assert same.exit_code == 0 and same.tasks[0].method == "stored per-sample scores"
    result = compare(base, worse)
    head = result.rows[result.rows["headline"]].iloc[0]
    assert (head["metric"], head["baseline"], head["new"]) == ("sample_score_mean", 40.0, 0.0)
    assert any("stored per-sample scores" in n for n in result.notes)
