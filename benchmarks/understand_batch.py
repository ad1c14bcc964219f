"""Batched understanding (batch 16) against batch 1 on the same samples.

    python benchmarks/understand_batch.py [--samples 64] [--model janus-tiny]

Times the adapter (preprocessing + greedy decoding) over the same POPE-like
samples; prints JSON with both times and the speedup. Target: >= 3x.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Timer, emit, pope_like  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=64)
    ap.add_argument("--model", default="janus-tiny")
    ap.add_argument("--device", default=None)
    args = ap.parse_args()

    from janus_eval.data.build_demo import png, shapes
    from janus_eval.data.load import load_samples
    from janus_eval.solve.models import load_model
    from janus_eval.solve.pipeline import prepare_batch
    from janus_eval.tasks.registry import load_task

    task = load_task("pope")
    with tempfile.TemporaryDirectory() as tmp:
        data = pope_like(Path(tmp), args.samples, lambda i: png(shapes([("circle", "red")] * (1 + i % 3)))["bytes"])
        samples = load_samples(task, data_dir=data).samples
        adapter = load_model(args.model, device=args.device)
        preparer = adapter.preparer()
        adapter.generate(prepare_batch(task, preparer, samples[:2])[2])  # warm-up
        results, times = {}, {}
        for bs in (1, 16):
            out = []
            with Timer() as t:
                for i in range(0, len(samples), bs):
                    records, slots, prepared = prepare_batch(task, preparer, samples[i : i + bs])
                    out += adapter.generate(prepared)
            results[bs], times[bs] = out, t.seconds
    emit("understand_batch", {
        "model": args.model, "samples": args.samples, "max_new_tokens": task.max_new_tokens,
        "batch1_s": round(times[1], 3), "batch16_s": round(times[16], 3),
        "speedup": round(times[1] / times[16], 2), "same_predictions": results[1] == results[16],
    })  # fmt: skip


if __name__ == "__main__":
    main()
