"""The samples contract of `score` (score/contract.py): every field a scorer reads has the type
and the values its benchmark allows, else one line naming the file, the line, the field and what
it should be, exit 2, nothing written; and a seeded fuzz over each task's contract (issue 16)."""

from __future__ import annotations

import json
import math
import os
import random

import pytest
from conftest import run_subprocess

from janus_eval.core.errors import UsageError
from janus_eval.runner import score_samples_file
from janus_eval.score.contract import COMMON
from janus_eval.tasks.registry import get_sample_contract, load_task

POPE_ROW = {"question_id": "1", "question": "q", "answer": "yes", "category": "random", "prediction": "Yes"}

# one valid line per task (the fields its scorer reads, in the HF dataset's types)
GOOD = {
    "pope": POPE_ROW,
    "mme": {"question_id": "a.jpg", "question": "Is it?", "answer": "Yes", "category": "existence", "prediction": "No"},
    "mmbench": {
        "index": 1, "question": "q", "hint": None, "A": "x", "B": "y", "C": None, "D": None, "answer": "A",
        "category": "c", "L2-category": "l", "prediction": "A",
    },  # fmt: skip
    "seedbench": {
        "question_id": "1", "question": "q", "choice_a": "x", "choice_b": "y", "choice_c": "z", "choice_d": "w",
        "answer": "B", "data_type": "image", "question_type_id": 1, "prediction": "B",
    },  # fmt: skip
    "gqa": {"id": "1", "question": "q", "answer": "cat", "prediction": "a cat"},
    "mmmu": {
        "id": "validation_Art_1", "question_type": "multiple-choice", "options": "['a', 'b']", "answer": "A",
        "prediction": "B",
    },  # fmt: skip
}


def write(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_pope_category_object_is_refused_through_the_command_line(tmp_path):
    bad = write(tmp_path / "s.jsonl", [POPE_ROW, {**POPE_ROW, "question_id": "2", "category": {"x": 1}}])
    proc = run_subprocess("score", "--task", "pope", bad, "--output", tmp_path / "out", timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "s.jsonl:2" in lines[0] and "'category'" in lines[0]
    assert "adversarial, popular, random" in lines[0] and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


def test_not_utf8_and_bom_through_the_command_line(tmp_path):
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(json.dumps({**POPE_ROW, "question": "café"}, ensure_ascii=False).encode("latin-1") + b"\n")
    proc = run_subprocess("score", "--task", "pope", latin, "--output", tmp_path / "out", timeout=120)
    assert proc.returncode == 2 and "not UTF-8" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1

    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b"\xef\xbb\xbf" + json.dumps(POPE_ROW).encode() + b"\n")
    proc = run_subprocess("score", "--task", "pope", bom, "--output", tmp_path / "out", timeout=120)
    assert proc.returncode == 2 and "bom.jsonl:1" in proc.stderr and "without BOM" in proc.stderr
    assert "fix or remove" not in proc.stderr  # removing the line would drop a record
    assert not (tmp_path / "out").exists()


BAD_VALUES = [
    ("pope", "category", "Random ", "adversarial, popular, random"),
    ("pope", "category", None, "adversarial, popular, random"),
    ("pope", "answer", "maybe", "yes, no"),
    ("pope", "answer", 1, "yes, no"),
    ("pope", "prediction", 3, "a string or null"),
    ("pope", "prediction", float("nan"), "a string or null"),
    ("pope", "question_id", True, "a string or an integer"),
    ("mme", "category", "vibes", "existence"),
    ("mme", "answer", "yes please", "yes, no"),
    ("mmbench", "answer", "E", "A, B, C, D"),
    ("mmbench", "A", ["x"], "a string or null"),
    ("seedbench", "answer", "a)", "A, B, C, D"),
    ("seedbench", "question_type_id", 99, "dimension 1-12"),
    ("seedbench", "data_type", "audio", "image, video"),
    ("gqa", "answer", {"a": 1}, "a string"),
    ("mmmu", "answer", "AB", "one letter A-I"),
    ("mmmu", "id", "validation_Cooking_1", "MMMU subject"),
    ("mmmu", "options", [1, 2], "list"),
]


@pytest.mark.parametrize(("task", "field", "value", "should"), BAD_VALUES)
def test_a_value_the_benchmark_does_not_allow_names_line_field_and_fix(tmp_path, task, field, value, should):
    path = write(tmp_path / "s.jsonl", [GOOD[task], {**GOOD[task], field: value}])
    with pytest.raises(UsageError) as info:
        score_samples_file(load_task(task), path)
    message = str(info.value)
    assert "s.jsonl:2" in message and f"'{field}'" in message and should in message and "\n" not in message


def test_mmvet_contract():
    fields, check = get_sample_contract("mmvet")
    from janus_eval.score.contract import check_row

    row = {"question_id": "v1", "question": "q", "answer": "a", "capability": "rec,ocr", "prediction": "p"}
    assert check_row(row, fields, check) is None
    assert "capability" in (check_row({**row, "capability": "rec,magic"}, fields, check) or "")
    assert "answer" in (check_row({**row, "answer": 0.5}, fields, check) or "")


def test_every_good_line_scores(tmp_path):
    for task, row in GOOD.items():
        assert get_sample_contract(load_task(task).scorer) is not None, task
        _, table = score_samples_file(load_task(task), write(tmp_path / f"{task}.jsonl", [row]))
        assert len(table), task


# --- the fuzz: seeded, a few seconds ---------------------------------------------------------
JUNK = [
    None, float("nan"), float("inf"), -float("inf"), 0, -1, 7, 2.5, True, False, [], ["A"], [1, None], {}, {"k": "v"},
    "", " ", "x" * 200_000, "ñ🙂\u2028\u0000", "yes", "No", "A", "random", "existence", "validation_Art_2", "1",
    "=HYPERLINK(\"http://x\")",
]  # fmt: skip


def contract_fields(task: str) -> dict:
    fields, _ = get_sample_contract(load_task(task).scorer)
    return {f.name: f for f in (*fields, *COMMON)}


@pytest.mark.parametrize("task", list(GOOD))
def test_fuzz_samples_contract(tmp_path, task):
    """Random types, missing fields, unicode, huge strings, NaN/inf in random fields: each outcome
    is a score table or a one-line UsageError, never another exception; a line the contract lets
    through changes no metric beyond what its (allowed) values mean, and junk of the wrong type in
    a field the scorer reads is never let through."""
    rng = random.Random(f"issue-16-{task}{os.environ.get('JANUS_EVAL_FUZZ_SEED', '')}")  # fixed unless asked
    read = contract_fields(task)
    base_rows = [{**GOOD[task]} for _ in range(3)]
    id_key = load_task(task).id_columns[-1]
    for i, row in enumerate(base_rows):
        if isinstance(row[id_key], int):
            row[id_key] = i + 1
        elif task == "mmmu":
            row[id_key] = f"validation_Art_{i + 1}"
        else:
            row[id_key] = f"{row[id_key]}-{i}"
    baseline = score_samples_file(load_task(task), write(tmp_path / "base.jsonl", base_rows))[1]
    base_keys = set(zip(baseline["metric"], baseline["subset"]))
    for case in range(100):
        rows = [dict(r) for r in base_rows]
        target = rows[rng.randrange(len(rows))]
        field = rng.choice([*GOOD[task], "extra_field"])
        delete = rng.random() < 0.2 and field != "extra_field"
        value = rng.choice(JUNK)
        if delete:
            target.pop(field, None)
        else:
            target[field] = value
        path = write(tmp_path / f"case{case}.jsonl", rows)
        try:
            _, table = score_samples_file(load_task(task), path)
        except UsageError as exc:
            assert "\n" not in str(exc), (task, field, value, str(exc))
            continue
        # accepted: every value a number or NaN, n within the file
        assert all(math.isnan(v) or math.isfinite(v) for v in table["value"]), (task, field, value)
        assert (table["n"].fillna(0) <= len(rows)).all()
        spec = read.get(field)
        if spec is None or field == "extra_field":  # a field no scorer reads: the table is the baseline's
            assert table.equals(baseline), (task, field, value)
            continue
        if delete:
            assert not spec.required, (task, field)
            continue
        wrong_type = isinstance(value, bool) or not isinstance(value, spec.kinds) or (
            isinstance(value, float) and not math.isfinite(value)
        )
        assert value is None and spec.nullable or not wrong_type, (task, field, value)
        if spec.allowed is not None and value is not None:
            assert (spec.normalise(value) if spec.normalise else value) in spec.allowed
        new_keys = set(zip(table["metric"], table["subset"])) - base_keys
        # a new row only from an allowed value of a grouping field (a split, a category, a dimension)
        assert all(str(subset) in {str(value), "", *map(str, spec.allowed or ())} or task in ("seedbench", "mmmu")
                   for _, subset in new_keys), (task, field, value, new_keys)  # fmt: skip


def test_fuzz_mmvet_contract():
    """MM-Vet needs a judge to score, so its contract is fuzzed on its own: a line is accepted
    only with the types and capabilities the grader reads, and checking never raises."""
    from janus_eval.score.contract import check_row

    fields, check = get_sample_contract("mmvet")
    spec = {f.name: f for f in (*fields, *COMMON)}
    good = {"question_id": "v1", "question": "q", "answer": "a", "capability": "rec,ocr", "prediction": "p"}
    rng = random.Random("issue-16-mmvet")
    for _ in range(300):
        row = dict(good)
        field = rng.choice([*good, "extra_field"])
        value = rng.choice([*JUNK, "rec", "math,spat", ["ocr", "know"], "gen,telepathy"])
        if rng.random() < 0.2:
            row.pop(field, None)
        else:
            row[field] = value
        problem = check_row(row, fields, check)
        if problem is None and field in spec and field in row:
            value = row[field]
            assert value is None and spec[field].nullable or (
                isinstance(value, spec[field].kinds) and not isinstance(value, bool)
                and not (isinstance(value, float) and not math.isfinite(value))
            ), (field, value)  # fmt: skip
        assert problem is None or "\n" not in problem
