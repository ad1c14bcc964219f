"""GPU figures on the real Janus-Pro-7B architecture with random weights (no download).

    python benchmarks/gpu.py [--understand-samples 512] [--batch-size 32] [--gen-images 64]

Understanding: POPE-shaped requests (one 640x480 image, a yes/no question, 16 new
tokens) through the harness's data path and adapter; samples/s.
Generation: GenEval-shaped requests (a short prompt, 4 images each, 576 tokens,
CFG 5) through the adapter's image sampler; images/min and the time 2,212 GenEval
images (553 prompts x 4) would take. Targets on one H100: 30 understanding
samples/s; 2,212 images in under 5 minutes. Random weights never stop at EOS, so
every answer runs its full 16 tokens: a worst case for understanding.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, jpeg_640x480  # noqa: E402

PRO_7B = dict(hidden=4096, intermediate=11008, layers=30, heads=32, vocab=102400)


def janus_pro_7b(device: str):
    """Janus-Pro-7B's architecture, random bf16 weights, a tokenizer of our own."""
    import torch
    from transformers import (
        JanusConfig,
        JanusForConditionalGeneration,
        JanusImageProcessor,
        JanusProcessor,
        JanusVisionConfig,
        JanusVQVAEConfig,
        LlamaConfig,
    )  # fmt: skip

    from janus_eval.solve.models.tiny import tiny_path

    tok = JanusProcessor.from_pretrained(tiny_path()).tokenizer
    text = LlamaConfig(
        vocab_size=PRO_7B["vocab"], hidden_size=PRO_7B["hidden"], intermediate_size=PRO_7B["intermediate"],
        num_hidden_layers=PRO_7B["layers"], num_attention_heads=PRO_7B["heads"], num_key_value_heads=PRO_7B["heads"],
        max_position_embeddings=16384, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )  # fmt: skip
    vision = JanusVisionConfig(
        hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, image_size=384, patch_size=16,
        projection_dim=PRO_7B["hidden"], depth=2, num_image_tokens=576,
    )  # fmt: skip
    vq = JanusVQVAEConfig(projection_dim=PRO_7B["hidden"], image_token_embed_dim=PRO_7B["hidden"])
    config = JanusConfig(text_config=text, vision_config=vision, vq_config=vq,
                         image_token_id=tok.convert_tokens_to_ids(tok.image_token))  # fmt: skip
    torch.manual_seed(0)
    with torch.device(device):
        model = JanusForConditionalGeneration._from_config(config, dtype=torch.bfloat16).eval()
    model.generation_config.pad_token_id = tok.pad_token_id
    model.generation_config.bos_token_id = tok.bos_token_id
    model.generation_config.generation_kwargs = {"boi_token_id": tok.convert_tokens_to_ids(tok.boi_token)}
    processor = JanusProcessor(
        image_processor=JanusImageProcessor(image_mean=[0.5] * 3, image_std=[0.5] * 3),
        tokenizer=tok, num_image_tokens=576,
    )  # fmt: skip
    return model, processor


def understanding(adapter, n: int, batch_size: int, workers: int) -> dict:
    import torch

    from janus_eval.core.sample import Sample
    from janus_eval.data.load import to_rgb
    from janus_eval.solve.pipeline import prepared_batches
    from janus_eval.tasks.registry import load_task

    task = load_task("pope")
    images = [jpeg_640x480(i) for i in range(64)]
    samples = [
        Sample(str(i), {"question": "Is there a dog in the image?"}, [{"bytes": images[i % 64], "path": None}],
               decode=to_rgb)  # fmt: skip
        for i in range(n)
    ]
    batches = [samples[i : i + batch_size] for i in range(0, n, batch_size)]
    preparer = adapter.preparer()
    for _, _, prepared in prepared_batches(task, preparer, batches[:1], 0):  # warm-up
        adapter.generate(prepared)
    torch.cuda.synchronize()
    start = time.perf_counter()
    answered = 0
    for _records, _slots, prepared in prepared_batches(task, preparer, batches, workers):
        answered += len(adapter.generate(prepared))
    torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    return {"samples": answered, "batch_size": batch_size, "workers": workers, "seconds": round(seconds, 2),
            "samples_per_s": round(answered / seconds, 2), "target_samples_per_s": 30}  # fmt: skip


def generation(adapter, n_images: int, batch_size: int) -> dict:
    import torch

    from janus_eval.core.requests import Draw

    prompts = ["a photo of a red apple", "a photo of two dogs left of a bench", "a photo of three cups",
               "a photo of a blue car and a yellow bird"]  # fmt: skip
    draws = [Draw(prompts[i % 4], 4, seeds=[i * 4 + k for k in range(4)]) for i in range(n_images // 4)]
    warm = time.perf_counter()
    adapter.draw(draws[: max(1, batch_size // 4)], batch_size=batch_size)  # warm-up (and compile) at full batch
    warm_s = time.perf_counter() - warm
    torch.cuda.synchronize()
    start = time.perf_counter()
    images = adapter.draw(draws, batch_size=batch_size)
    torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    made = sum(len(x) for x in images)
    per_min = made / seconds * 60
    return {"images": made, "batch_size": batch_size, "seconds": round(seconds, 2), "warmup_s": round(warm_s, 1),
            "images_per_min": round(per_min, 1), "geneval_2212_images_min": round(2212 / per_min, 2),
            "target_geneval_min": 5}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--understand-samples", type=int, default=512)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--gen-images", type=int, default=0)
    ap.add_argument("--gen-batch-size", type=int, default=64)
    ap.add_argument("--compile", action="store_true", help="static KV cache + compiled decode step")
    ap.add_argument("--image-loop", choices=["static", "growing"], default="static",
                    help="the sampler's KV cache: fixed-shape StaticCache (CUDA default) or the growing")  # fmt: skip
    args = ap.parse_args()
    if args.compile and args.image_loop != "static":
        ap.error("--compile captures the fixed-shape loop: use --image-loop static")

    import torch

    from janus_eval.solve.models.janus import JanusAdapter

    assert torch.cuda.is_available(), "benchmarks/gpu.py needs a CUDA device"
    model, processor = janus_pro_7b("cuda")
    adapter = JanusAdapter.from_model(model, processor, "Janus-Pro-7B-architecture-random")
    adapter.compile = args.compile
    adapter.static_image_loop = args.image_loop == "static"
    figures = {"device_name": torch.cuda.get_device_name(0), "compile": args.compile,
               "image_loop": args.image_loop,
               "params_b": round(sum(p.numel() for p in model.parameters()) / 1e9, 2)}  # fmt: skip
    if args.understand_samples:
        figures["understanding"] = understanding(adapter, args.understand_samples, args.batch_size, args.workers)
    if args.gen_images:
        figures["generation"] = generation(adapter, args.gen_images, args.gen_batch_size)
    figures["max_memory_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 1)
    emit("gpu", figures)


if __name__ == "__main__":
    main()
