"""How long the 95% intervals of a full run take (all nine benchmarks at full size).

    python benchmarks/interval_speed.py [--n-boot 1000]

Builds one run folder holding records in each benchmark's real schema at its full size
(POPE 9,000 from the golden answers; MME 2,374 and MMMU 900 golden; MMBench 4,377 rows of
1,176 questions x rotations, SEED-Bench 14,233, GQA 12,578 synthetic answers; MM-Vet 218,
GenEval 553 x 4 images, DPG-Bench 1,065 with stored judge scores), then times the scoring
without intervals (the rule-scored tasks' `score`; the judge tasks' scoring is the judges')
and `intervals.add_to_run` (every metric, every task); prints JSON.
Target: the intervals add under 10 s on the 2-core CPU machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit  # noqa: E402

from janus_eval.analyse import judged  # noqa: E402
from janus_eval.analyse.intervals import add_to_run  # noqa: E402
from janus_eval.analyse.paper import with_paper  # noqa: E402
from janus_eval.data.load import make_ids  # noqa: E402
from janus_eval.runner import score_records  # noqa: E402
from janus_eval.store.run_info import load_run  # noqa: E402
from janus_eval.store.run_store import RunStore  # noqa: E402
from janus_eval.tasks.registry import load_task  # noqa: E402

GOLDEN = Path(__file__).resolve().parent.parent / "tests" / "golden"


def golden(name: str) -> list[dict]:
    path = next((GOLDEN / name).glob("*.samples.jsonl"))
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def pope_rows() -> list[dict]:
    rows = golden("pope")
    extra = [{**r, "question_id": f"x{r['question_id']}"} for r in rows if r["category"] == "random"][:90]
    return rows + extra  # 9,000: the random split's 90 missing rows as copies


def mmbench_rows(rng: np.random.Generator) -> list[dict]:
    rows, q = [], 0
    while len(rows) < 4377:
        n_rot = min(int(rng.integers(3, 5)), 4377 - len(rows))
        answer = int(rng.integers(4))
        for r in range(n_rot):
            letter = "ABCD"[(answer - r) % 4]
            pred = letter if rng.random() < 0.75 else str(rng.choice(["A", "B", "C", "D", "unsure"]))
            rows.append({"index": q + r * 1_000_000, "question": "q", "A": "a", "B": "b", "C": "c", "D": "d",
                         "answer": letter, "category": f"cat{q % 20}", "L2-category": f"l2_{q % 6}",
                         "prediction": pred})  # fmt: skip
        q += 1
    return rows


def seedbench_rows(rng: np.random.Generator) -> list[dict]:
    opts = {"choice_a": "red", "choice_b": "green", "choice_c": "blue", "choice_d": "yellow"}
    rows = []
    for k in range(14233):
        letter = "ABCD"[int(rng.integers(4))]
        guess = "ABCD"[int(rng.integers(4))] if rng.random() < 0.3 else letter
        rows.append({**opts, "question": "q", "question_id": str(k), "answer": letter, "data_type": "image",
                     "question_type_id": int(rng.integers(1, 10)), "prediction": guess})  # fmt: skip
    return rows


def gqa_rows(rng: np.random.Generator) -> list[dict]:
    words = ["red", "blue", "left", "right", "yes", "no", "cat", "table"]
    rows = []
    for k in range(12578):
        answer = str(rng.choice(words))
        pred = answer if rng.random() < 0.62 else str(rng.choice(words))
        rows.append({"id": str(k), "imageId": str(k // 5), "question": "q", "answer": answer, "prediction": pred})
    return rows


def judged_records(task: str, rng: np.random.Generator) -> list[dict]:
    if task == "mmvet":
        caps = ["rec", "ocr", "know", "gen", "spat", "math", "rec,ocr", "ocr,math", "rec,know,gen"]
        return [{"sample_id": str(k), "question_id": str(k), "question": "q", "answer": "a", "prediction": "p",
                 "capability": str(rng.choice(caps)), "error": None, "parsed": "0.5",
                 "score": float(rng.integers(0, 11)) / 10} for k in range(218)]  # fmt: skip
    if task == "geneval":
        tags = ["single_object", "two_object", "counting", "colors", "position", "color_attr"]
        return [{"sample_id": str(k), "index": k, "tag": tags[k % 6], "prompt": "p", "error": None,
                 "images": [f"images/{k:05d}/samples/{n:04d}.png" for n in range(4)], "parsed": [],
                 "score": float(rng.integers(0, 5)) / 4} for k in range(553)]  # fmt: skip
    return [{"sample_id": str(k), "item_id": str(k), "prompt": "p", "error": None, "parsed": "{}",
             "score": float(rng.random())} for k in range(1065)]  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-boot", type=int, default=1000)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    rows = {"pope": pope_rows(), "mme": golden("mme"), "mmbench": mmbench_rows(rng),
            "seedbench": seedbench_rows(rng), "gqa": gqa_rows(rng), "mmmu": golden("mmmu")}  # fmt: skip
    figures: dict = {"n_boot": args.n_boot, "tasks": {}}
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(Path(tmp) / "full")
        tables, manifest = [], {"run_id": "full", "model": {"model": "Janus-Pro-7B"}, "tasks": {}}
        score_s = 0.0
        for name, task_rows in rows.items():
            task = load_task(name)
            ids = make_ids(task_rows, task.id_columns)
            records = [{"sample_id": i, **r, "error": None} for i, r in zip(ids, task_rows, strict=True)]
            t0 = time.perf_counter()
            records, table = score_records(task, records, None)
            score_s += time.perf_counter() - t0
            figures["tasks"][name] = {"records": len(records), "score_s": round(time.perf_counter() - t0, 3)}
            store.rewrite_records(name, records)
            tables.append(table)
            manifest["tasks"][name] = {"config": task.to_dict(), "config_hash": task.config_hash()}
        for name in ("mmvet", "geneval", "dpgbench"):
            task = load_task(name)
            records = judged_records(name, rng)
            store.rewrite_records(name, records)
            frame = pd.DataFrame.from_records(records).drop(columns=["parsed", "score"])
            frame.attrs["stored_score"] = pd.Series([r["score"] for r in records], dtype=float)
            ones = np.ones((1, len(records)), np.int32)
            table = pd.DataFrame([(m, s, float(v[0]), len(records)) for (m, s), v in
                                  judged.STORED_ROWS[name](frame, {}, ones).items()],
                                 columns=["metric", "subset", "value", "n"])  # fmt: skip
            table.insert(0, "task", name)
            tables.append(table)
            manifest["tasks"][name] = {"config": task.to_dict(), "config_hash": task.config_hash()}
            figures["tasks"][name] = {"records": len(records), "score_s": None}
        store.manifest_path.write_text(json.dumps(manifest))
        store.write_scores(with_paper(pd.concat(tables, ignore_index=True), "Janus-Pro-7B"))
        t0 = time.perf_counter()
        scores, done = add_to_run(load_run(store.root), n_boot=args.n_boot)
        ci_s = time.perf_counter() - t0
        for ti in done:
            figures["tasks"][ti.task].update(intervals_s=round(ti.seconds, 3), method=ti.method, units=ti.n_units)
    figures["score_without_intervals_s"] = round(score_s, 3)
    figures["intervals_s"] = round(ci_s, 3)
    figures["rows"] = len(scores)
    figures["rows_with_interval"] = int(scores["ci_low"].notna().sum())
    figures["target_s"] = 10
    emit("interval_speed", figures)


if __name__ == "__main__":
    main()
