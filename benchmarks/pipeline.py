"""What the harness adds around the model: the whole run with an adapter that
answers instantly, against decoding and preprocessing the same images in a bare
loop with the same worker count.

    python benchmarks/pipeline.py [--samples 2000] [--workers 2] [--batch-size 16]

Both sides decode the same 640x480 JPEGs and run Janus' image preprocessing at
384 px. The run side also builds prompts, tokenises, writes records, scores and
writes the run folder. Target: the run reaches >= 80% of the bare loop's samples/s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Timer, emit, jpeg_640x480, pope_like  # noqa: E402


def processor_384():
    from transformers import JanusImageProcessor, JanusProcessor

    from janus_eval.solve.models.tiny import tiny_path

    tiny = JanusProcessor.from_pretrained(tiny_path())
    images = JanusImageProcessor(size={"height": 384, "width": 384}, image_mean=[0.5] * 3, image_std=[0.5] * 3)
    return JanusProcessor(image_processor=images, tokenizer=tiny.tokenizer, num_image_tokens=576)


class InstantAdapter:
    """Real preprocessing (Janus processor at 384 px), no model: answers 'Yes' at once."""

    name = "instant"

    def __init__(self, *args, **kwargs):
        from janus_eval.solve.models.janus import PRO_ROLES, JanusPreparer

        self._preparer = JanusPreparer(processor_384(), PRO_ROLES)

    def preparer(self):
        return self._preparer

    def generate(self, prepared):
        return ["Yes"] * len(prepared.max_new_tokens)

    def answer(self, asks):
        return self.generate(self._preparer(asks))

    def describe(self):
        return {"model": "instant", "fingerprint": None}


def bare_loop(samples, workers: int, batch_size: int) -> int:
    from torch.utils.data import DataLoader

    from janus_eval.data.load import to_rgb
    from janus_eval.solve.models.image_inputs import ImageSettings, pixel_values

    # the harness's own image preprocessing (the official algorithm), so the ratio measures the harness
    settings = ImageSettings.of(processor_384().image_processor)

    def decode(batch):
        return pixel_values([to_rgb(v) for s in batch for v in s.raw_images()], settings)

    batches = [samples[i : i + batch_size] for i in range(0, len(samples), batch_size)]
    loader = DataLoader(batches, batch_size=None, num_workers=workers, collate_fn=decode,
                        prefetch_factor=4 if workers else None)  # fmt: skip
    return sum(out.shape[0] for out in loader)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=16)
    args = ap.parse_args()

    from janus_eval.core.spec import RunSpec
    from janus_eval.data.load import load_samples
    from janus_eval.runner import run
    from janus_eval.tasks.registry import resolve_tasks

    task = resolve_tasks("pope")
    with tempfile.TemporaryDirectory() as tmp:
        data = pope_like(Path(tmp) / "data", args.samples, jpeg_640x480)
        samples = load_samples(task[0], data_dir=data).samples
        with Timer() as bare:
            n = bare_loop(samples, args.workers, args.batch_size)
        assert n == args.samples
        opts = RunSpec(model="instant", output=Path(tmp) / "out", run_id="bench", batch_size=args.batch_size,
                          data_dir=data, workers=args.workers, progress=False)  # fmt: skip
        with Timer() as whole:
            store = run(task, opts, load_model=InstantAdapter)
        assert len(store.read_records("pope")) == args.samples
    bare_rate, run_rate = args.samples / bare.seconds, args.samples / whole.seconds
    emit("pipeline", {
        "samples": args.samples, "workers": args.workers, "batch_size": args.batch_size,
        "bare_loop_s": round(bare.seconds, 2), "run_s": round(whole.seconds, 2),
        "bare_samples_per_s": round(bare_rate, 1), "run_samples_per_s": round(run_rate, 1),
        "run_vs_bare": round(run_rate / bare_rate, 3), "target": ">= 0.8",
    })  # fmt: skip


if __name__ == "__main__":
    main()
