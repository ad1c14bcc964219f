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


def mutated(base_rows: list[dict], rng: random.Random, fields: list[str], junk: list) -> tuple[list[dict], str, bool, object]:
    """A deep copy of `base_rows` with one random row's `field` deleted (a fifth of the time,
    never `extra_field`) or set to a random `junk` value; returns (rows, field, deleted, value)."""
    rows = [json.loads(json.dumps(r)) for r in base_rows]
    target = rows[rng.randrange(len(rows))]
    field = rng.choice(fields)
    delete = rng.random() < 0.2 and field != "extra_field"
    value = rng.choice(junk)
    if delete:
        target.pop(field, None)
    else:
        target[field] = value
    return rows, field, delete, value


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
        rows, field, delete, value = mutated(base_rows, rng, [*GOOD[task], "extra_field"], JUNK)
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


# --- the generation tasks: GenEval and DPG-Bench samples files point at images -----------------
GENEVAL_META = [
    {"index": 0, "tag": "single_object", "include": [{"class": "bench", "count": 1}], "prompt": "a photo of a bench"},
    {"index": 1, "tag": "counting", "include": [{"class": "clock", "count": 2}],
     "exclude": [{"class": "clock", "count": 3}], "prompt": "a photo of two clocks"},
    {"index": 2, "tag": "position", "include": [{"class": "dog", "count": 1},
     {"class": "cat", "count": 1, "position": ["left of", 0]}], "prompt": "a photo of a cat left of a dog"},
]  # fmt: skip
DPG_ITEMS = ["partiprompts302", "COCOval2014000000053916", "COCOval2014000000126671"]  # the demo question file's


def geneval_rows(folder) -> list[dict]:
    """Three prompts in GenEval's layout under `folder` (two noise images each), as `run` writes them."""
    from PIL import Image

    rng = random.Random(0)
    rows = []
    for meta in GENEVAL_META:
        images = []
        for n in range(2):
            rel = f"images/{meta['index']:05d}/samples/{n:04d}.png"
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            Image.frombytes("RGB", (32, 32), bytes(rng.randrange(256) for _ in range(32 * 32 * 3))).save(folder / rel)
            images.append(rel)
        rows.append({**meta, "images": images, "prediction": f"images/{meta['index']:05d}", "error": None})
    return rows


def dpg_rows(folder) -> list[dict]:
    """The demo question file's three prompts, each a 2x2 grid of 32 px tiles, as `run` writes them."""
    from PIL import Image

    from janus_eval.tasks.dpgbench.grid import make_grid

    rows = []
    for i, item in enumerate(DPG_ITEMS):
        rel = f"images/{item}.png"
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        make_grid([Image.new("RGB", (32, 32), (60 * i, 50 * t, 128)) for t in range(4)]).save(folder / rel)
        rows.append({"item_id": item, "prompt": f"prompt {i}", "prediction": rel, "images": [rel], "n_images": 4,
                     "error": None})  # fmt: skip
    return rows


def generation_task(task: str):
    """The task as scored here: DPG-Bench with the demo question file (offline), GenEval with a
    threshold of 0 so the random detector's objects reach the rules and the metrics vary."""
    from dataclasses import replace

    from janus_eval.tasks.dpgbench.questions import DEMO_CSV

    config = load_task(task)
    extra = {"csv": str(DEMO_CSV)} if task == "dpgbench" else {"threshold": 0.0}
    return replace(config, scoring={**config.scoring, **extra})


GEN_BAD = [
    ("geneval", "tag", "colour", "single_object, two_object, counting, colors, position, color_attr"),
    ("geneval", "include", [{"class": "unicorn", "count": 1}], "80 COCO classes"),
    ("geneval", "include", [{"class": "dog", "count": 0}], "positive integer"),
    ("geneval", "include", [{"class": "dog", "count": True}], "positive integer"),
    ("geneval", "include", [{"class": "dog", "count": 1, "color": "teal"}], "red, orange, yellow"),
    ("geneval", "include", [{"class": "dog", "count": 1, "colour": "red"}], "class, count, color, position"),
    ("geneval", "include", [{"class": "dog", "count": 1}, {"class": "cat", "count": 1, "position": ["near", 0]}],
     "left of, right of, above, below"),  # fmt: skip
    ("geneval", "include", [{"class": "dog", "count": 1}, {"class": "cat", "count": 1, "position": ["above", 1]}],
     "earlier include clause (0)"),  # fmt: skip
    ("geneval", "include", [], "at least one clause"),
    ("geneval", "include", "[{", "not JSON"),
    ("geneval", "exclude", [{"class": "dog", "count": 2, "position": ["above", 0]}], "only class, count"),
    ("geneval", "index", 0, "earlier line"),
    ("geneval", "index", "1", "an integer"),
    ("geneval", "images", ["../outside.png"], "outside the samples file's folder"),
    ("geneval", "images", ["/etc/hostname"], "outside the samples file's folder"),
    ("geneval", "images", ["images/00001/samples/0009.png"], "not a file"),
    ("geneval", "images", "images/00001/samples/0000.png", "a list"),
    ("dpgbench", "item_id", "no-such-prompt", "demo_questions.csv has no questions"),
    ("dpgbench", "item_id", DPG_ITEMS[0], "earlier line"),
    ("dpgbench", "n_images", 7, "1 to 4"),
    ("dpgbench", "images", ["images/a.png", "images/b.png"], "one path"),
    ("dpgbench", "images", ["../../etc/hostname"], "outside the samples file's folder"),
    ("dpgbench", "prompt", ["a", "b"], "a string"),
]


@pytest.mark.parametrize(("task", "field", "value", "should"), GEN_BAD)
def test_a_generation_value_the_benchmark_does_not_allow_names_line_field_and_fix(tmp_path, task, field, value, should):
    rows = geneval_rows(tmp_path) if task == "geneval" else dpg_rows(tmp_path)
    rows[1][field] = value
    with pytest.raises(UsageError) as info:
        score_samples_file(generation_task(task), write(tmp_path / "s.jsonl", rows))
    message = str(info.value)
    assert "s.jsonl:2" in message and f"'{field}'" in message and should in message and "\n" not in message


def test_geneval_missing_or_unreadable_image_is_one_line_through_the_command_line(tmp_path, cli):
    """The official evaluator judges the images it finds and stops at one it cannot open: a
    samples file naming a missing or broken image is refused before any judge loads."""
    rows = geneval_rows(tmp_path)
    (tmp_path / rows[2]["images"][1]).write_bytes(b"\x89PNG\r\n\x1a\n cut short")
    code, _, err = cli("score", "--task", "geneval", write(tmp_path / "s.jsonl", rows), "--output", tmp_path / "out")
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "s.jsonl:3" in err and "'images'" in err and "not a readable image" in err and "Traceback" not in err
    rows[2]["images"][1] = "images/00002/samples/0007.png"
    code, _, err = cli("score", "--task", "geneval", write(tmp_path / "s.jsonl", rows), "--output", tmp_path / "out")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "s.jsonl:3" in err and "not a file" in err
    rows[2]["error"] = "out of memory"  # a prompt that was not drawn: its images are not read
    rows[0]["include"] = [{"class": "unicorn", "count": 1}]
    code, _, err = cli("score", "--task", "geneval", write(tmp_path / "s.jsonl", rows), "--output", tmp_path / "out")
    assert code == 2 and "s.jsonl:1" in err and "unicorn" in err and not (tmp_path / "out").exists()


def test_dpgbench_missing_grid_stays_a_failed_prompt_as_in_the_official_script(tmp_path):
    """The official compute_dpg_bench.py scores the grids in the folder and skips one it cannot
    score: a missing or broken grid is counted in `failed`, the other prompts are scored."""
    from janus_eval.score.judges import Judges

    rows = dpg_rows(tmp_path)
    (tmp_path / rows[1]["prediction"]).unlink()
    (tmp_path / rows[2]["prediction"]).write_bytes(b"not a png")
    _, table = score_samples_file(generation_task("dpgbench"), write(tmp_path / "s.jsonl", rows), Judges(demo=True))
    got = table.set_index(["metric", "subset"])["value"]
    assert got[("failed", "")] == 2 and table.set_index(["metric", "subset"]).loc[("overall", ""), "n"] == 1


# The fuzz over the generation contracts, end to end with the random-weight judges of the
# demo runs (the real architectures): each case is a score table or one line, never another
# exception, and a table changes only where an allowed value says so.
GEN_JUNK = [
    *JUNK, "../outside.png", "/etc/hostname", ["../x.png"], ["images/00000/samples/0000.png"], "counting", "colors",
    [{"class": "dog", "count": 1}], [{"class": "unicorn", "count": 1}], [{"class": "dog", "count": 2, "color": "teal"}],
    '[{"class": "cat", "count": 1}]', [{"class": "cat", "count": 1}, {"class": "dog", "count": 1,
    "position": ["above", 0]}], *DPG_ITEMS, "images/partiprompts302.png", ["images/partiprompts302.png"], 1, 4, 2,
]  # fmt: skip


class CachedDetections:
    """The demo GenEval judge with its detections kept per image file: the fuzz shows each
    image to the random detector once (the verdicts are the same as without the cache)."""

    def __init__(self, judge):
        self.judge, self.seen, self.demo = judge, {}, judge.demo

    def detect(self, path):
        key = str(path)
        if key not in self.seen:
            self.seen[key] = self.judge.detect(path)
        return self.seen[key]

    def classify(self, images, class_prompts):
        return self.judge.classify(images, class_prompts)

    def describe(self):
        return self.judge.describe()


@pytest.fixture(scope="module")
def demo_judges():
    from helpers import needs_geneval_extra

    from janus_eval.score.judges import Judges
    from janus_eval.score.judges.geneval_detector import load_geneval_judge
    from janus_eval.score.judges.vqa import demo_vqa_judge

    needs_geneval_extra()
    return {
        "geneval": Judges(geneval=CachedDetections(load_geneval_judge(demo=True, device="cpu")), demo=True),
        "dpgbench": Judges(vqa=demo_vqa_judge(), demo=True),
    }


@pytest.mark.parametrize("task", ["geneval", "dpgbench"])
def test_fuzz_generation_samples_contract(tmp_path, task, demo_judges):
    from janus_eval.tasks.dpgbench.questions import DEMO_CSV
    from janus_eval.tasks.dpgbench.scorer import load_questions

    rng = random.Random(f"issue-16-{task}{os.environ.get('JANUS_EVAL_FUZZ_SEED', '')}")
    config, judges = generation_task(task), demo_judges[task]
    base_rows = geneval_rows(tmp_path) if task == "geneval" else dpg_rows(tmp_path)
    if task == "geneval":  # ask for what the random detector sees in the first image: some verdicts are right
        for row in base_rows:
            found = sorted({d.label for d in judges.geneval.detect(tmp_path / row["images"][0])})
            row["include"][0]["class"] = found[0]
    read = contract_fields(task)
    scored = lambda path: score_samples_file(config, path, judges)[1]  # noqa: E731
    baseline = scored(write(tmp_path / "base.jsonl", base_rows))
    assert 0 < baseline.set_index("metric").loc["overall", "value"] < 100  # a change would show
    base_keys = set(zip(baseline["metric"], baseline["subset"]))
    if task == "geneval":
        allowed_subsets = {"", "demo_judge", *(read["tag"].allowed or ())}
    else:
        cats = {q.category for qs in load_questions(DEMO_CSV).values() for q in qs}
        allowed_subsets = {"", "corrected", "demo_judge", "missing_parent", *cats, *(c.split("-")[0].strip() for c in cats)}
        allowed_subsets |= {s for m, s in base_keys if m == "mode"}
    accepted = refused = 0
    for case in range(150):
        rows, field, delete, value = mutated(base_rows, rng, [*base_rows[0], "exclude", "extra_field"], GEN_JUNK)
        path = write(tmp_path / f"case{case}.jsonl", rows)
        try:
            table = scored(path)
        except UsageError as exc:
            assert "\n" not in str(exc), (task, field, value, str(exc))
            refused += 1
            continue
        accepted += 1
        assert all(math.isnan(v) or math.isfinite(v) for v in table["value"]), (task, field, value)
        spec = read.get(field)
        if spec is None or field in ("extra_field", "prompt"):  # a field no rule reads: the baseline's table
            assert table.equals(baseline), (task, field, value)
            continue
        if not delete:
            wrong_type = isinstance(value, bool) or not isinstance(value, spec.kinds) or (
                isinstance(value, float) and not math.isfinite(value)
            )
            assert value is None and spec.nullable or not wrong_type, (task, field, value)
            if spec.allowed is not None and value is not None:
                assert value in spec.allowed, (task, field, value)
        new = {subset for _, subset in set(zip(table["metric"], table["subset"])) - base_keys}
        assert new <= allowed_subsets, (task, field, value, new)  # no tag or category the benchmark lacks
    assert accepted and refused, (accepted, refused)  # the cases reach both outcomes


# --- the contract on the rows `run` loads (tasks/dataset_rows.py) -----------------------------
def test_shipped_demo_and_packaged_rows_pass_the_contract():
    from janus_eval.data.load import load_samples
    from janus_eval.tasks.dataset_rows import check_dataset_rows
    from janus_eval.tasks.registry import task_names

    for name in task_names():
        task = load_task(name)
        check_dataset_rows(task, load_samples(task, demo=True), demo=True)
    check_dataset_rows(load_task("geneval"), load_samples(load_task("geneval")))  # all 553 prompts


def test_a_bad_row_of_a_data_dir_copy_stops_run_before_any_model_work(tmp_path):
    """A local POPE copy in the real schema (parquet) whose row 4 has the category "Random ":
    scored, it would have been a fourth split; `run` stops with one line before loading the model."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from helpers import write_pope_copy

    data = write_pope_copy(tmp_path / "data", 6)
    (file,) = (data / "pope").glob("*.parquet")
    table = pq.read_table(file)
    categories = table.column("category").to_pylist()
    categories[4] = "Random "
    pq.write_table(table.set_column(table.schema.get_field_index("category"), "category", pa.array(categories)), file)
    out = tmp_path / "out"
    proc = run_subprocess(
        "run", "--tasks", "pope", "--model", "janus-tiny", "--data-dir", data, "--output", out, "--run-id", "bad",
        "--no-progress", timeout=240,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert "task pope" in line and str(data / "pope") in line and "row 4" in line and "'category'" in line
    assert "adversarial, popular, random" in line and "Traceback" not in proc.stderr
    assert not list(out.rglob("samples.jsonl")) and not list(out.rglob("manifest.json"))


def test_hub_and_packaged_rows_are_named_by_their_source():
    from dataclasses import replace

    from janus_eval.core.sample import Sample
    from janus_eval.data.load import LoadedData, load_samples
    from janus_eval.tasks.dataset_rows import check_dataset_rows
    from janus_eval.tasks.dpgbench.questions import DEMO_CSV

    good = {"question_id": "a.jpg", "question": "Is it?", "answer": "Yes", "category": "existence"}
    rows = [Sample("a", good), Sample("b", {**good, "answer": "Yes please"})]
    hub = {"kind": "hub", "path": "lmms-lab/MME", "name": None, "split": "test", "revision": "abc"}
    with pytest.raises(UsageError) as info:
        check_dataset_rows(load_task("mme"), LoadedData(rows, hub))
    assert str(info.value).startswith("task mme: dataset lmms-lab/MME (config default, split test) row 1 (sample b): ")
    assert "'answer'" in str(info.value) and "yes, no" in str(info.value)
    # the real prompts against a question file that lacks them: refused before hours of drawing
    task = load_task("dpgbench")
    task = replace(task, scoring={**task.scoring, "csv": str(DEMO_CSV)})
    with pytest.raises(UsageError, match=r"packaged file data/prompts.jsonl row 0 .*demo_questions.csv has no quest"):
        check_dataset_rows(task, load_samples(task, limit=2))
