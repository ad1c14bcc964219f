"""GenEval's official rules on synthetic detections, and the scorer on real image files."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from PIL import Image

from janus_eval.core.errors import UsageError
from janus_eval.score.judges import Judges
from janus_eval.score.judges.geneval_detector import Detection, object_names
from janus_eval.tasks.geneval import scorer as G
from janus_eval.tasks.geneval.order import argsort_numpy123

META_PATH = ROOT / "janus_eval/tasks/geneval/data/evaluation_metadata.jsonl"


def det(label, box, score=0.95, mask=None):
    return Detection(label, tuple(float(v) for v in box), score, mask)


def colors_by_box(table):
    """A colour 'classifier' for the pure rules: the colour written down for each box."""

    def colors_of(classname, objs):
        return [table[o.box] for o in objs]

    return colors_of


def no_colors(classname, objs):
    raise AssertionError("colour asked for a clause without colour")


def verdict(detections, meta, colors_of=no_colors, rules=None):
    rules = rules or G.Rules()
    objects = G.select_objects(detections, meta["tag"], rules)
    return G.evaluate(objects, meta, colors_of, rules)


# --- the shipped prompt file ---------------------------------------------------------------


def test_shipped_prompts_have_the_official_tag_counts():
    rows = [json.loads(line) for line in META_PATH.read_text().splitlines()]
    counts = pd.Series([r["tag"] for r in rows]).value_counts().to_dict()
    assert counts == {
        "position": 100,
        "color_attr": 100,
        "two_object": 99,
        "colors": 94,
        "single_object": 80,
        "counting": 80,
    }
    names = set(object_names())
    assert len(object_names()) == 80
    for r in rows:
        for clause in r["include"] + r.get("exclude", []):
            assert clause["class"] in names
            assert clause.get("color") in (None, *G.COLORS)
    # counting prompts ask for exactly N: include N and exclude N+1 of the same class
    for r in rows:
        if r["tag"] == "counting":
            (inc,), (exc,) = r["include"], r["exclude"]
            assert exc["class"] == inc["class"] and exc["count"] == inc["count"] + 1


# --- every tag, pass and fail --------------------------------------------------------------

SINGLE = {"tag": "single_object", "include": [{"class": "bench", "count": 1}], "prompt": "a photo of a bench"}
TWO = {
    "tag": "two_object",
    "include": [{"class": "clock", "count": 1}, {"class": "cat", "count": 1}],
    "prompt": "a photo of a clock and a cat",
}
COUNT = {
    "tag": "counting",
    "include": [{"class": "clock", "count": 2}],
    "exclude": [{"class": "clock", "count": 3}],
    "prompt": "a photo of two clocks",
}
COLOR = {
    "tag": "colors",
    "include": [{"class": "car", "count": 1, "color": "red"}],
    "prompt": "a photo of a red car",
}
ATTR = {
    "tag": "color_attr",
    "include": [
        {"class": "bus", "count": 1, "color": "green"},
        {"class": "microwave", "count": 1, "color": "purple"},
    ],
    "prompt": "a photo of a green bus and a purple microwave",
}
POS = {
    "tag": "position",
    "include": [
        {"class": "teddy bear", "count": 1},
        {"class": "dog", "count": 1, "position": ["right of", 0]},
    ],
    "prompt": "a photo of a dog right of a teddy bear",
}


def test_single_object_pass_and_threshold_is_strict():
    assert verdict([det("bench", (10, 10, 50, 50), 0.31)], SINGLE) == G.Verdict(True, "")
    v = verdict([det("bench", (10, 10, 50, 50), 0.30), det("cat", (0, 0, 5, 5), 0.99)], SINGLE)
    assert v == G.Verdict(False, "expected bench>=1, found 0")


def test_two_object_pass_and_fail():
    both = [det("clock", (0, 0, 10, 10)), det("cat", (20, 20, 40, 40), 0.5)]
    assert verdict(both, TWO).correct
    v = verdict(both[:1], TWO)
    assert v == G.Verdict(False, "expected cat>=1, found 0")
    v = verdict([], TWO)
    assert v.reason == "expected clock>=1, found 0\nexpected cat>=1, found 0"


def test_counting_is_exactly_n_with_the_counting_threshold():
    two = [det("clock", (0, 0, 10, 10), 0.95), det("clock", (20, 0, 30, 10), 0.92)]
    assert verdict(two, COUNT).correct
    # a third clock at 0.85 is below the counting threshold (0.9): still exactly two
    assert verdict(two + [det("clock", (40, 0, 50, 10), 0.85)], COUNT).correct
    # ... but would count under the ordinary threshold of another tag
    assert len(G.select_objects(two + [det("clock", (40, 0, 50, 10), 0.85)], "two_object")["clock"]) == 3
    three = two + [det("clock", (40, 0, 50, 10), 0.91)]
    assert verdict(three, COUNT) == G.Verdict(False, "expected clock<3, found 3")
    one = [two[0], det("clock", (20, 0, 30, 10), 0.89)]
    assert verdict(one, COUNT) == G.Verdict(False, "expected clock>=2, found 1")


def test_exclude_counts_every_kept_object_up_to_the_cap():
    many = [det("clock", (i, 0, i + 5, 5), 0.99 - i * 1e-3) for i in range(20)]
    v = verdict(many, COUNT)
    assert v == G.Verdict(False, "expected clock<3, found 16")


def test_colors_pass_and_fail_with_tally():
    red, blue = det("car", (0, 0, 10, 10), 0.9), det("car", (20, 0, 30, 10), 0.8)
    table = {red.box: "red", blue.box: "blue"}
    assert verdict([red, blue], COLOR, colors_by_box(table)).correct
    # only the most confident `count` objects are classified: here the blue one
    table = {red.box: "blue", blue.box: "red"}
    v = verdict([red, blue], COLOR, colors_by_box(table))
    assert v == G.Verdict(False, "expected red car>=1, found 0 red; and 1 blue")


def test_color_attr_each_clause_needs_its_colour():
    bus, mw = det("bus", (0, 0, 10, 10)), det("microwave", (20, 0, 30, 10))
    ok = {bus.box: "green", mw.box: "purple"}
    assert verdict([bus, mw], ATTR, colors_by_box(ok)).correct
    wrong = {bus.box: "green", mw.box: "pink"}
    v = verdict([bus, mw], ATTR, colors_by_box(wrong))
    assert v == G.Verdict(False, "expected purple microwave>=1, found 0 purple; and 1 pink")
    v = verdict([mw], ATTR, colors_by_box(ok))
    assert v == G.Verdict(False, "expected bus>=1, found 0")


def test_position_pass_fail_and_missing_target():
    bear = det("teddy bear", (100, 100, 140, 140))
    right = det("dog", (200, 100, 240, 140))
    left = det("dog", (0, 100, 40, 140))
    assert verdict([bear, right], POS).correct
    assert verdict([bear, left], POS) == G.Verdict(
        False, "expected dog right of target, found left of target"
    )
    v = verdict([right], POS)
    assert v == G.Verdict(False, "expected teddy bear>=1, found 0\nno target for dog to be right of")
    # overlapping centres: no relation at all
    same = det("dog", (100, 100, 140, 140))
    assert verdict([bear, same], POS) == G.Verdict(False, "expected dog right of target, found  target")


def test_position_diagonals():
    target = det("teddy bear", (95, 95, 105, 105))
    # small boxes, 45 degrees up-right: both components 0.69 > 0.5
    up_right = det("dog", (195, -5, 205, 5))
    assert G.relative_position(up_right, target) == {"right of", "above"}
    assert verdict([target, up_right], POS).correct
    # down-left diagonal
    down_left = det("dog", (-5, 195, 5, 205))
    assert G.relative_position(down_left, target) == {"left of", "below"}
    # a shallow diagonal: 30 degrees from horizontal gives only one relation
    shallow = det("dog", (268.2, 0, 278.2, 10))  # centre offset (173.2, -100)
    assert G.relative_position(shallow, target) == {"right of"}
    # wide boxes shrink the horizontal offset (0.1 x sum of widths) until only 'above' is left
    wide_t = det("teddy bear", (0, 190, 200, 210))
    wide_d = det("dog", (60, 90, 260, 110))  # centre offset (60, -100), widths 200 + 200
    assert G.relative_position(wide_d, wide_t) == {"above"}
    v = verdict([wide_t, wide_d], POS)
    assert v == G.Verdict(False, "expected dog right of target, found above target")
    above_meta = {
        **POS,
        "include": [POS["include"][0], {"class": "dog", "count": 1, "position": ["above", 0]}],
    }
    assert verdict([wide_t, wide_d], above_meta).correct
    # the verdict lists several found relations in a fixed order
    below_meta = {
        **POS,
        "include": [POS["include"][0], {"class": "dog", "count": 1, "position": ["below", 0]}],
    }
    v = verdict([target, up_right], below_meta)
    assert v.reason == "expected dog below target, found right of and above target"


def test_position_checks_every_object_against_every_target():
    meta = {
        "tag": "position",
        "include": [
            {"class": "teddy bear", "count": 2},
            {"class": "dog", "count": 1, "position": ["right of", 0]},
        ],
        "prompt": "",
    }
    bears = [det("teddy bear", (0, 0, 10, 10), 0.9), det("teddy bear", (300, 0, 310, 10), 0.8)]
    dog = det("dog", (150, 0, 160, 10))
    assert not verdict(bears + [dog], meta).correct
    assert verdict([bears[0], det("teddy bear", (50, 0, 60, 10), 0.8), dog], meta).correct


def test_max_objects_and_optional_nms():
    a, b = det("person", (0, 0, 100, 100), 0.9), det("person", (1, 1, 101, 101), 0.8)
    c = det("person", (300, 300, 320, 320), 0.7)
    assert len(G.select_objects([a, b, c], "single_object")["person"]) == 3  # no NMS by default
    kept = G.select_objects([c, b, a], "single_object", G.Rules(max_overlap=0.5))["person"]
    assert kept == [a, c]
    assert G.compute_iou(a.box, a.box) == 1.0
    assert G.compute_iou((0, 0, 9, 9), (10, 0, 19, 9)) == 0.0
    assert G.compute_iou((0, 0, 9, 9), (5, 0, 14, 9)) == pytest.approx(50 / 150)


# --- ties and the float32 threshold, as the official np.argsort(scores)[::-1] ------------------
# The expected orders below are written out by hand from numpy's documented behaviour for the
# official call: partitions of <= 16 elements are insertion-sorted (stable), and [::-1] turns
# ascending-stable into "equal scores: the later detector row first".


def test_official_order_of_ties_is_later_row_first():
    assert G.official_order([0.5, 0.9, 0.5, 0.5, 0.9], 0.3, 16) == [4, 1, 3, 2, 0]
    assert G.official_order([0.7] * 16, 0.3, 16) == list(range(15, -1, -1))
    assert G.official_order([0.7, 0.7, 0.7], 0.3, 2) == [2, 1]  # the cap keeps the later rows
    assert G.official_order([0.2, 0.8, 0.2, 0.8], 0.3, 16) == [3, 1]
    assert G.official_order([], 0.3, 16) == []
    rng = np.random.RandomState(0)
    for n in range(1, 17):  # the rule holds for any tie pattern up to 16 detections
        s = rng.choice([0.4, 0.6, 0.8], size=n).astype(np.float32)
        assert G.official_order(s, 0.3, 16) == sorted(range(n), key=lambda i: (-s[i], -i))


# Orders numpy 1.23.5 (the official environment pins 1.23.1) printed for np.argsort(s)[::-1]
# (float32); numpy 2.4.6 on this AVX-512 machine gives another order for every one of them.
NP123_REVERSED = [
    ([0.4, 0.6, 0.6, 0.6, 0.6, 0.4], [4, 3, 2, 1, 5, 0]),  # 2.4 on AVX-512: [4, 3, 1, 2, 5, 0]
    ([0.5] * 17, [16, 7, 1, 2, 3, 4, 5, 6, 8, 15, 9, 10, 11, 12, 13, 14, 0]),
    ([0.8, 0.4] * 10, [0, 6, 16, 2, 14, 12, 4, 10, 18, 8, 1, 3, 5, 19, 7, 11, 13, 15, 17, 9]),
    ([0.4, 0.6, 0.8] * 13 + [0.4], [
        11, 17, 5, 20, 26, 38, 29, 23, 32, 2, 8, 35, 14, 22, 7, 13, 16, 19, 10, 4,
        28, 31, 34, 1, 37, 25, 6, 3, 9, 39, 12, 15, 18, 21, 24, 27, 30, 33, 36, 0,
    ]),
    ([0.5, "nan", "nan", 0.5, 0.5, 0.3, "nan", "nan", 0.3, 0.3, "nan", "nan", 0.5, 0.5, 0.3, 0.3, 0.3,
      0.5, 0.3, "nan", "nan"],
     [20, 11, 1, 2, 6, 7, 19, 10, 12, 13, 4, 3, 17, 0, 14, 9, 8, 15, 16, 5, 18]),
]  # fmt: skip
# an organ pipe of 115 (0..57..0)/115: deep enough for numpy's heapsort fallback
ORGAN = [i / 115 for i in range(57)] + [i / 115 for i in range(57, -1, -1)]
ORGAN_NP123 = [
    0, 114, 1, 113, 2, 112, 3, 111, 4, 110, 109, 5, 6, 108, 107, 7, 106, 8, 105, 9, 104, 10, 103, 11,
    102, 12, 101, 13, 14, 100, 15, 99, 98, 16, 17, 97, 18, 96, 19, 95, 94, 20, 21, 93, 22, 92, 91, 23,
    90, 24, 89, 25, 88, 26, 27, 87, 86, 28, 85, 29, 30, 84, 83, 31, 82, 32, 81, 33, 80, 34, 35, 79, 36,
    78, 77, 37, 38, 76, 75, 39, 40, 74, 73, 41, 42, 72, 71, 43, 70, 44, 45, 69, 68, 46, 47, 67, 66, 48,
    49, 65, 64, 50, 51, 63, 62, 52, 61, 53, 60, 54, 55, 59, 58, 56, 57,
]  # fmt: skip


def test_argsort_is_numpy_1_23s_on_any_numpy():
    for values, reversed_order in NP123_REVERSED:
        s = np.array([float(v) for v in values], dtype=np.float32)
        assert argsort_numpy123(s)[::-1] == reversed_order
    assert argsort_numpy123(np.array(ORGAN, dtype=np.float32)) == ORGAN_NP123
    assert argsort_numpy123([]) == [] and argsort_numpy123([0.2]) == [0]
    rng = np.random.RandomState(1)  # ties or not, it is a sort
    for n in (17, 50, 300):
        s = rng.choice([0.1, 0.5, 0.9, float("nan")], size=n).astype(np.float32)
        order = argsort_numpy123(s)
        assert sorted(order) == list(range(n))
        assert np.array_equal(s[order], np.sort(s), equal_nan=True)
    # more than 16 detections: the introsort's tie order, not "later row first"
    assert G.official_order([0.5] * 17, 0.3, 16) == [16, 7, 1, 2, 3, 4, 5, 6, 8, 15, 9, 10, 11, 12, 13, 14]


def test_select_objects_orders_ties_per_class_in_detector_row_order():
    a, b, c = (det("cat", (10 * i, 0, 10 * i + 5, 5), 0.5) for i in range(3))
    d, e = det("cat", (40, 0, 45, 5), 0.9), det("dog", (0, 50, 5, 55), 0.5)
    # rows: cat a, cat d(0.9), dog e, cat b, cat c -> cat scores [.5, .9, .5, .5] in row order
    kept = G.select_objects([a, d, e, b, c], "single_object")
    assert kept["cat"] == [d, c, b, a] and kept["dog"] == [e]


def test_a_tie_decides_the_colour_verdict_as_the_official_code():
    red, blue = det("car", (0, 0, 10, 10), 0.8), det("car", (20, 0, 30, 10), 0.8)
    colours = colors_by_box({red.box: "red", blue.box: "blue"})
    # official: argsort([.8, .8])[::-1] = [1, 0]: the blue car (row 1) is "the most confident"
    assert verdict([red, blue], COLOR, colours) == G.Verdict(
        False, "expected red car>=1, found 0 red; and 1 blue"
    )
    assert verdict([blue, red], COLOR, colours) == G.Verdict(True, "")


def test_a_tie_decides_the_position_verdict_as_the_official_code():
    left_bear = det("teddy bear", (0, 0, 10, 10), 0.8)
    right_bear = det("teddy bear", (300, 0, 310, 10), 0.8)
    dog = det("dog", (150, 0, 160, 10), 0.95)
    # official: the target is the later bear row, here the one right of the dog
    assert verdict([left_bear, right_bear, dog], POS) == G.Verdict(
        False, "expected dog right of target, found left of target"
    )
    assert verdict([right_bear, left_bear, dog], POS).correct


def test_a_tie_decides_the_count_under_nms_as_the_official_code():
    # IoU(A, B) = IoU(B, C) = 81/121 >= 0.5, IoU(A, C) = 61/141 < 0.5; all three tied at 0.95
    a = det("clock", (0, 0, 100, 100), 0.95)
    b = det("clock", (20, 0, 120, 100), 0.95)
    c = det("clock", (40, 0, 140, 100), 0.95)
    rules = G.Rules(max_overlap=0.5)
    # rows [A, C, B]: official order [2, 1, 0] = B, C, A; B suppresses both others
    assert G.select_objects([a, c, b], "counting", rules)["clock"] == [b]
    assert verdict([a, c, b], COUNT, rules=rules) == G.Verdict(False, "expected clock>=2, found 1")
    # rows [B, C, A]: order A, C, B; A suppresses B, keeps C -> exactly two
    assert G.select_objects([b, c, a], "counting", rules)["clock"] == [a, c]
    assert verdict([b, c, a], COUNT, rules=rules).correct


def test_threshold_is_strict_in_float32():
    f32 = lambda x: float(np.float32(x))  # noqa: E731 - the score as the detector's float32 gives it
    above = lambda x: float(np.nextafter(np.float32(x), np.float32(1)))  # noqa: E731
    at, over = det("bench", (0, 0, 9, 9), f32(0.3)), det("bench", (20, 0, 29, 9), above(0.3))
    assert f32(0.3) > 0.3  # in float64 the official threshold would keep it ...
    assert G.select_objects([at, over], "single_object") == {"bench": [over]}  # ... in float32 not
    assert G.select_objects([det("bench", (0, 0, 9, 9), 0.3)], "single_object") == {}
    two = [det("clock", (0, 0, 9, 9), f32(0.9)), det("clock", (20, 0, 29, 9), above(0.9))]
    assert verdict(two, COUNT) == G.Verdict(False, "expected clock>=2, found 1")
    assert G.official_order([f32(0.5), above(0.5)], 0.5, 16) == [1]  # a user threshold too


def test_rules_from_settings_takes_its_keys_and_checks_their_types():
    rules = G.Rules.from_settings(
        {"threshold": "0.5", "max_objects": 4, "image_root": "/x", "vqa_model": "m"}
    )
    assert (rules.threshold, rules.max_objects, rules.counting_threshold) == (0.5, 4, 0.9)
    with pytest.raises(UsageError, match="max_objects"):
        G.Rules.from_settings({"max_objects": "many"})
    with pytest.raises(UsageError, match="crop"):
        G.Rules.from_settings({"crop": "yes"})


# --- colour crops and aggregation ----------------------------------------------------------


def test_color_crop_pastes_the_masked_object_on_grey_and_crops_to_its_box():
    arr = np.zeros((40, 60, 3), np.uint8)
    arr[:] = (0, 0, 255)
    arr[10:20, 10:30] = (255, 0, 0)
    mask = np.zeros((40, 60), bool)
    mask[10:20, 10:30] = True
    crop = G.color_crop(Image.fromarray(arr), det("car", (5, 8, 35, 22), mask=mask))
    out = np.asarray(crop)
    assert crop.size == (30, 14)
    assert tuple(out[5, 10]) == (255, 0, 0)  # inside the mask
    assert tuple(out[0, 0]) == (0x99, 0x99, 0x99)  # outside: #999999, not the blue image
    with pytest.raises(ValueError):
        G.color_crop(Image.fromarray(arr), det("car", (0, 0, 5, 5), mask=np.ones((10, 10), bool)))


def test_color_prompts_are_the_three_templates_per_colour():
    prompts = G.color_prompts("wine glass")
    assert len(prompts) == 10 and prompts[0] == [
        "a photo of a red wine glass",
        "a photo of a red-colored wine glass",
        "a photo of a red object",
    ]


def test_overall_is_the_mean_of_tag_scores_not_of_images():
    tags = ["single_object"] * 4 + ["counting"]
    rows = {(m, s): (v, n) for m, s, v, n in G.summarize(tags, [1, 1, 1, 1, 0], ["a", "a", "b", "b", "c"])}
    assert rows[("accuracy", "single_object")] == (100.0, 4)
    assert rows[("accuracy", "counting")] == (0.0, 1)
    assert rows[("overall", "")] == (50.0, 5)
    assert rows[("images_correct", "")] == (80.0, 5)
    assert rows[("prompts_correct", "")][0] == pytest.approx(200 / 3)


# --- the scorer on image files in the official layout --------------------------------------

NAMED = {"red": (230, 20, 20), "blue": (20, 40, 230), "green": (20, 200, 40), "white": (250, 250, 250)}


class PixelJudge:
    """Outside judges for the scorer: detections listed per file; colour = the named
    colour nearest to the crop's mean over its non-grey pixels."""

    demo = False  # a stand-in for real weights (GenEvalJudge.demo)

    def __init__(self, detections):
        self.detections = detections
        self.detected = []

    def detect(self, path):
        self.detected.append(path.name if hasattr(path, "name") else str(path))
        return self.detections[str(path)]

    def classify(self, images, class_prompts):
        out = []
        for im in images:
            px = np.asarray(im).reshape(-1, 3).astype(float)
            px = px[np.abs(px - 0x99).sum(1) > 0]
            mean = px.mean(0)
            name = min(NAMED, key=lambda c: np.abs(np.array(NAMED[c]) - mean).sum())
            colour_prompt = f"a photo of a {name} "
            out.append(next(i for i, ps in enumerate(class_prompts) if ps[0].startswith(colour_prompt)))
        return out


def write_prompt(root, index, meta, images):
    folder = root / "images" / f"{index:05d}"
    (folder / "samples").mkdir(parents=True)
    (folder / "metadata.jsonl").write_text(json.dumps(meta) + "\n")
    rels = []
    for n, img in enumerate(images):
        rel = f"images/{index:05d}/samples/{n:04d}.png"
        img.save(root / rel)
        rels.append(rel)
    return {"id": f"{index:05d}", **meta, "images": rels, "error": None}


def square(colour, box, size=64):
    arr = np.full((size, size, 3), 255, np.uint8)
    x1, y1, x2, y2 = box
    arr[y1:y2, x1:x2] = NAMED[colour]
    mask = np.zeros((size, size), bool)
    mask[y1:y2, x1:x2] = True
    return Image.fromarray(arr), mask


def test_score_reads_the_official_layout_and_judges_colours_on_masked_crops(tmp_path):
    red_img, red_mask = square("red", (8, 8, 40, 40))
    blue_img, blue_mask = square("blue", (8, 8, 40, 40))
    recs = [
        write_prompt(tmp_path, 0, COLOR, [red_img, blue_img]),
        write_prompt(tmp_path, 1, SINGLE, [red_img]),
    ]
    recs.append({"id": "00002", **COUNT, "images": [], "error": "generation failed"})
    dets = {
        str(tmp_path / recs[0]["images"][0]): [det("car", (8, 8, 40, 40), 0.9, red_mask)],
        str(tmp_path / recs[0]["images"][1]): [det("car", (8, 8, 40, 40), 0.9, blue_mask)],
        str(tmp_path / recs[1]["images"][0]): [det("bench", (0, 0, 5, 5), 0.2)],
    }
    judges = Judges(geneval=PixelJudge(dets), demo=False)
    records = pd.DataFrame(recs)
    records.loc[1, "exclude"] = None
    scored = G.score(records, {"image_root": str(tmp_path)}, judges)
    p = scored.per_sample
    assert [v["correct"] for v in p.loc[0, "parsed"]] == [True, False]
    assert p.loc[0, "parsed"][1]["reason"] == "expected red car>=1, found 0 red; and 1 blue"
    assert p.loc[0, "score"] == 0.5 and p.loc[1, "score"] == 0.0 and p.loc[2, "score"] is None
    assert p.loc[1, "parsed"][0]["reason"] == "expected bench>=1, found 0"
    rows = {(m, s): (v, n) for m, s, v, n in scored.table.itertuples(index=False)}
    assert rows[("accuracy", "colors")] == (50.0, 2)
    assert rows[("accuracy", "single_object")] == (0.0, 1)
    assert rows[("overall", "")] == (25.0, 3)
    assert rows[("errors", "")] == (1.0, 3)
    assert rows[("unreadable_images", "")] == (0.0, 3)
    assert ("mode", "demo_judge") not in rows


def test_score_counts_a_corrupt_image_wrong_and_refuses_a_missing_one(tmp_path):
    img, _ = square("red", (8, 8, 40, 40))
    rec = write_prompt(tmp_path, 0, SINGLE, [img, img])
    (tmp_path / rec["images"][1]).write_bytes(b"\x89PNG\r\n\x1a\n broken")
    judge = PixelJudge({str(tmp_path / rec["images"][0]): [det("bench", (8, 8, 40, 40), 0.9)]})
    judges = Judges(geneval=judge, demo=False)
    scored = G.score(pd.DataFrame([rec]), {"image_root": str(tmp_path)}, judges)
    verdicts = scored.per_sample.loc[0, "parsed"]
    assert [v["correct"] for v in verdicts] == [True, False]
    assert verdicts[1]["reason"].startswith("unreadable image")
    rows = {(m, s): v for m, s, v, n in scored.table.itertuples(index=False)}
    assert rows[("unreadable_images", "")] == 1.0 and rows[("accuracy", "single_object")] == 50.0
    with pytest.raises(UsageError, match="missing"):
        G.score(pd.DataFrame([rec]), {"image_root": str(tmp_path / "elsewhere")}, judges)


def test_records_from_a_folder_in_the_official_layout(tmp_path):
    img, _ = square("red", (8, 8, 40, 40))
    write_prompt(tmp_path, 12, COUNT, [img, img])
    write_prompt(tmp_path, 3, SINGLE, [img])
    (tmp_path / "images" / "notes").mkdir()
    recs = G.records_from_folder(tmp_path / "images")
    assert [r["index"] for r in recs] == [3, 12]
    assert recs[1]["images"] == ["00012/samples/0000.png", "00012/samples/0001.png"]
    assert recs[1]["exclude"] == COUNT["exclude"] and recs[0]["exclude"] is None
    assert G.metadata_of(recs[1]) == COUNT
    judge = PixelJudge(
        {
            str(tmp_path / "images" / r): [det("bench", (8, 8, 40, 40), 0.9)]
            for rec in recs
            for r in rec["images"]
        }
    )
    judges = Judges(geneval=judge, demo=False)
    scored = G.score(pd.DataFrame(recs), {"image_root": str(tmp_path / "images")}, judges)
    rows = {(m, s): v for m, s, v, n in scored.table.itertuples(index=False)}
    assert rows[("accuracy", "single_object")] == 100.0 and rows[("accuracy", "counting")] == 0.0
    (tmp_path / "images" / "00003" / "metadata.jsonl").unlink()
    with pytest.raises(UsageError, match="metadata.jsonl"):
        G.records_from_folder(tmp_path / "images")
    with pytest.raises(UsageError, match="no GenEval prompt folders"):
        G.records_from_folder(tmp_path / "images" / "notes")
