"""DPG-Bench: the grid layout, the official scoring rules in both modes, the question file,
the VQA judges on CPU, and the task end to end on janus-tiny."""

from __future__ import annotations

import http.server
import json
import threading
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from janus_eval.core.download import git_blob_id
from janus_eval.core.errors import UsageError
from janus_eval.score.judges import Judges
from janus_eval.score.judges.vqa import MPlugVQA, TransformersVQA, demo_vqa_judge, load_vqa_judge
from janus_eval.tasks.dpgbench import questions as dpg_questions
from janus_eval.tasks.dpgbench import scorer as dpgbench
from janus_eval.tasks.dpgbench.grid import make_grid, split_grid, tile_boxes
from janus_eval.tasks.dpgbench.questions import resolve_dpg_csv
from janus_eval.tasks.dpgbench.scorer import load_questions, score_prompt

HEADER = "item_id,text,keywords,proposition_id,dependency,category_broad,category_detailed,tuple,question_natural_language\n"
# A small question file in the schema of the official dpg_bench.csv. Item a0 comes first, so
# the official script's first-row skip removes its question 1, on which its question 2 depends.
CSV = HEADER + (
    'a0,"a red cat in a photo",,1,0,entity,whole,entity - whole (cat),Is there a cat?\n'
    'a0,"a red cat in a photo",,2,1,attribute,color,"attribute - color (cat, red)",Is the cat red?\n'
    'a0,"a red cat in a photo",,3,0,global,,global - (photo),Is this a photo?\n'
    'b1,"a blue dog next to two balls",,1,0,entity,whole,entity - whole (dog),Is there a dog?\n'
    'b1,"a blue dog next to two balls",,2,1,attribute,color,"attribute - color (dog, blue)",Is the dog blue?\n'
    'b1,"a blue dog next to two balls",,3,"1,2",relation,spatial,"relation - spatial (dog, ball, next to)",Is the dog next to a ball?\n'
    'b1,"a blue dog next to two balls",,4,3,other,count,"other - count (ball, ==2)",Are there two balls?\n'
    'b1,"a blue dog next to two balls",,5,0,global,,global - (sunny),Is it sunny?\n'
)
Q = {
    "a0": ["Is there a cat?", "Is the cat red?", "Is this a photo?"],
    "b1": [
        "Is there a dog?",
        "Is the dog blue?",
        "Is the dog next to a ball?",
        "Are there two balls?",
        "Is it sunny?",
    ],
}
# The judge's answers, per item and tile (official order: top-left, top-right, bottom-left,
# bottom-right). Only an exact "yes" counts: "Yes" and "yes." are wrong answers.
ANSWERS = {
    "a0": [["yes", "yes", "yes"], ["yes", "no", "yes"], ["no", "yes", "yes"], ["yes", "yes", "no"]],
    "b1": [
        ["yes", "yes", "yes", "yes", "yes"],
        ["no", "yes", "yes", "yes", "yes"],
        ["yes", "Yes", "yes", "yes", "yes"],
        ["yes", "yes", "no", "yes", "yes."],
    ],
}
# Hand-computed. Corrected mode:
#   a0 tiles: [1,1,1]=1; [1,0,1]=2/3; [0,0*,1]=1/3 (q2 zeroed, parent q1 = 0); [1,1,0]=2/3 -> 2/3
#   b1 tiles: 1; [0,0*,0*,0*,1]=0.2 (the chain 1->2->3->4); [1,0,0*,0*,1]=0.4; [1,1,0,0*,0]=0.4 -> 0.5
#   overall = (2/3 + 1/2) / 2 x 100 = 58.333...
#   categories (each question's mean over tiles after zeroing, pooled):
#     entity: a0 q1 .75, b1 q1 .75 -> 75; attribute: a0 q2 .5, b1 q2 .5 -> 50;
#     global: a0 q3 .75, b1 q5 .75 -> 75; relation: b1 q3 .25 -> 25; other: b1 q4 .25 -> 25
# Official quirks: a0 loses q1, q2's parent is missing -> the prompt fails and is left out;
#   overall = b1 = 50; categories from b1's last tile before zeroing:
#     entity 100, attribute 100, relation 0, other 100, global 0 ("yes." is not "yes").
EXPECTED = {
    False: {"overall": 100 * (2 / 3 + 0.5) / 2, "entity": 75.0, "attribute": 50.0, "global": 75.0,
            "relation": 25.0, "other": 25.0, "failed": 0.0},
    True: {"overall": 50.0, "entity": 100.0, "attribute": 100.0, "global": 0.0, "relation": 0.0,
           "other": 100.0, "failed": 1.0},
}  # fmt: skip
TILE = 16


def tile_colour(item: int, tile: int) -> tuple[int, int, int]:
    return (40 + 60 * item, 30 + 50 * tile, 128)


class OracleJudge:
    """Answers from the table above, finding (item, tile) by the tile's colour: a wrong crop or
    a question routed to the wrong tile raises KeyError."""

    name = "oracle"

    def __init__(self):
        self.table = {}
        for i, item in enumerate(["a0", "b1"]):
            for t, answers in enumerate(ANSWERS[item]):
                for q, a in zip(Q[item], answers):
                    self.table[(tile_colour(i, t), q)] = a
        self.calls = 0

    def answer(self, images, questions):
        self.calls += len(images)
        out = []
        for img, q in zip(images, questions):
            assert img.size == (TILE, TILE)
            colours = {c for _, c in img.getcolors()}
            assert len(colours) == 1, "a tile must be exactly one image of the grid"
            out.append(self.table[(colours.pop(), q)])
        return out

    def describe(self):
        return {"backend": "oracle"}


def write_grids(folder: Path) -> list[dict]:
    records = []
    for i, item in enumerate(["a0", "b1"]):
        tiles = [Image.new("RGB", (TILE, TILE), tile_colour(i, t)) for t in range(4)]
        path = folder / "images" / f"{item}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        make_grid(tiles).save(path)
        records.append({"item_id": item, "prompt": "p", "prediction": f"images/{item}.png", "n_images": 4})
    return records


@pytest.fixture
def csv_path(tmp_path):
    path = tmp_path / "dpg_bench.csv"
    path.write_text(CSV)
    return path


# --- grid ------------------------------------------------------------------------------
def test_grid_is_2x2_without_padding_in_the_official_crop_order():
    tiles = [Image.new("RGB", (32, 32), c) for c in ["red", "green", "blue", "white"]]
    grid = make_grid(tiles)
    assert grid.size == (64, 64)
    assert tile_boxes(4, 384) == [
        (0, 0, 384, 384),
        (384, 0, 768, 384),
        (0, 384, 384, 768),
        (384, 384, 768, 768),
    ]
    assert grid.getpixel((0, 0)) == (255, 0, 0) and grid.getpixel((31, 31)) == (255, 0, 0)
    assert grid.getpixel((32, 0)) == (0, 128, 0) and grid.getpixel((0, 32)) == (0, 0, 255)
    back = split_grid(grid, 4)
    assert [t.tobytes() for t in back] == [t.tobytes() for t in tiles]
    one = split_grid(tiles[0], 1)
    assert len(one) == 1 and one[0].size == (32, 32)
    with pytest.raises(ValueError, match="grid of 4"):
        split_grid(Image.new("RGB", (64, 70)), 4)
    with pytest.raises(ValueError, match="1 to 4"):
        make_grid(tiles + tiles[:1])


# --- question file and rules ---------------------------------------------------------------
def test_load_questions_reads_the_real_schema(csv_path):
    items = load_questions(csv_path)
    assert list(items) == ["a0", "b1"]
    b1 = items["b1"]
    assert [q.qid for q in b1] == [1, 2, 3, 4, 5]
    assert b1[2].parents == (1, 2) and b1[0].parents == (0,)
    assert b1[2].category == "relation - spatial" and b1[2].broad == "relation"
    assert b1[4].category == "global -" and b1[4].broad == "global"  # the official L2 naming
    quirky = load_questions(csv_path, official_quirks=True)
    assert [q.qid for q in quirky["a0"]] == [2, 3]


def test_load_questions_rejects_bad_files(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("item_id,question\nx,y\n")
    with pytest.raises(UsageError, match="not DPG-Bench"):
        load_questions(bad)
    bad.write_text(HEADER + "x,t,,one,0,entity,whole,entity - whole (x),Is there x?\n")
    with pytest.raises(UsageError, match="line 2"):
        load_questions(bad)
    split = HEADER + "".join(
        f"{item},t,,{n},0,entity,whole,entity - whole (x),Q{n}?\n"
        for item, n in [("x", 1), ("y", 1), ("x", 2)]
    )
    bad.write_text(split)
    with pytest.raises(UsageError, match="not consecutive"):
        load_questions(bad)
    assert [q.qid for q in load_questions(bad, official_quirks=True)["x"]] == [2]  # official: starts over


def test_score_prompt_dependency_chain_and_exact_yes(csv_path):
    qs = load_questions(csv_path)["b1"]
    answers = [{q.qid: a for q, a in zip(qs, tile)} for tile in ANSWERS["b1"]]
    res = score_prompt(qs, answers, official_quirks=False)
    assert res.tile_scores == pytest.approx([1.0, 0.2, 0.4, 0.4])
    assert res.score == pytest.approx(0.5)
    assert res.category_scores == pytest.approx({1: 0.75, 2: 0.5, 3: 0.25, 4: 0.25, 5: 0.75})
    quirky = score_prompt(qs, answers, official_quirks=True)
    assert quirky.score == pytest.approx(0.5)
    assert quirky.category_scores == {1: 1.0, 2: 1.0, 3: 0.0, 4: 1.0, 5: 0.0}  # last tile, before zeroing


def test_dangling_dependency_fails_officially_and_is_ignored_when_corrected(csv_path):
    qs = load_questions(csv_path, official_quirks=True)["a0"]  # q2 depends on the dropped q1
    answers = [{2: "no", 3: "yes"}, {2: "yes", 3: "yes"}]
    assert score_prompt(qs, answers, official_quirks=True).score is None
    res = score_prompt(qs, answers, official_quirks=False)
    assert res.score == pytest.approx((0.5 + 1.0) / 2) and res.dangling == 1


@pytest.mark.parametrize("quirks", [False, True])
def test_scorer_on_grids_with_hand_computed_numbers(tmp_path, csv_path, quirks):
    records = pd.DataFrame(write_grids(tmp_path) + [
        {"item_id": "zz", "prompt": "p", "prediction": "images/zz.png", "n_images": 4},  # no questions
        {"item_id": "b1", "prompt": "p", "prediction": "images/missing.png", "n_images": 4},  # no file
    ])  # fmt: skip
    records["error"] = None
    records.loc[len(records)] = {
        "item_id": "a0",
        "prompt": "p",
        "prediction": None,
        "n_images": 4,
        "error": "oom",
    }
    judge = OracleJudge()
    settings = {"csv": str(csv_path), "image_root": str(tmp_path), "official_quirks": quirks}
    scored = dpgbench.score(records, settings, Judges(vqa=judge))
    t = scored.table.set_index(["metric", "subset"])
    want = EXPECTED[quirks]
    assert t.loc[("overall", ""), "value"] == pytest.approx(want["overall"])
    for cat in ("entity", "attribute", "global", "relation", "other"):
        assert t.loc[("score", cat), "value"] == pytest.approx(want[cat]), cat
    assert t.loc[("failed", ""), "value"] == want["failed"] + 2  # + no questions, + missing image
    assert t.loc[("errors", ""), "value"] == 1
    assert ("mode", "official_quirks" if quirks else "corrected") in t.index
    assert ("mode", "corrected" if quirks else "official_quirks") not in t.index
    assert t.loc[("overall", ""), "n"] == (1 if quirks else 2)
    # per sample: the prompt score, the answers, and why a prompt was left out
    assert scored.per_sample.loc[1, "score"] == pytest.approx(0.5)
    assert json.loads(scored.per_sample.loc[1, "parsed"])["tile_scores"] == pytest.approx(
        [1.0, 0.2, 0.4, 0.4]
    )
    assert "no questions" in scored.per_sample.loc[2, "parsed"]
    assert scored.per_sample.loc[4, "score"] is None
    # the judge saw every (tile, question) of the scored prompts, and nothing else
    assert judge.calls == (4 * 5 if quirks else 4 * 3 + 4 * 5)


def test_scorer_finds_the_records_images_relative_to_image_root(tmp_path, csv_path):
    records = pd.DataFrame(write_grids(tmp_path))
    records["error"] = None
    scored = dpgbench.score(records, {"csv": str(csv_path)}, Judges(vqa=OracleJudge()))  # no root
    assert scored.table.set_index(["metric", "subset"]).loc[("failed", ""), "value"] == 2
    records["prediction"] = [str(tmp_path / p) for p in records["prediction"]]  # absolute paths
    scored = dpgbench.score(records, {"csv": str(csv_path)}, Judges(vqa=OracleJudge()))
    assert scored.table.set_index(["metric", "subset"]).loc[("overall", ""), "value"] == pytest.approx(
        EXPECTED[False]["overall"]
    )


# --- official_quirks on unusual question files ------------------------------------------------
# A file in the real schema with what the official loop handles in its own way. Line numbers:
# the header is line 1. Item f comes first: the official script drops that row.
#   m (lines 3-6): q3 depends on "1,9" and the item has no question 9;
#   c (lines 7-9): a child (q3 <- q2) listed before its parent chain (q2 <- q1);
#   d (lines 10-13): proposition_id 1 repeated; the last row (line 13, depending on q3) wins.
ODD = HEADER + (
    'f,"an x",,1,0,entity,whole,entity - whole (x),Is there an x?\n'
    'm,"a red cat on a mat",,1,0,entity,whole,entity - whole (cat),Is there a cat?\n'
    'm,"a red cat on a mat",,2,1,attribute,color,"attribute - color (cat, red)",Is the cat red?\n'
    'm,"a red cat on a mat",,3,"1,9",relation,spatial,"relation - spatial (cat, mat, on)",'
    "Is the cat on a mat?\n"
    'm,"a red cat on a mat",,4,0,global,,global - (photo),Is this a photo?\n'
    'c,"a big brown dog",,3,2,attribute,size,"attribute - size (dog, big)",Is the dog big?\n'
    'c,"a big brown dog",,1,0,entity,whole,entity - whole (dog),Is there a dog?\n'
    'c,"a big brown dog",,2,1,attribute,color,"attribute - color (dog, brown)",Is the dog brown?\n'
    'd,"one dog and a red ball",,1,0,entity,whole,entity - whole (kitten),Is there a kitten?\n'
    'd,"one dog and a red ball",,2,1,attribute,color,"attribute - color (ball, red)",Is the ball red?\n'
    'd,"one dog and a red ball",,3,0,entity,whole,entity - whole (ball),Is there a ball?\n'
    'd,"one dog and a red ball",,1,3,other,count,"other - count (dog, ==1)",Is there one dog?\n'
)


@pytest.fixture
def odd_csv(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text(ODD)
    return path


def by_qid(qs, *tiles):
    return [{q.qid: a for q, a in zip(qs, tile)} for tile in tiles]


def test_a_repeated_proposition_id_keeps_the_last_row_in_the_first_rows_place(odd_csv):
    for quirks in (False, True):
        qf = dpgbench.read_questions(odd_csv, official_quirks=quirks)
        d = qf.items["d"]
        assert [q.qid for q in d] == [1, 2, 3]  # one question per id, id 1 still first
        assert (d[0].text, d[0].parents, d[0].category, d[0].line) == (
            "Is there one dog?", (3,), "other - count", 13,
        )  # fmt: skip
        assert qf.repeats == [dpgbench.Repeat(13, "d", 1, 10)]
        # official: q1 (first place) <- q3 = 0 -> 0; then q2 <- q1 = 0 -> 0. Had the repeat gone
        # last, q2 would have seen q1 = 1 and scored: 1/3.
        res = score_prompt(d, by_qid(d, ["yes", "yes", "no"]), official_quirks=quirks)
        assert res.tile_scores == [0.0]
    notes = dpgbench.file_notes(dpgbench.read_questions(odd_csv), official_quirks=False)
    assert notes[0] == (
        f"note: {odd_csv} repeats a proposition_id in 1 row(s) (first: line 13, item d question 1, "
        "earlier at line 10); the last row counts, in the first row's place, as in the official script"
    )


def test_a_missing_parent_after_a_zero_parent_is_scored_before_one_is_a_key_error(odd_csv):
    m = dpgbench.load_questions(odd_csv, official_quirks=True)["m"]
    assert dpgbench.sure_key_error(m) is None  # q3's first parent (1) exists: the answers decide
    # q1 "no" on every tile: q3's loop breaks at parent 1 before reaching the missing 9.
    # tiles: [0, 0*, 0*, 1] [0, 0, 0*, 1] [0, 0*, 0, 0] [0, 0*, 0*, 1] -> 1/4, 1/4, 0, 1/4
    no = [["no", "yes", "yes", "yes"], ["no", "no", "yes", "yes"], ["no", "yes", "no", "no"],
          ["no", "yes", "yes", "yes"]]  # fmt: skip
    res = score_prompt(m, by_qid(m, *no), official_quirks=True)
    assert res.tile_scores == [0.25, 0.25, 0.0, 0.25] and res.score == 0.1875
    assert res.category_scores == {1: 0.0, 2: 1.0, 3: 1.0, 4: 1.0}  # last tile, before zeroing
    assert score_prompt(m, by_qid(m, *no), official_quirks=False).score == 0.1875
    # q1 "yes" on the third tile: the loop goes on past parent 1 to 9: KeyError, image left out
    yes3 = [no[0], no[1], ["yes", "yes", "no", "no"], no[3]]
    res = score_prompt(m, by_qid(m, *yes3), official_quirks=True)
    assert res.score is None and res.key_error == (3, 9) and "KeyError" in res.failure
    # corrected: the missing parent is skipped; tile 3 = [1, 1, 0, 0] = 1/2
    res = score_prompt(m, by_qid(m, *yes3), official_quirks=False)
    assert res.tile_scores == [0.25, 0.25, 0.5, 0.25] and res.score == 0.3125 and res.dangling == 1
    # a question whose first parent is missing fails on the first tile whatever the answers
    lone = [dpgbench.Question(2, (0, 1), "Q2?", "entity - whole"), dpgbench.Question(3, (2,), "Q3?", "x")]
    assert dpgbench.sure_key_error(lone) == (2, 1)


def test_zeroing_is_in_place_in_file_order_so_a_child_listed_first_escapes(odd_csv):
    c = dpgbench.load_questions(odd_csv)["c"]
    assert [q.qid for q in c] == [3, 1, 2]
    # tile 1: q3 <- q2 sees q2's raw 1 (q2 is zeroed only later, by q1 = 0): [1, 0, 0*] = 1/3
    for quirks in (False, True):
        res = score_prompt(c, by_qid(c, ["yes", "no", "yes"], ["yes", "yes", "yes"]), official_quirks=quirks)
        assert res.tile_scores == [1 / 3, 1.0]


class TextJudge:
    """Answers by the question's text, the same on every tile; records what it was asked."""

    name = "text"
    ANSWERS = {
        "Is there a cat?": "yes", "Is the cat red?": "yes", "Is the cat on a mat?": "no",
        "Is this a photo?": "yes", "Is the dog big?": "yes", "Is there a dog?": "no",
        "Is the dog brown?": "yes", "Is there one dog?": "yes", "Is the ball red?": "yes",
        "Is there a ball?": "no",
    }  # fmt: skip

    def __init__(self):
        self.asked = []

    def answer(self, images, questions):
        self.asked += questions
        return [self.ANSWERS[q] for q in questions]


# Hand-computed from the official code, one tile per prompt:
#   m: [1, 1, 0, 1]; quirks: q3 <- "1,9": q1 = 1, so the loop reaches 9: KeyError, m left out;
#      corrected: 9 skipped -> 3/4; categories after zeroing entity 1, attribute 1, relation 0, global 1
#   c: raw {3: 1, 1: 0, 2: 1}; q3 keeps (q2 still 1), q2 <- q1 = 0 -> [1, 0, 0] = 1/3 (both modes)
#   d: raw {1: 1, 2: 1, 3: 0}; q1 <- q3 = 0, q2 <- q1 = 0 -> 0 (both modes); "Is there a kitten?"
#      (the overwritten row) is never asked
# quirks: overall = (1/3 + 0) / 2; categories from the raw scores of c and d:
#   attribute [c3 1, c2 1, d2 1] = 100, entity [c1 0, d3 0] = 0, other [d1 1] = 100
# corrected: overall = (3/4 + 1/3 + 0) / 3; categories from the zeroed scores of m, c and d:
#   entity [m1 1, c1 0, d3 0], attribute [m2 1, c3 1, c2 0, d2 0], relation [0], global [1], other [0]
ODD_EXPECTED = {
    True: {"overall": 100 / 6, "attribute": 100.0, "entity": 0.0, "other": 100.0, "failed": 1},
    False: {"overall": 100 * (0.75 + 1 / 3) / 3, "attribute": 50.0, "entity": 100 / 3, "other": 0.0,
            "relation": 0.0, "global": 100.0, "failed": 0},
}  # fmt: skip


@pytest.mark.parametrize("quirks", [True, False])
def test_scorer_on_the_unusual_file_equals_the_official_semantics(tmp_path, odd_csv, quirks, capsys):
    for item in "mcd":
        Image.new("RGB", (TILE, TILE), "gray").save(tmp_path / f"{item}.png")
    records = pd.DataFrame(
        [{"item_id": i, "prompt": "p", "prediction": f"{i}.png", "n_images": 1, "error": None} for i in "mcd"]
    )
    judge = TextJudge()
    settings = {"csv": str(odd_csv), "image_root": str(tmp_path), "official_quirks": quirks}
    scored = dpgbench.score(records, settings, Judges(vqa=judge))
    t = scored.table.set_index(["metric", "subset"])["value"]
    want = ODD_EXPECTED[quirks]
    assert t[("overall", "")] == pytest.approx(want["overall"])
    for cat in set(want) - {"overall", "failed"}:
        assert t[("score", cat)] == pytest.approx(want[cat]), cat
    assert {c for m, c in t.index if m == "score"} == set(want) - {"overall", "failed"}
    assert t[("failed", "")] == want["failed"] and t[("failed", "missing_parent")] == want["failed"]
    assert "Is there a kitten?" not in judge.asked and judge.asked.count("Is there one dog?") == 1
    err = capsys.readouterr().err.splitlines()
    judging = [x for x in err if x.startswith("dpgbench: judging")]  # the judging bar's plain lines
    assert judging[0] == "dpgbench: judging: 3 prompts to go" and judging[-1].startswith("dpgbench: judging: 3/3")
    err = [x for x in err if x not in judging]  # the notes, one line each
    assert err[0].startswith(f"note: {odd_csv} repeats a proposition_id in 1 row(s) (first: line 13")
    if quirks:
        assert scored.per_sample.loc[0, "score"] is None and "KeyError" in scored.per_sample.loc[0, "parsed"]
        assert len(err) == 2 and err[1].startswith("note: official_quirks left 1 prompt(s) out")
        assert "item m question 3 -> 9" in err[1]
    else:
        assert scored.per_sample.loc[0, "score"] == 0.75
        assert len(err) == 2 and "(first: line 5, item m question 3 -> 9); ignored" in err[1]


def test_an_item_seen_again_later_starts_over_officially_and_is_refused_corrected(tmp_path, cli):
    rows = [("z", 1, "0"), ("x", 1, "0"), ("x", 2, "1"), ("y", 1, "0"), ("x", 3, "0"), ("x", 1, "3")]
    text = HEADER + "".join(
        f"{i},t,,{n},{dep},entity,whole,entity - whole (o),{i}{n}?\n" for i, n, dep in rows
    )
    path = tmp_path / "split.csv"
    path.write_text(text)
    x = dpgbench.read_questions(path, official_quirks=True)
    assert [(q.qid, q.parents, q.line) for q in x.items["x"]] == [(3, (0,), 6), (1, (3,), 7)]
    assert x.repeats == []  # x's first group (lines 3-4) is gone; no id repeats in the second
    samples = tmp_path / "samples.jsonl"
    record = {"sample_id": "x", "item_id": "x", "prediction": "x.png", "error": None}
    samples.write_text(json.dumps(record) + "\n")
    code, _, err = cli(
        "score", samples, "--task", "dpgbench", "--dpg-csv", path, "--output", tmp_path / "out"
    )
    assert code == 2
    assert err.strip() == f"error: {path} line 6: the rows of item x are not consecutive"


# --- the question file: path, cache, download ------------------------------------------------
class _Server:
    def __init__(self, body: bytes):
        body_ = body

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                self.send_response(200)
                self.send_header("Content-Length", str(len(body_)))
                self.end_headers()
                self.wfile.write(body_)

            def log_message(self, *args):
                pass

        self.httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/dpg_bench.csv"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_git_blob_id_matches_git(tmp_path):
    (tmp_path / "hello").write_bytes(b"hello\n")
    assert git_blob_id(tmp_path / "hello") == "ce013625030ba8dba906f756967f9e9ca394464a"  # `git hash-object`


def test_csv_is_downloaded_once_checked_and_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("JANUS_EVAL_CACHE", str(tmp_path / "cache"))
    server = _Server(CSV.encode())
    try:
        with pytest.raises(UsageError, match="not the pinned"):
            resolve_dpg_csv(url=server.url, blob="0" * 40)
        assert not dpg_questions.cached_csv_path().exists()
        (tmp_path / "served.csv").write_text(CSV)
        path = resolve_dpg_csv(url=server.url, blob=git_blob_id(tmp_path / "served.csv"))
    finally:
        server.close()
    assert path == tmp_path / "cache" / "dpg_bench" / "dpg_bench.csv" and path.read_text() == CSV
    # the server is gone: the cached copy is used
    assert resolve_dpg_csv(url=server.url, blob="0" * 40) == path


def test_offline_without_csv_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("JANUS_EVAL_CACHE", str(tmp_path / "cache"))
    server = _Server(b"")
    url = server.url
    server.close()  # nothing listens there any more
    with pytest.raises(UsageError, match="--dpg-csv"):
        resolve_dpg_csv(url=url)
    with pytest.raises(UsageError, match="does not exist"):
        resolve_dpg_csv(tmp_path / "nope.csv")
    assert resolve_dpg_csv(demo=True) == dpg_questions.DEMO_CSV and dpg_questions.DEMO_CSV.is_file()


# --- VQA judges --------------------------------------------------------------------------------
def test_demo_judge_is_a_random_blip_vqa_that_really_runs():
    from transformers import BlipForQuestionAnswering

    judge = demo_vqa_judge()
    assert isinstance(judge.model, BlipForQuestionAnswering)
    import numpy as np

    rng = np.random.default_rng(0)
    images = [Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)) for _ in range(8)]
    questions = ["Is there a cat?", "Is the dog red?", "Is this a photo?", "Are there two zebras?"] * 2
    answers = judge.answer(images, questions)
    assert answers == demo_vqa_judge().answer(images, questions)  # seeded: same weights each time
    assert set(answers) <= {"yes", "no"} and len(set(answers)) == 2
    assert judge.answer(images[:1], questions[:1]) == answers[:1]  # batch-independent
    assert isinstance(load_vqa_judge(None, demo=True), TransformersVQA)


def test_transformers_backend_loads_blip_and_vilt_folders(tmp_path):
    import torch
    from transformers import (
        BertTokenizerFast,
        ViltConfig,
        ViltForQuestionAnswering,
        ViltImageProcessor,
        ViltProcessor,
    )

    demo = demo_vqa_judge()
    demo.model.save_pretrained(tmp_path / "blip")
    demo.processor.save_pretrained(tmp_path / "blip")
    blip = load_vqa_judge(str(tmp_path / "blip"), device="cpu")
    img = [Image.new("RGB", (50, 30), "red")]
    assert blip.kind == "blip"
    assert len(blip.answer(img, ["Is it red?"])) == 1

    vocab = {
        w: i for i, w in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "is", "it", "red", "?"])
    }
    torch.manual_seed(0)
    config = ViltConfig(
        vocab_size=len(vocab), hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
        image_size=32, patch_size=16, max_image_length=-1, num_labels=2, id2label={0: "yes", 1: "no"},
        label2id={"yes": 0, "no": 1},
    )  # fmt: skip
    ViltForQuestionAnswering(config).save_pretrained(tmp_path / "vilt")
    ViltProcessor(
        image_processor=ViltImageProcessor(size={"shortest_edge": 32}, size_divisor=16),
        tokenizer=BertTokenizerFast(vocab=vocab),
    ).save_pretrained(tmp_path / "vilt")
    vilt = load_vqa_judge(str(tmp_path / "vilt"), device="cpu")
    assert vilt.kind == "vilt"
    assert vilt.answer(img * 2, ["is it red?", "is it?"])[0] in ("yes", "no")

    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="config.json"):
        load_vqa_judge(str(tmp_path / "empty"))
    with pytest.raises(UsageError, match="--vqa-model"):
        load_vqa_judge(None)


def test_mplug_backend_without_modelscope_is_a_usage_error(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "modelscope", None)  # import modelscope -> ImportError
    monkeypatch.setitem(sys.modules, "modelscope.pipelines", None)
    with pytest.raises(UsageError, match="pip install modelscope"):
        MPlugVQA()
    with pytest.raises(UsageError, match="modelscope"):
        load_vqa_judge("mplug")


# --- the task ---------------------------------------------------------------------------------------
def test_packaged_prompts_and_licence():
    from janus_eval.data.load import load_samples
    from janus_eval.tasks.registry import load_task

    task = load_task("dpgbench")
    assert task.kind == "generation" and task.generation["images_per_prompt"] == 4
    data = load_samples(task)
    assert len(data.samples) == 1065 and len({s.id for s in data.samples}) == 1065
    assert data.source["kind"] == "package"
    by_id = {s.id: s.row["prompt"] for s in data.samples}
    assert by_id["partiprompts302"].startswith("a vibrant plant with star-shaped orange flowers")
    assert all(p == p.strip() and p for p in by_id.values())
    licence = Path(dpg_questions.__file__).parent / "data" / "LICENSE"
    assert "Apache License" in licence.read_text()
    demo = load_samples(task, demo=True)
    assert [s.id for s in demo.samples] == list(load_questions(dpg_questions.DEMO_CSV))


def test_run_dpgbench_end_to_end(cli, tmp_path):
    code, out, err = cli(
        "run", "--tasks", "dpgbench", "--model", "janus-tiny", "--demo", "--limit", "2", "--output", tmp_path,
        "--run-id", "dpg", "--no-progress", "--batch-size", "3",
    )  # fmt: skip
    assert code == 0, err
    run_dir = tmp_path / "dpg"
    images = sorted((run_dir / "dpgbench" / "images").iterdir())
    assert [p.name for p in images] == ["COCOval2014000000053916.png", "partiprompts302.png"]
    assert all(Image.open(p).size == (64, 64) for p in images)  # 2x2 grid of 32 px tiny images
    records = [json.loads(x) for x in (run_dir / "dpgbench" / "samples.jsonl").read_text().splitlines()]
    assert [r["prediction"] for r in records] == [
        "images/partiprompts302.png",
        "images/COCOval2014000000053916.png",
    ]
    assert all(r["images"] == [r["prediction"]] and r["n_images"] == 4 for r in records)  # the report's gallery
    assert all(0.0 <= r["score"] <= 1.0 and json.loads(r["parsed"])["answers"] for r in records)
    scores = pd.read_csv(run_dir / "scores.csv", keep_default_na=False).set_index(["metric", "subset"])
    assert scores.loc[("overall", ""), "n"] == 2
    assert ("mode", "corrected") in scores.index and ("mode", "demo_judge") in scores.index
    assert ("mode", "judge:demo-random-blip-vqa") in scores.index
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["tasks"]["dpgbench"]["config"]["generation"]["cfg"] == 5.0
    assert "overall" in out

    # a rerun with the same id resumes: the finished prompts are not drawn again
    before = {p.name: p.stat().st_mtime_ns for p in images}
    code, _, err = cli(
        "run", "--tasks", "dpgbench", "--model", "janus-tiny", "--demo", "--limit", "3", "--output", tmp_path,
        "--run-id", "dpg", "--no-progress",
    )  # fmt: skip
    assert code == 0, err
    after = {p.name: p.stat().st_mtime_ns for p in (run_dir / "dpgbench" / "images").iterdir()}
    assert len(after) == 3 and all(after[k] == v for k, v in before.items())
    assert len((run_dir / "dpgbench" / "samples.jsonl").read_text().splitlines()) == 3

    # settings from the command line reach the sampler and the scorer; a changed setting is a
    # different task config, so it cannot resume into this run
    code, _, err = cli(
        "run", "--tasks", "dpgbench", "--model", "janus-tiny", "--demo", "--limit", "2", "--output", tmp_path,
        "--run-id", "dpg", "--no-progress", "--cfg", "3",
    )  # fmt: skip
    assert code == 2 and "changed" in err
    code, _, err = cli(
        "run", "--tasks", "dpgbench", "--model", "janus-tiny", "--demo", "--limit", "1", "--output", tmp_path,
        "--run-id", "dpg1", "--no-progress", "--images-per-prompt", "1", "--official-quirks",
    )  # fmt: skip
    assert code == 0, err
    assert Image.open(tmp_path / "dpg1" / "dpgbench" / "images" / "partiprompts302.png").size == (32, 32)
    quirky = pd.read_csv(tmp_path / "dpg1" / "scores.csv", keep_default_na=False).set_index(
        ["metric", "subset"]
    )
    assert ("mode", "official_quirks") in quirky.index
    assert float(quirky.loc[("failed", ""), "value"]) == 1  # the demo file's first item loses question 1
    code, _, err = cli(
        "run", "--tasks", "dpgbench", "--model", "janus-tiny", "--demo", "--output", tmp_path,
        "--run-id", "dpg5", "--images-per-prompt", "5",
    )  # fmt: skip
    assert code == 2 and "1 to 4" in err


def test_grid_images_do_not_depend_on_batch_size(tmp_path):
    from janus_eval.core.spec import RunSpec
    from janus_eval.runner import run
    from janus_eval.tasks.registry import resolve_tasks

    grids = {}
    for bs in (1, 8):
        opts = RunSpec(
            model="janus-tiny", output=tmp_path, run_id=f"bs{bs}", batch_size=bs, demo=True, progress=False
        )
        store = run(resolve_tasks("dpgbench"), opts)
        grids[bs] = {
            p.name: p.read_bytes() for p in sorted((store.task_dir("dpgbench") / "images").iterdir())
        }
    assert grids[1] == grids[8] and len(grids[1]) == 3


def test_run_fails_before_drawing_when_judge_or_questions_are_missing(cli, tmp_path, monkeypatch):
    monkeypatch.setattr("janus_eval.score.judges.vqa.modelscope_available", lambda: False)
    demo_csv = str(dpg_questions.DEMO_CSV)
    code, _, err = cli(
        "run", "--tasks", "dpgbench", "--model", "janus-tiny", "--limit", "1", "--output", tmp_path,
        "--run-id", "pf", "--dpg-csv", demo_csv,
    )  # fmt: skip
    assert code == 2 and "modelscope" in err
    code, _, err = cli(
        "run", "--tasks", "dpgbench", "--model", "janus-tiny", "--limit", "1", "--output", tmp_path,
        "--run-id", "pf", "--dpg-csv", str(tmp_path / "missing.csv"), "--vqa-model", str(tmp_path),
    )  # fmt: skip
    assert code == 2 and "--dpg-csv" in err
    assert not (tmp_path / "pf").exists()  # nothing was drawn or written
