"""CUDA checks, run where a GPU is at hand (skipped elsewhere): the adapter on the
tiny model gives the CPU's answers in float32, and the image sampler's tokens do
not depend on batch size, on the compiled fixed-shape loop or on the batched sampler."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

from janus_eval.core.requests import Ask, Draw  # noqa: E402
from janus_eval.core.seeds import image_seed  # noqa: E402
from janus_eval.solve.models.janus import JanusAdapter  # noqa: E402
from janus_eval.solve.models.janus_image import compile_step, draw_tokens  # noqa: E402

QUESTIONS = ["Is there a dog in the image?", "What color is the circle?", "How many squares are there?",
             "Is the triangle left of the square? Please answer yes or no."]  # fmt: skip


def asks() -> list[Ask]:
    colours = [(220, 40, 40), (40, 170, 60), (40, 70, 220), (235, 210, 40)]
    return [Ask([Image.new("RGB", (64 + 16 * i, 48), colours[i])], q, 12) for i, q in enumerate(QUESTIONS)]


def test_cuda_float32_answers_equal_cpu():
    cpu = JanusAdapter("janus-tiny", device="cpu").answer(asks())
    cuda = JanusAdapter("janus-tiny", device="cuda", dtype="float32").answer(asks())
    assert cuda == cpu


def test_cuda_bfloat16_answers_batch_sizes_and_static_cache():
    adapter = JanusAdapter("janus-tiny", device="cuda")  # the CUDA default: bfloat16
    assert adapter.dtype == "bfloat16"
    whole = adapter.answer(asks())
    single = [adapter.answer([a])[0] for a in asks()]
    adapter.compile = True
    static = adapter.answer(asks())
    assert whole == single == static


BF16_VARIES = pytest.mark.xfail(
    strict=True,
    reason="seen on an H100: in bfloat16 the CUDA kernels' reduction order follows the batch shape, so tokens of "
    "a flat distribution change with the batch size; float32 is bit-identical (use --dtype float32 for that)",
)


@pytest.mark.parametrize("dtype", [torch.float32, pytest.param(torch.bfloat16, marks=BF16_VARIES)])
def test_cuda_image_tokens_do_not_depend_on_batch_size_or_compilation(dtype):
    adapter = JanusAdapter("janus-tiny", device="cuda", dtype=str(dtype).replace("torch.", ""))
    model, processor = adapter.model, adapter.processor
    prompts = ["a photo of a dog", "two cups left of three red apples", "a cat"]
    draws = [Draw(p, 4, [image_seed(0, "gpu", str(i), k) for k in range(4)], cfg=2.0, temperature=3.0)
             for i, p in enumerate(prompts)]  # fmt: skip
    one = draw_tokens(model, processor, draws, 1, static=True)
    twelve = draw_tokens(model, processor, draws, 12, static=True)
    dynamic = draw_tokens(model, processor, draws, 12, static=False)
    compile_step(model)
    compiled = draw_tokens(model, processor, draws, 12, static=True)
    for a, b, c, d in zip(one, twelve, dynamic, compiled):
        assert torch.equal(a, b) and torch.equal(b, c) and torch.equal(b, d)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_cuda_exponential_race_draws_what_multinomial_draws(dtype):
    """The batched sampler (no host sync per row) must reproduce torch.multinomial's CUDA draws;
    where it does not, the default sampler falls back to per-row multinomial (slower, same images)."""
    from janus_eval.solve.models.janus_image import exponential_race, multinomial_per_row

    seeds = [image_seed(0, "gpu-race", "p", k) for k in range(6)]
    per_row = [torch.Generator(device="cuda").manual_seed(s) for s in seeds]
    race = [torch.Generator(device="cuda").manual_seed(s) for s in seeds]
    noise = torch.Generator(device="cuda").manual_seed(1)
    logits = torch.randn(30, 6, 16384, device="cuda", generator=noise) * 3
    for step_logits in logits:
        probs = torch.softmax(step_logits, dim=-1).to(dtype)
        assert torch.equal(exponential_race(probs, race), multinomial_per_row(probs, per_row))


def test_compile_refuses_the_growing_image_loop():
    """--compile captures the fixed-shape loop; asking for the growing one with it is an error, not a
    silently uncompiled run."""
    adapter = JanusAdapter("janus-tiny", device="cuda", dtype="float32", compile=True)
    adapter.static_image_loop = False
    with pytest.raises(ValueError, match="fixed-shape"):
        adapter.draw([Draw("a cat", 1, [1])])
