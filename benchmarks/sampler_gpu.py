"""The image sampler on a GPU, with a random-weight Janus of a real size (no download).

Checks and measures, printing one JSON object (also written to --out):
- exactness: the batched sampler (prompts of different lengths, left padded) against the
  straight port of the official loop (tests/official_loop.py) given the same per-image
  random draws, and against the official loop's own torch.multinomial with
  torch.manual_seed for single images;
- batch invariance: the same images sampled one per batch and all in one batch;
- speed: seconds per image of the official loop (parallel_size 16, one prompt) and of the
  sampler at several batch sizes; VQ decoding per image.

    python benchmarks/sampler_gpu.py --size 1b [--dtype bfloat16] [--out result.json]
    python benchmarks/sampler_gpu.py --size mini --device cpu --dtype float32   # smoke test
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import torch  # noqa: E402
from official_loop import official_generate, per_row_generators  # noqa: E402

from janus_eval.core.seeds import image_seed  # noqa: E402
from janus_eval.solve.models.janus_image import (  # noqa: E402
    decode_images,
    multinomial_per_row,
    sample_image_tokens,
)

SIZES = {  # text model shapes of Janus-Pro-1B and Janus-Pro-7B
    "1b": dict(hidden_size=2048, num_hidden_layers=24, num_attention_heads=16, intermediate_size=5632),
    "7b": dict(hidden_size=4096, num_hidden_layers=30, num_attention_heads=32, intermediate_size=11008),
    "mini": dict(
        hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128
    ),  # smoke test
}
BOS, PAD, BOI, VOCAB = 100000, 100015, 100016, 102400


class _Tok:
    pad_token_id = PAD
    vocab = {"<｜▁pad▁｜>": PAD}  # the official loop pads with the vocabulary's pad tag


class _Proc:
    tokenizer = _Tok()


def build(size: str, dtype: torch.dtype, device: torch.device):
    from transformers import (
        JanusConfig,
        JanusForConditionalGeneration,
        JanusVisionConfig,
        JanusVQVAEConfig,
        LlamaConfig,
    )

    s = SIZES[size]
    text = LlamaConfig(
        vocab_size=VOCAB, num_key_value_heads=s["num_attention_heads"], max_position_embeddings=16384,
        bos_token_id=BOS, pad_token_id=PAD, **s,
    )  # fmt: skip
    vision = dict(projection_dim=s["hidden_size"])
    vq = dict(projection_dim=s["hidden_size"], image_token_embed_dim=s["hidden_size"])
    if size == "mini":  # 64 px, 16 image tokens, a small VQ decoder
        vision.update(
            image_size=64, num_image_tokens=16, hidden_size=32, num_hidden_layers=1, num_attention_heads=2
        )
        vq.update(
            num_patches=4,
            base_channels=32,
            latent_channels=32,
            channel_multiplier=[1, 1, 1, 1, 1],
            num_res_blocks=1,
        )
    config = JanusConfig(
        text_config=text, vision_config=JanusVisionConfig(**vision), vq_config=JanusVQVAEConfig(**vq)
    )
    torch.manual_seed(0)
    old = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with device:
            model = JanusForConditionalGeneration(config).eval()
    finally:
        torch.set_default_dtype(old)
    # Random init gives near-uniform image-token distributions; sharpen the generation head so
    # the draws face realistic, peaked distributions (ties and near-ties matter for exactness).
    with torch.no_grad():
        model.model.generation_head.vision_head.weight.mul_(10.0)
    return model


def prompts(lengths: list[int]) -> list[list[int]]:
    g = torch.Generator().manual_seed(1)
    return [[BOS, *torch.randint(0, 100000, (n - 2,), generator=g).tolist(), BOI] for n in lengths]


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def sync_time(fn):
    _sync()
    t = time.perf_counter()
    out = fn()
    _sync()
    return out, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", choices=list(SIZES), default="1b")
    ap.add_argument("--dtype", default="bfloat16")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--skip-invariance", action="store_true")
    ap.add_argument("--batch-sizes", default="16,32,64")
    ap.add_argument("--device", default="cuda")
    args = ap.parse_args()
    dtype = getattr(torch, args.dtype)
    cuda = torch.device(args.device)
    model, t_build = sync_time(lambda: build(args.size, dtype, cuda))
    n_tok = model.config.vision_config.num_image_tokens
    img = int(round(n_tok**0.5)) * 16
    name = torch.cuda.get_device_name(0) if cuda.type == "cuda" else "cpu"
    result: dict = {"size": args.size, "dtype": args.dtype, "device": name,
                    "torch": torch.__version__, "image_tokens": n_tok, "build_s": round(t_build, 1)}  # fmt: skip
    import transformers

    result["transformers"] = transformers.__version__
    ids = prompts([20, 35, 50, 80])
    n = 4
    seeds = {(p, k): image_seed(0, "bench", str(p), k) for p in range(len(ids)) for k in range(n)}

    # 1. exactness against the official loop, prompts of different lengths in one batch of 16
    jobs = [(p, k) for p in range(len(ids)) for k in range(n)]
    gens = [torch.Generator(device=cuda).manual_seed(seeds[j]) for j in jobs]
    entropy = []

    def recording(probs, generators):
        p = probs.float()
        entropy.append(float(-(p * p.clamp_min(1e-30).log()).sum(-1).mean()))
        return multinomial_per_row(probs, generators)

    mine = sample_image_tokens(
        model, [ids[p] for p, _ in jobs], gens, pad_token_id=PAD, row_sampler=recording
    ).cpu()
    result["mean_entropy_nats"] = round(sum(entropy) / len(entropy), 2)
    token_diff = image_diff = 0
    first_diff = []
    for p in range(len(ids)):
        want, _ = official_generate(
            model, _Proc(), ids[p], parallel_size=n, image_token_num_per_image=n_tok, img_size=img,
            multinomial=per_row_generators([seeds[(p, k)] for k in range(n)], device=cuda),
        )  # fmt: skip
        got = mine[p * n : (p + 1) * n]
        diff = got != want.cpu()
        token_diff += int(diff.sum())
        image_diff += int(diff.any(dim=1).sum())
        first_diff += [int(d.nonzero()[0]) for d in diff if d.any()]
    result["exact_vs_official_batched"] = {
        "images": len(jobs), "images_differing": image_diff, "tokens_differing": token_diff,
        "first_differing_step": first_diff,
    }  # fmt: skip
    # single images: the official loop's own torch.multinomial on the global generator
    same = 0
    for p in range(len(ids)):
        torch.manual_seed(seeds[(p, 0)])
        want, _ = official_generate(
            model, _Proc(), ids[p], parallel_size=1, image_token_num_per_image=n_tok, img_size=img
        )
        got = sample_image_tokens(
            model, [ids[p]], [torch.Generator(device=cuda).manual_seed(seeds[(p, 0)])], pad_token_id=PAD
        )
        same += int(torch.equal(got.cpu(), want.cpu()))
    result["exact_vs_official_global_rng"] = {"images": len(ids), "identical": same}

    # 2. batch invariance: one image per batch vs all 16 in one (padded) batch
    if not args.skip_invariance:
        singles = torch.cat([
            sample_image_tokens(
                model, [ids[p]], [torch.Generator(device=cuda).manual_seed(seeds[(p, k)])], pad_token_id=PAD
            ).cpu()
            for p, k in jobs
        ])  # fmt: skip
        diff = singles != mine
        result["batch_invariance_1_vs_16"] = {
            "images": len(jobs), "identical_images": int((~diff.any(dim=1)).sum()),
            "token_agreement": round(float((~diff).float().mean()), 4),
            "first_differing_step": [int(d.nonzero()[0]) for d in diff if d.any()],
        }  # fmt: skip

    # 3. speed
    def official16():
        torch.manual_seed(0)
        return official_generate(
            model, _Proc(), ids[1], parallel_size=16, image_token_num_per_image=n_tok,
            img_size=img,
        )  # fmt: skip

    _, t = sync_time(official16)
    result["official_parallel16_s_per_image"] = round(t / 16, 3)
    speed = {}
    for bs in [int(b) for b in args.batch_sizes.split(",")]:
        batch = [ids[i % len(ids)] for i in range(bs)]
        g = [torch.Generator(device=cuda).manual_seed(i) for i in range(bs)]
        tokens, t = sync_time(lambda b=batch, g=g: sample_image_tokens(model, b, g, pad_token_id=PAD))
        speed[bs] = round(t / bs, 3)
    result["sampler_s_per_image"] = speed
    _, t = sync_time(lambda: decode_images(model, tokens[:16]))
    result["decode_s_per_image_batch16"] = round(t / 16, 4)
    _, t = sync_time(lambda: decode_images(model, tokens[:1]))
    result["decode_s_single"] = round(t, 4)
    if cuda.type == "cuda":
        result["max_memory_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 1)
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
