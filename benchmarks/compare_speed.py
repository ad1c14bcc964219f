"""How long `janus-eval compare` takes on full-size runs (POPE 8,910 and MME 2,374 samples).

    python benchmarks/compare_speed.py [--n-boot 1000]

Scores the golden prediction files into two run folders each (the second with 5% of
the answers flipped), then times `compare` (vectorised fast path) and, for scale,
the generic path (the scorer called once per resample) on 50 resamples; prints JSON.
Target: a few seconds at most per task (the fast path), not minutes.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit  # noqa: E402

from janus_eval.analyse.compare import _counts, _per_resample, compare
from janus_eval.runner import score_file
from janus_eval.tasks.registry import get_scorer, load_task

GOLDEN = Path(__file__).resolve().parent.parent / "tests" / "golden"
FILES = {
    "pope": GOLDEN / "pope" / "llava-v1.5-13b.samples.jsonl",
    "mme": GOLDEN / "mme" / "llava-v1.5-13b.samples.jsonl",
}


def flipped(rows: list[dict], share: float) -> list[dict]:
    rows = [dict(r) for r in rows]
    for i in random.Random(0).sample(range(len(rows)), int(share * len(rows))):
        rows[i]["prediction"] = "No" if str(rows[i]["answer"]).lower() == "yes" else "Yes"
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-boot", type=int, default=1000)
    args = ap.parse_args()
    figures = {"n_boot": args.n_boot, "tasks": {}}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for task, path in FILES.items():
            rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
            worse = root / f"{task}-worse.jsonl"
            worse.write_text("".join(json.dumps(r) + "\n" for r in flipped(rows, 0.05)))
            cfg = load_task(task)
            base = score_file(cfg, path, root, f"{task}-base", "Janus-Pro-7B").root
            new = score_file(cfg, worse, root, f"{task}-new", "Janus-Pro-7B").root
            t0 = time.perf_counter()
            result = compare(base, new, n_boot=args.n_boot)
            fast = time.perf_counter() - t0
            frame = pd.DataFrame(rows).assign(error=None)
            counts = _counts(len(frame), 50, np.random.default_rng(0))[0]
            t0 = time.perf_counter()
            _per_resample(get_scorer(cfg.scorer))(frame, dict(cfg.scoring), counts)
            per_call = (time.perf_counter() - t0) / 50
            head = result.rows[result.rows["headline"]].iloc[0]
            figures["tasks"][task] = {
                "samples": len(frame),
                "compare_s": round(fast, 3),
                "scorer_per_resample_estimate_s": round(2 * args.n_boot * per_call, 1),
                "scorer_call_ms": round(per_call * 1000, 2),
                "headline": f"{head['metric']} {head['delta']:+.2f} [{head['ci_low']:+.2f}, {head['ci_high']:+.2f}]",
                "verdict": head["verdict"],
            }
    emit("compare_speed", figures)


if __name__ == "__main__":
    main()
