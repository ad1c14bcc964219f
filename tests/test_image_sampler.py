"""The Janus image sampler against a straight port of the official text-to-image loop."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from official_loop import official_generate, per_row_generators

from janus_eval.core.requests import Draw
from janus_eval.core.seeds import image_seed
from janus_eval.solve.models.chat import pad_token_id
from janus_eval.solve.models.janus_image import (
    decode_images,
    draw,
    draw_tokens,
    generation_prompt,
    prompt_token_ids,
    sample_image_tokens,
)
from janus_eval.solve.models.tiny import TINY_IMAGE_SIZE, tiny_path

torch.set_num_threads(1)

# The tiny model's distributions are peaked at the official cfg 5 / temperature 1; a flatter
# setting (about 1-2.5 nats of entropy over 64 codes) makes every token depend on the draws,
# so a sampler that used the wrong random numbers would fail the tests below.
FLAT = dict(cfg=2.0, temperature=3.0)

PROMPTS = [
    "a photo of a dog",
    "two cups left of three red apples on a white background, a photo",
    "a cat",
    "How many objects are there? one two three four five six seven eight nine ten",
]


@pytest.fixture(scope="module")
def tiny():
    from transformers import JanusForConditionalGeneration, JanusProcessor

    path = tiny_path()
    model = JanusForConditionalGeneration.from_pretrained(path).eval()
    processor = JanusProcessor.from_pretrained(path)
    return model, processor


def seeds_for(prompt_id: str, n: int, run_seed: int = 0) -> list[int]:
    return [image_seed(run_seed, "test", prompt_id, k) for k in range(n)]


def tiny_settings(model):
    n = model.config.vision_config.num_image_tokens
    return dict(image_token_num_per_image=n, img_size=TINY_IMAGE_SIZE, patch_size=16)


def test_generation_prompt_is_the_official_sft_template():
    assert generation_prompt("a dog") == "<|User|>: a dog\n\n<|Assistant|>:<begin_of_image>"
    assert (
        generation_prompt("a dog", roles=("User", "Assistant")) == "User: a dog\n\nAssistant:<begin_of_image>"
    )


def test_prompt_ids_start_with_bos_and_end_with_begin_of_image(tiny):
    _, processor = tiny
    tok = processor.tokenizer
    ids = prompt_token_ids(tok, generation_prompt("a dog"))
    assert ids == tok.encode(generation_prompt("a dog"))
    assert ids[0] == tok.bos_token_id and ids[-1] == tok.convert_tokens_to_ids("<begin_of_image>")
    with pytest.raises(ValueError, match="begin_of_image"):
        prompt_token_ids(tok, "<|User|>: a dog")


def test_image_seed_is_stable_and_distinct():
    assert image_seed(0, "dpgbench", "p1", 0) == image_seed(0, "dpgbench", "p1", 0)
    # Fixed values: a seed must not change between processes, machines or releases.
    assert image_seed(0, "dpgbench", "p1", 0) == 6547869204381587632
    assert image_seed(3, "geneval", "00012", 2) == 1452166261187518706
    seeds = {image_seed(r, t, p, k) for r in (0, 1) for t in ("a", "b") for p in ("x", "y") for k in range(4)}
    assert len(seeds) == 32
    assert all(0 <= s < 2**63 for s in seeds)


def test_single_image_matches_official_loop_with_global_rng(tiny):
    """parallel_size=1 with torch.manual_seed(seed): the official loop's own torch.multinomial."""
    model, processor = tiny
    prompt = PROMPTS[1]
    for k in range(6):
        seed = image_seed(0, "test", "p", k)
        torch.manual_seed(seed)
        want, want_img = official_generate(
            model,
            processor,
            generation_prompt(prompt),
            parallel_size=1,
            cfg_weight=FLAT["cfg"],
            temperature=FLAT["temperature"],
            **tiny_settings(model),
        )
        request = [Draw(prompt, 1, [seed], **FLAT)]
        assert torch.equal(draw_tokens(model, processor, request, batch_size=1)[0], want)
        img = draw(model, processor, request, batch_size=1)[0][0]
        assert np.array_equal(np.asarray(img), want_img[0])


@pytest.mark.parametrize("cfg,temperature", [(5.0, 1.0), (FLAT["cfg"], FLAT["temperature"]), (1.5, 0.7)])
def test_batched_sampler_matches_official_loop_per_prompt(tiny, cfg, temperature):
    """Prompts of different lengths in one left-padded batch give exactly the official tokens."""
    model, processor = tiny
    n = 4
    draws = [
        Draw(p, n, seeds_for(f"p{i}", n), cfg=cfg, temperature=temperature) for i, p in enumerate(PROMPTS)
    ]
    got = draw_tokens(model, processor, draws, batch_size=16)
    images = draw(model, processor, draws, batch_size=16)
    lengths = {len(prompt_token_ids(processor.tokenizer, generation_prompt(p))) for p in PROMPTS}
    assert len(lengths) == len(PROMPTS)  # the batch really is padded
    for i, prompt in enumerate(PROMPTS):
        want, want_img = official_generate(
            model,
            processor,
            generation_prompt(prompt),
            temperature=temperature,
            parallel_size=n,
            cfg_weight=cfg,
            multinomial=per_row_generators(seeds_for(f"p{i}", n)),
            **tiny_settings(model),
        )
        assert torch.equal(got[i], want), (i, got[i], want)
        for k in range(n):
            assert np.array_equal(np.asarray(images[i][k]), want_img[k])


@pytest.mark.parametrize("static", [False, True])
def test_images_do_not_depend_on_batch_size_or_order(tiny, static):
    model, processor = tiny
    draws = [Draw(p, 3, seeds_for(f"p{i}", 3), **FLAT) for i, p in enumerate(PROMPTS)]
    one = draw_tokens(model, processor, draws, batch_size=1, static=static)
    eight = draw_tokens(model, processor, draws, batch_size=8, static=static)
    for a, b in zip(one, eight):
        assert torch.equal(a, b)
    order = [2, 0, 3, 1]
    shuffled = draw_tokens(model, processor, [draws[i] for i in order], batch_size=8, static=static)
    for j, i in enumerate(order):
        assert torch.equal(shuffled[j], one[i])
    imgs1 = draw(model, processor, draws, batch_size=1, static=static)
    imgs8 = draw(model, processor, draws, batch_size=8, static=static)
    for r1, r8 in zip(imgs1, imgs8):
        for a, b in zip(r1, r8):
            assert np.array_equal(np.asarray(a), np.asarray(b))
    # Different seeds give different images: the per-image generator is really used.
    all_tokens = torch.cat(one)
    assert len({tuple(t.tolist()) for t in all_tokens}) == len(all_tokens)


def test_settings_change_the_output(tiny):
    model, processor = tiny
    seeds = seeds_for("p", 8)
    base = draw_tokens(model, processor, [Draw(PROMPTS[0], 8, seeds)], batch_size=8)[0]
    same = draw_tokens(model, processor, [Draw(PROMPTS[0], 8, seeds)], batch_size=8)[0]
    cfg1 = draw_tokens(model, processor, [Draw(PROMPTS[0], 8, seeds, cfg=1.0)], batch_size=8)[0]
    hot = draw_tokens(model, processor, [Draw(PROMPTS[0], 8, seeds, temperature=3.0)], batch_size=8)[0]
    other_seed = draw_tokens(model, processor, [Draw(PROMPTS[0], 8, seeds_for("q", 8))], batch_size=8)[0]
    assert torch.equal(base, same)
    assert not torch.equal(base, cfg1)
    assert not torch.equal(base, hot)
    assert not torch.equal(base, other_seed)
    vocab = model.config.vq_config.num_embeddings
    assert int(base.min()) >= 0 and int(base.max()) < vocab


def test_mixed_settings_in_one_call_each_use_their_own(tiny):
    model, processor = tiny
    seeds = seeds_for("p", 4)
    a = Draw(PROMPTS[0], 4, seeds, cfg=5.0)
    b = Draw(PROMPTS[0], 4, seeds, cfg=1.0)
    mixed = draw_tokens(model, processor, [a, b], batch_size=8)
    assert torch.equal(mixed[0], draw_tokens(model, processor, [a], batch_size=8)[0])
    assert torch.equal(mixed[1], draw_tokens(model, processor, [b], batch_size=8)[0])


def test_decode_gives_rgb_pil_images_of_the_model_size(tiny):
    model, processor = tiny
    images = draw(
        model, processor, [Draw(PROMPTS[0], 2, seeds_for("p", 2)), Draw("a cat", 1, [7])], batch_size=2
    )
    assert [len(r) for r in images] == [2, 1]
    for img in (i for r in images for i in r):
        assert img.mode == "RGB" and img.size == (TINY_IMAGE_SIZE, TINY_IMAGE_SIZE)
    tokens = torch.tensor([[0, 1, 2, 3]])
    arr = np.asarray(decode_images(model, tokens)[0])
    with torch.no_grad():
        raw = model.decode_image_tokens(tokens)[0].numpy()
    assert np.array_equal(arr, np.clip((raw + 1) / 2 * 255, 0, 255).astype(np.uint8))


def test_bad_requests_raise(tiny):
    model, processor = tiny
    with pytest.raises(ValueError, match="seeds"):
        draw_tokens(model, processor, [Draw("a cat", 2, [1])], batch_size=1)
    with pytest.raises(ValueError, match="batch_size"):
        draw_tokens(model, processor, [Draw("a cat", 1, [1])], batch_size=0)
    with pytest.raises(ValueError, match="temperature"):
        draw_tokens(model, processor, [Draw("a cat", 1, [1], temperature=0.0)], batch_size=1)


@pytest.mark.parametrize("settings", [dict(cfg=5.0, temperature=1.0), FLAT])
def test_static_cache_loop_gives_the_official_tokens(tiny, settings):
    """The fixed-shape loop (StaticCache, compilable step) equals the official loop, padded batch included,
    over a long run of steps (96 tokens, more than the tiny model's 4)."""
    model, processor = tiny
    ids = [prompt_token_ids(processor.tokenizer, generation_prompt(p)) for p in PROMPTS]
    pad = pad_token_id(processor.tokenizer)
    runs = []
    for static in (False, True):
        gens = [torch.Generator().manual_seed(s) for s in seeds_for("static", len(ids))]
        runs.append(sample_image_tokens(model, ids, gens, pad_token_id=pad, num_image_tokens=96,
                                        static=static, **settings))  # fmt: skip
    assert runs[0].shape == (len(PROMPTS), 96)
    assert torch.equal(runs[0], runs[1])
    got = draw_tokens(model, processor, [Draw(PROMPTS[1], 3, seeds_for("s", 3), **settings)], 2, static=True)[0]
    want, _ = official_generate(
        model, processor, generation_prompt(PROMPTS[1]), parallel_size=3, cfg_weight=settings["cfg"],
        temperature=settings["temperature"], multinomial=per_row_generators(seeds_for("s", 3)), **tiny_settings(model),
    )  # fmt: skip
    assert torch.equal(got, want)


def test_static_loop_reuses_one_cache_per_shape(tiny):
    """Prompts of different widths share a padded width bucket, so batches of one size reuse one
    preallocated cache (one shape for a compiled step) — and still give the per-image tokens."""
    from janus_eval.solve.models.janus_image import _CACHES

    model, processor = tiny
    _CACHES.pop(model, None)
    draws = [Draw(p, 2, seeds_for(f"c{i}", 2), **FLAT) for i, p in enumerate(PROMPTS)]
    got = draw_tokens(model, processor, draws, 2, static=True)
    assert len(_CACHES[model]) == 1  # four batches of 2 images, prompts of four widths
    want = draw_tokens(model, processor, draws, 8, static=False)
    assert all(torch.equal(a, b) for a, b in zip(got, want))


@pytest.mark.parametrize("vocab", [64, 16384])
def test_exponential_race_draws_what_multinomial_draws(vocab):
    """The batched sampler reproduces torch.multinomial's draw for every row over many steps
    (16384 is the real models' codebook)."""
    from janus_eval.solve.models.janus_image import _race_matches_multinomial, exponential_race, multinomial_per_row

    seeds = seeds_for("race", 5)
    per_row = [torch.Generator().manual_seed(s) for s in seeds]
    race = [torch.Generator().manual_seed(s) for s in seeds]
    logits = torch.randn(40, 5, vocab, generator=torch.Generator().manual_seed(1)) * 3
    draws = []
    for step_logits in logits:
        probs = torch.softmax(step_logits, dim=-1)
        want = multinomial_per_row(probs, per_row)
        assert torch.equal(exponential_race(probs, race), want)
        draws.append(want)
    assert len({tuple(d.tolist()) for d in draws}) > 30  # the draws really vary step to step
    # so the default sampler takes the batched path here, in the dtypes a run uses
    assert _race_matches_multinomial("cpu", "float32") and _race_matches_multinomial("cpu", "bfloat16")


def test_non_finite_probabilities_fail_the_batch(tiny):
    """torch.multinomial refuses nan/inf probabilities; the batched sampler has no per-step check,
    so the token loop checks once at its end and refuses the batch rather than return tokens."""
    model, processor = tiny
    ids = [prompt_token_ids(processor.tokenizer, generation_prompt(PROMPTS[0]))]
    head = model.model.generation_head
    original = head.forward
    head.forward = lambda hidden: original(hidden) * float("nan")
    try:
        with pytest.raises(ValueError, match="not finite"):
            sample_image_tokens(model, ids, [torch.Generator().manual_seed(1)],
                                pad_token_id=pad_token_id(processor.tokenizer))  # fmt: skip
    finally:
        del head.forward
    assert sample_image_tokens(model, ids, [torch.Generator().manual_seed(1)],
                               pad_token_id=pad_token_id(processor.tokenizer)).shape == (1, 4)  # fmt: skip


def test_growing_cache_returns_the_filled_part_without_copying(tiny):
    """Each update writes into the buffers allocated at the first one and returns views of
    exactly the positions written so far, as DynamicCache would (with its concatenation)."""
    from janus_eval.solve.models.janus_image import _growing_cache

    model, _ = tiny
    cache = _growing_cache(model, length=7)
    parts = [torch.randn(2, 4, n, 8) for n in (3, 1, 1)]
    for k, end in enumerate((3, 4, 5)):
        keys, values = cache.update(parts[k], -parts[k], layer_idx=0)
        assert keys.shape[-2] == end and cache.get_seq_length(0) == end
        assert torch.equal(keys, torch.cat(parts[: k + 1], dim=-2))
        assert torch.equal(values, -keys)
    buffer = cache.layers[0]._keys
    assert keys.data_ptr() == buffer.data_ptr()  # a view of the one buffer
    with pytest.raises(ValueError, match="holds 7"):
        cache.update(torch.randn(2, 4, 3, 8), torch.randn(2, 4, 3, 8), layer_idx=0)


def test_adapter_picks_the_growing_cache_off_cuda_and_either_loop_gives_the_same_images():
    from janus_eval.solve.models.janus import JanusAdapter
    from janus_eval.solve.models.janus_image import _CACHES

    adapter = JanusAdapter("janus-tiny", device="cpu")
    draws = [Draw(p, 2, seeds_for(f"a{i}", 2), **FLAT) for i, p in enumerate(PROMPTS[:3])]
    growing = adapter.draw(draws, batch_size=4)
    assert adapter.model not in _CACHES  # no StaticCache was made: the growing loop ran
    adapter.static_image_loop = True
    static = adapter.draw(draws, batch_size=4)
    assert adapter.model in _CACHES
    for a, b in zip(growing, static):
        assert [np.asarray(x).tobytes() for x in a] == [np.asarray(x).tobytes() for x in b]


def test_growing_loop_gives_the_official_tokens_over_many_steps(tiny):
    """The default loop against the official loop's port over 96 tokens (the tiny model draws 4):
    a padded batch of four prompt lengths, and an unpadded one (one prompt, three images), which
    calls the model without a mask as the official loop does."""
    model, processor = tiny
    pad = pad_token_id(processor.tokenizer)
    official = dict(image_token_num_per_image=96, img_size=TINY_IMAGE_SIZE, patch_size=16, decode=False,
                    cfg_weight=FLAT["cfg"], temperature=FLAT["temperature"])  # fmt: skip
    ids = [prompt_token_ids(processor.tokenizer, generation_prompt(p)) for p in PROMPTS]
    seeds = seeds_for("long", len(PROMPTS))
    padded = sample_image_tokens(model, ids, [torch.Generator().manual_seed(s) for s in seeds], pad_token_id=pad,
                                 num_image_tokens=96, **FLAT)  # fmt: skip
    for i, prompt in enumerate(PROMPTS):
        want, _ = official_generate(model, processor, generation_prompt(prompt), parallel_size=1,
                                    multinomial=per_row_generators([seeds[i]]), **official)  # fmt: skip
        assert torch.equal(padded[i], want[0]), i
    seeds = seeds_for("unpadded", 3)
    same = sample_image_tokens(model, [ids[1]] * 3, [torch.Generator().manual_seed(s) for s in seeds],
                               pad_token_id=pad, num_image_tokens=96, **FLAT)  # fmt: skip
    want, _ = official_generate(model, processor, generation_prompt(PROMPTS[1]), parallel_size=3,
                                multinomial=per_row_generators(seeds), **official)  # fmt: skip
    assert torch.equal(same, want)


def test_per_image_multinomial_fallback_gives_the_same_tokens(tiny, monkeypatch):
    """Where the batched draw does not reproduce multinomial (checked per device), the sampler
    draws image by image with torch.multinomial: same tokens, only slower."""
    from janus_eval.solve.models import janus_image

    model, processor = tiny
    draws = [Draw(p, 2, seeds_for(f"f{i}", 2), **FLAT) for i, p in enumerate(PROMPTS)]
    batched = draw_tokens(model, processor, draws, batch_size=8)
    calls = []
    monkeypatch.setattr(janus_image, "_race_matches_multinomial", lambda *key: calls.append(key) or False)
    fallback = draw_tokens(model, processor, draws, batch_size=8)
    assert calls  # the fallback really ran
    assert all(torch.equal(a, b) for a, b in zip(batched, fallback))


def test_row_samplers_need_one_generator_per_row():
    from janus_eval.solve.models.janus_image import exponential_race, multinomial_per_row

    probs = torch.full((4, 8), 1 / 8)
    for sampler in (exponential_race, multinomial_per_row):
        with pytest.raises(ValueError, match="4 rows of probabilities but 1 generators"):
            sampler(probs, [torch.Generator()])
