"""The rules of the GQA, SEED-Bench, MMBench, MMMU and MM-Vet scorers, each with
cases that must pass and cases that must fail; the MMMU golden number through
`score`; the LLM-judged parts against a real local chat server."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import GOLDEN
from llm_server import ChatServer, mmvet_grader

from janus_eval.core.errors import UsageError
from janus_eval.score import choices
from janus_eval.score.judges import Judges
from janus_eval.score.judges.llm import LLMJudge
from janus_eval.tasks.gqa import scorer as gqa
from janus_eval.tasks.mmbench import scorer as mmbench
from janus_eval.tasks.mmmu import scorer as mmmu
from janus_eval.tasks.mmvet import scorer as mmvet
from janus_eval.tasks.seedbench import scorer as seedbench


def value(table: pd.DataFrame, metric: str, subset: str = "") -> float:
    row = table[(table["metric"] == metric) & (table["subset"].fillna("") == subset)]
    assert len(row) == 1, (metric, subset, table)
    return float(row["value"].iloc[0])


def n_of(table: pd.DataFrame, metric: str, subset: str = "") -> int:
    return int(table[(table["metric"] == metric) & (table["subset"] == subset)]["n"].iloc[0])


def judge_on(server: ChatServer, tmp_path) -> Judges:
    return Judges(llm=LLMJudge(model="grader", base_url=server.base_url, cache_path=tmp_path / "judge.jsonl",
                               backoff=0.01, max_retries=1, timeout=5))  # fmt: skip


# --- GQA -------------------------------------------------------------------------
def test_gqa_exact_match_after_strip_period_lowercase():
    cases = [
        ("Yes.", "yes", 1), (" Red. ", "red", 1), ("LEFT", "left", 1), ("no..", "no", 1),
        ("red car", "red", 0), ("", "yes", 0), ("It is red.", "red", 0), ("ye s", "yes", 0),
    ]  # fmt: skip
    frame = pd.DataFrame(
        {"prediction": [c[0] for c in cases], "answer": [c[1] for c in cases], "error": None}
    )
    scored = gqa.score(frame)
    assert scored.per_sample["score"].tolist() == [float(c[2]) for c in cases]
    assert value(scored.table, "accuracy") == pytest.approx(100 * 4 / 8)
    # a sample the model could not be asked is left out and counted
    frame.loc[0, "error"] = "unreadable image"
    scored = gqa.score(frame)
    assert value(scored.table, "accuracy") == pytest.approx(100 * 3 / 7)
    assert value(scored.table, "errors") == 1 and pd.isna(scored.per_sample["score"][0])


# --- the shared choice extraction ------------------------------------------------------
OPTS = {"A": "red", "B": "green", "C": "blue", "D": "yellow"}


@pytest.mark.parametrize(
    "answer, expected",
    [
        ("B", "B"), ("B.", "B"), ("(B)", "B"), ("B: green", "B"), ("[C]", "C"), ("**D**", "D"),
        ("The answer is C", "C"), ("I think the correct answer is **A** because it is red and round", "A"),
        ("green", "B"), ("It is yellow.", "D"),  # option text
        ("A or B", None), ("red or blue", None), ("I cannot tell", None), ("", None),
        ("E", None),  # not an option
        ("A dog is sitting on the grass near a tall tree today", None),  # 'A' the article, far from the end
        # "answer is X": X must be an upper-case letter standing alone (SEED-Bench/MMBench answers)
        ("The answer is a dog.", None), ("the answer is based on the colour of the ball", None),
        ("The answer is Apple", None), ("The answer is: (C) because the sky looks like this today", "C"),
    ],
)  # fmt: skip
def test_choice_extraction(answer, expected):
    assert choices.extract_choice(answer, OPTS) == expected


@pytest.mark.parametrize(
    "answer, expected",
    [
        ("The answer is a dog.", "B"),  # the option text, not the article read as 'A'
        ("the answer is based on the dog", "B"),  # not 'b' of 'based'
        ("Looking closely, the answer is B since it barks at the mailman every day", "B"),  # the fallback
        ("Looking closely, the answer is b since it barks at the mailman every day", None),
    ],
)  # fmt: skip
def test_option_text_comes_before_answer_is(answer, expected):
    assert choices.extract_choice(answer, {"A": "tabby cat", "B": "dog", "C": "rabbit"}) == expected


def test_choices_of_skips_absent_options():
    row = {"A": "yes", "B": "no", "C": "nan", "D": None, "question": "q"}
    assert choices.choices_of(row) == {"A": "yes", "B": "no"}
    assert choices.extract_choice("C", choices.choices_of(row)) is None


# --- SEED-Bench --------------------------------------------------------------------
def seed_frame(rows):
    base = {"choice_a": "red", "choice_b": "green", "choice_c": "blue", "choice_d": "yellow", "error": None}
    return pd.DataFrame([{**base, **r} for r in rows])


def test_seedbench_letters_dimensions_and_unparsed():
    frame = seed_frame([
        {"prediction": "B", "answer": "B", "question_type_id": 1, "data_type": "image"},
        {"prediction": "(C) blue", "answer": "C", "question_type_id": 1, "data_type": "image"},
        {"prediction": "green", "answer": "B", "question_type_id": 3, "data_type": "image"},
        {"prediction": "A", "answer": "D", "question_type_id": 3, "data_type": "image"},
        {"prediction": "no idea", "answer": "A", "question_type_id": 9, "data_type": "image"},
        {"prediction": "A", "answer": "A", "question_type_id": 10, "data_type": "video"},
    ])  # fmt: skip
    scored = seedbench.score(frame)
    assert scored.per_sample["parsed"].tolist()[:5] == ["B", "C", "B", "A", None]
    table = scored.table
    assert (
        value(table, "accuracy") == pytest.approx(100 * 3 / 5) and n_of(table, "accuracy") == 5
    )  # video out
    assert value(table, "accuracy", "1 Scene Understanding") == 100
    assert value(table, "accuracy", "3 Instance Attributes") == 50
    assert value(table, "accuracy", "9 Text Understanding") == 0
    assert value(table, "unparsed") == 1


# --- MMBench -------------------------------------------------------------------------
def mmbench_frame(rows):
    out = []
    for index, opts, answer, prediction in rows:
        padded = opts + ["nan"] * (4 - len(opts))
        out.append({
            "index": index, "question": "What is shown", "hint": "nan", "A": padded[0], "B": padded[1],
            "C": padded[2], "D": padded[3], "answer": answer, "category": "cat1" if index % 1_000_000 < 2 else "cat2",
            "L2-category": "l2", "prediction": prediction, "error": None,
        })  # fmt: skip
    return pd.DataFrame(out)


# question 0: right in every rotation; question 1: right on the original, wrong in one rotation;
# question 2: two options only, the model answers a letter that is not an option ('C': unparsed)
ROWS = [
    (0, ["cat", "dog", "cow", "pig"], "A", "A"),
    (1_000_000, ["dog", "cow", "pig", "cat"], "D", "D."),
    (2_000_000, ["cow", "pig", "cat", "dog"], "C", "cat"),
    (1, ["red", "blue", "green", "pink"], "B", "(B)"),
    (1_000_001, ["blue", "green", "pink", "red"], "A", "B"),
    (2, ["yes", "no"], "A", "C"),
    (1_000_002, ["no", "yes"], "B", "B"),
]


def test_mmbench_circular_and_plain_accuracy_without_judge():
    scored = mmbench.score(mmbench_frame(ROWS), {"use_judge": True}, None)
    t = scored.table
    assert scored.per_sample["parsed"].tolist() == ["A", "D", "C", "B", "B", None, "B"]
    assert value(t, "accuracy") == pytest.approx(100 * 2 / 3) and n_of(t, "accuracy") == 3
    assert value(t, "circular_accuracy") == pytest.approx(100 * 1 / 3) and n_of(t, "circular_accuracy") == 3
    assert value(t, "accuracy", "cat1") == 100 and value(t, "circular_accuracy", "cat1") == 50
    assert value(t, "accuracy_l2", "l2") == pytest.approx(100 * 2 / 3)
    assert value(t, "unparsed") == 1 and value(t, "judge_matched") == 0 and value(t, "judge_error") == 0


def test_mmbench_model_error_drops_the_question_from_circular():
    frame = mmbench_frame(ROWS)
    frame.loc[1, "error"] = "unreadable image"  # a rotation of question 0
    t = mmbench.score(frame).table
    assert n_of(t, "circular_accuracy") == 2 and value(t, "circular_accuracy") == 0
    assert n_of(t, "accuracy") == 3 and value(t, "errors") == 1


def test_mmbench_judge_matches_what_the_rules_cannot(tmp_path):
    rows = [
        (0, ["cat", "dog", "cow", "pig"], "B", "a small barking pet animal"),  # judge: B
        (1, ["red", "blue", "green", "pink"], "A", "something else entirely"),  # judge: Z
        (2, ["yes", "no"], "A", "A"),  # the rules read it: the judge is not asked
    ]

    def policy(body, n):
        prompt = body["messages"][0]["content"]
        return ("reply", "B" if "barking" in prompt else "Z")

    with ChatServer(policy) as server:
        scored = mmbench.score(
            mmbench_frame(rows), {"use_judge": True, "judge_tries": 3}, judge_on(server, tmp_path)
        )
        prompts = server.prompts()
    assert scored.per_sample["parsed"].tolist() == ["B", None, "A"]
    assert len(prompts) == 2  # Z is final: not asked again
    (barking,) = [p for p in prompts if "barking" in p]  # rows are asked concurrently: in any order
    assert "Options: There are several options: \nA. cat\nB. dog\nC. cow\nD. pig\n" in barking
    assert barking.endswith("Answer: a small barking pet animal\nYour output: ")
    t = scored.table
    assert value(t, "judge_matched") == 1 and value(t, "unparsed") == 1
    assert value(t, "accuracy") == pytest.approx(100 * 2 / 3)
    # the same scoring with use_judge off asks nothing
    assert mmbench.score(mmbench_frame(rows), {"use_judge": False}, None).per_sample["parsed"].tolist() == [
        None, None, "A"
    ]  # fmt: skip


def test_mmbench_judge_failure_is_counted_not_guessed(tmp_path):
    with ChatServer(lambda body, n: ("status", 503)) as server:
        t = mmbench.score(
            mmbench_frame([(0, ["cat", "dog"], "A", "meow meow")]), {}, judge_on(server, tmp_path)
        ).table
    assert value(t, "judge_error") == 1 and value(t, "unparsed") == 1 and value(t, "accuracy") == 0


# --- MMMU --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "response, expected",
    [
        ("(B)", "B"), ("B", "B"), ("B.", "B"), ("The answer is C.", "C"), ("(A) cat (C) cow", "C"),
        ("I believe the animal in the picture is a cow", "C"),  # option text, > 5 words
        ("cow", None),  # option text needs more than five words
        ("A or B, I would say B", "B"),  # several letters: the last
        ("no idea", None), ("", None),
    ],
)  # fmt: skip
def test_mmmu_multiple_choice_parsing(response, expected):
    assert mmmu.parse_multi_choice(response, ["cat", "dog", "cow", "pig"]) == expected


@pytest.mark.parametrize(
    "gold, response, right",
    [
        ("1234", "The value is 1,234.", True), ("3.14", "x = 3.14159", True), ("paris", "It is Paris", True),
        (["$MgS$", "MgS"], "The compound is MgS", True), ("['24', '25']", "so 25", True), ("c", "The answer is c", True),
        ("1234", "The value is 1,235.", False), ("3.14", "about 3.2", False), ("london", "It is Paris", False),
        ("c", "cat", False),
    ],
)  # fmt: skip
def test_mmmu_open_matching(gold, response, right):
    assert mmmu.eval_open(mmmu.parse_answer(gold), mmmu.parse_open(response)) is right


def test_mmmu_subjects_disciplines_and_seeded_guesses():
    rows = [
        {"id": "validation_Art_1", "question_type": "multiple-choice", "options": "['a', 'b']", "answer": "A", "prediction": "A"},
        {"id": "validation_Art_2", "question_type": "multiple-choice", "options": "['a', 'b']", "answer": "B", "prediction": "hmm"},
        {"id": "validation_Math_1", "question_type": "open", "options": "[]", "answer": "7", "prediction": "It is 7"},
        {"id": "validation_Physics_3", "question_type": "multiple-choice", "options": "['a', 'b', 'c']", "answer": "C", "prediction": "??"},
    ]  # fmt: skip
    frame = pd.DataFrame(rows).assign(error=None)
    scored = mmmu.score(frame)
    t = scored.table
    assert value(t, "unparsed") == 2
    assert value(t, "accuracy", "Math") == 100 and n_of(t, "accuracy", "Art") == 2
    assert (
        n_of(t, "discipline_accuracy", "Science") == 2
        and n_of(t, "discipline_accuracy", "Art and Design") == 2
    )
    guesses = scored.per_sample["parsed"][[1, 3]].tolist()
    assert all(g.startswith("random:") for g in guesses)
    # the guesses follow the official order, not the file's: a shuffled file scores the same
    shuffled = mmmu.score(frame.iloc[[3, 2, 1, 0]])
    assert shuffled.per_sample.loc[[1, 3], "parsed"].tolist() == guesses
    assert value(shuffled.table, "accuracy") == value(t, "accuracy")


def test_mmmu_golden_through_score(cli, tmp_path):
    code, out, err = cli(
        "score", "--task", "mmmu", GOLDEN / "mmmu/llava1.5-13b.samples.jsonl", "--output", tmp_path,
        "--run-id", "mmmu-gold", "--model", "Janus-Pro-7B",
    )  # fmt: skip
    assert code == 0, err
    scores = pd.read_csv(tmp_path / "mmmu-gold/scores.csv", keep_default_na=False, na_values=[""])
    scores["subset"] = scores["subset"].fillna("")
    expected = json.loads((GOLDEN / "expected.json").read_text())["mmmu/llava1.5-13b"]
    assert round(value(scores, "accuracy") / 100, 3) == 0.367
    assert value(scores, "accuracy") == pytest.approx(100 * expected["accuracy"], abs=1e-9)
    assert n_of(scores, "accuracy") == expected["n"] and value(scores, "unparsed") == expected["unparsed"]
    assert len(scores[scores["metric"] == "discipline_accuracy"]) == 6
    assert len(scores[(scores["metric"] == "accuracy") & (scores["subset"] != "")]) == 30
    assert value(scores, "accuracy", "Literature") == pytest.approx(100 * 22 / 30)
    head = scores[(scores["metric"] == "accuracy") & (scores["subset"] == "")].iloc[0]
    assert head["paper"] == 41.0  # Janus-Pro-7B's MMMU in the report


# --- MM-Vet ------------------------------------------------------------------------------
def mmvet_frame():
    return pd.DataFrame([
        {"question_id": "v1_0", "question": "Solve x", "answer": "-1<AND>-5", "capability": "math,ocr", "prediction": "x = -1 or x = -5"},
        {"question_id": "v1_1", "question": "Which colour?", "answer": "red <OR> crimson", "capability": "rec", "prediction": "crimson"},
        {"question_id": "v1_2", "question": "Count", "answer": "3", "capability": "rec,spat", "prediction": "two"},
        {"question_id": "v1_3", "question": "Read it", "answer": "stop", "capability": "ocr", "prediction": "GARBAGE"},
        {"question_id": "v1_4", "question": "Skip", "answer": "x", "capability": "rec", "prediction": None},
    ]).assign(error=[None, None, None, None, "unreadable image"])  # fmt: skip


def test_mmvet_grading_prompt_is_the_official_one():
    prompt = mmvet.grading_prompt("What is x?", "-1<AND>-5", "x = 3")
    assert prompt.startswith("Compare the ground truth and prediction from AI models")
    assert "Question | Ground truth | Prediction | Correctness\n--- | --- | --- | ---\n" in prompt
    assert prompt.endswith("characteristics. | 1.0\n\nWhat is x? | -1 <AND> -5 | x = 3 | ")
    assert [mmvet.parse_grade(r) for r in ("0.7", "1.0 because", " 0.3", "1", "1.5", "-0.1", "abc", "")] == [
        0.7, 1.0, 0.3, 1.0, None, None, None, None
    ]  # fmt: skip
    assert mmvet.capabilities_of("rec,ocr") == ["ocr", "rec"] == mmvet.capabilities_of(["rec", "ocr"])


def test_mmvet_scores_capabilities_and_judge_errors(tmp_path):
    with ChatServer(mmvet_grader) as server:
        scored = mmvet.score(mmvet_frame(), {"judge_runs": 1, "judge_retries": 4}, judge_on(server, tmp_path))
        prompts = server.prompts()
        bodies = [r["body"] for r in server.requests]
    t = scored.table
    # graded: 1.0, 1.0, 0.0; v1_3's replies never parse -> judge_error, out of the mean
    assert scored.per_sample["score"].tolist()[:3] == [1.0, 1.0, 0.0]
    assert scored.per_sample["parsed"][3] == "judge_error" and pd.isna(scored.per_sample["score"][3])
    assert value(t, "total") == pytest.approx(100 * 2 / 3) and n_of(t, "total") == 3
    assert value(t, "judge_error") == 1 and value(t, "errors") == 1
    assert value(t, "capability", "math") == 100 and value(t, "capability", "rec") == 50
    assert value(t, "capability", "ocr") == 100 and n_of(t, "capability", "ocr") == 1
    assert value(t, "integration", "rec,spat") == 0
    # the unreadable replies were re-asked as the official grader does: 1 + 4 retries, temperature rising
    garbage = [b for b, p in zip(bodies, prompts) if "GARBAGE" in p]
    assert len(garbage) == 5
    assert [b["temperature"] for b in garbage] == [0.0, 0.0, 0.5, 1.0, 1.5]
    retried = [p for p in prompts if "GARBAGE" in p][1:]  # samples are graded concurrently: their asks interleave
    assert len(retried) == 4 and all(p.endswith("Predict the correctness of the answer (digit): ") for p in retried)
    assert all(b["max_tokens"] == 3 for b in bodies)


def test_mmvet_judge_runs_are_averaged_and_cached(tmp_path):
    # runs of one sample are separate requests (two for the third sample): the grader disagrees
    # (its first reply to that prompt differs from the next: a sample's runs are asked in order)
    seen = []

    def grader(body, n):
        if "| two |" in body["messages"][0]["content"]:
            seen.append(n)
            return ("reply", "0.0" if len(seen) == 1 else "0.5")
        return mmvet_grader(body, n)

    frame = mmvet_frame().iloc[:3]
    with ChatServer(grader) as server:
        judges = judge_on(server, tmp_path)
        judges.llm_runs = 2  # --judge-runs beats the task setting
        scored = mmvet.score(frame, {"judge_runs": 5}, judges)
        assert len(server.requests) == 6
        t = scored.table
        assert scored.per_sample["score"].tolist() == [1.0, 1.0, 0.25]
        assert scored.per_sample["parsed"].tolist() == ["1 1", "1 1", "0 0.5"]
        assert value(t, "total") == pytest.approx(75.0)
        assert value(t, "total_std") == pytest.approx(100 / 12)  # runs: 66.67 and 83.33
        again = mmvet.score(frame, {"judge_runs": 2}, judge_on(server, tmp_path))
        assert len(server.requests) == 6  # a rerun is answered from the cache
    pd.testing.assert_frame_equal(again.table, t)


def test_mmvet_without_judge_says_which_flag():
    with pytest.raises(UsageError, match="--judge-model"):
        mmvet.score(mmvet_frame(), {}, Judges())
