"""How large a drop the compare gate catches, by subset size (POPE golden answers).

    python benchmarks/gate_power.py [--churn 0.10] [--sizes 200,1000,3000]

A new "checkpoint" is simulated from the LLaVA-1.5-13B POPE answers: `churn` of the
answers change (some right answers turn wrong, some wrong ones turn right) with a net
accuracy drop of 0-4 points. Prints JSON: per case the F1-mean delta, its 95% interval
and the verdict.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit  # noqa: E402

from janus_eval.analyse.compare import compare
from janus_eval.runner import score_file
from janus_eval.tasks.pope.scorer import parse
from janus_eval.tasks.registry import load_task

GOLDEN = Path(__file__).resolve().parent.parent / "tests" / "golden" / "pope" / "llava-v1.5-13b.samples.jsonl"


def answer(row: dict, right: bool) -> dict:
    yes = (row["answer"] == "yes") == right
    return {**row, "prediction": "Yes" if yes else "No"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--churn", type=float, default=0.10)
    ap.add_argument("--sizes", default="200,1000,3000")
    args = ap.parse_args()
    rows = [json.loads(line) for line in GOLDEN.read_text().splitlines() if line.strip()]
    task = load_task("pope")
    cases = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)

        def run(name: str, rs: list[dict]) -> Path:
            path = root / f"{name}.jsonl"
            path.write_text("".join(json.dumps(r) + "\n" for r in rs))
            return score_file(task, path, root, name, "sim").root

        for n in map(int, args.sizes.split(",")):
            sub = random.Random(n).sample(rows, n)
            base = run(f"base-{n}", sub)
            right = [i for i, r in enumerate(sub) if parse(r["prediction"]) == r["answer"]]
            wrong = [i for i, r in enumerate(sub) if parse(r["prediction"]) != r["answer"]]
            for net in (0.0, 0.01, 0.02, 0.04):
                down = round((args.churn + net) * n / 2)
                up = round((args.churn - net) * n / 2)
                new = [dict(r) for r in sub]
                for i in random.Random(1).sample(right, down):
                    new[i] = answer(new[i], right=False)
                for i in random.Random(2).sample(wrong, up):
                    new[i] = answer(new[i], right=True)
                head = compare(base, run(f"new-{n}-{net}", new)).rows.query("headline").iloc[0]
                cases.append({
                    "samples": n, "churn": args.churn, "net_accuracy_drop_pt": round(100 * net),
                    "f1_mean_delta": round(head["delta"], 2),
                    "ci95": [round(head["ci_low"], 2), round(head["ci_high"], 2)], "verdict": head["verdict"],
                })  # fmt: skip
    emit("gate_power", {"cases": cases})


if __name__ == "__main__":
    main()
