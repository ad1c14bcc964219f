"""The Janus text-to-image sampler over transformers' JanusForConditionalGeneration.

Reproduces the official loop (deepseek-ai/Janus, `generation_inference.py`):

- each image gets two rows: the conditional prompt and an unconditional copy that
  keeps only the first token (BOS) and the last (`<begin_of_image>`), every
  token between them replaced by the pad token;
- at every step the generation head scores the last hidden state,
  `logits = uncond + cfg * (cond - uncond)`, `softmax(logits / temperature)`,
  and one token is drawn by multinomial sampling over the whole codebook
  (no top-k / top-p);
- the token's generation embedding is fed to both rows (KV cache), for
  `vision_config.num_image_tokens` steps (576 for the real models);
- the VQ decoder turns the tokens into pixels, `clip((x + 1) / 2 * 255)`, uint8.

Unlike the official loop, one batch holds many prompts (left padding with an
attention mask and per-row positions) and every image draws its tokens from its
own `torch.Generator`, seeded by `image_seed(run seed, task, prompt id, image
index)`. An image's random draws therefore never depend on the batch size, on
the batch's other images or on their order. The draw is torch.multinomial's
own (argmax of p / q, q ~ Exp(1) from the image's generator), made for the
whole batch at once (`exponential_race`).
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from janus_eval.core.requests import Draw
from janus_eval.solve.models.chat import PRO_ROLES, chat_text, pad_token_id

BOI_TOKEN = "<begin_of_image>"


def generation_prompt(prompt: str, roles: tuple[str, str] = PRO_ROLES, system_prompt: str = "") -> str:
    """The official sft template for generation plus the image start tag.

    With the empty system prompt of the official example this is
    `<|User|>: {prompt}\\n\\n<|Assistant|>:<begin_of_image>` (the prompt stripped).
    """
    return chat_text(system_prompt, prompt, roles) + BOI_TOKEN


def prompt_token_ids(tokenizer, text: str) -> list[int]:
    """Token ids as the official `tokenizer.encode(prompt)`: BOS first, `<begin_of_image>` last."""
    ids = list(tokenizer(text, add_special_tokens=True)["input_ids"])
    bos = tokenizer.bos_token_id
    if bos is not None and (not ids or ids[0] != bos):
        ids = [bos, *ids]
    boi = tokenizer.convert_tokens_to_ids(BOI_TOKEN)
    if ids[-1] != boi:
        raise ValueError(f"prompt does not end with {BOI_TOKEN} after tokenization: {text!r}")
    return ids


# A row sampler: (probs [B, V], one generator per row) -> tokens [B].
RowSampler = Callable[[object, Sequence[object]], object]


def multinomial_per_row(probs, generators):
    """One multinomial draw per row, each row from its own generator."""
    import torch

    _one_generator_per_row(probs, generators)
    return torch.cat(
        [torch.multinomial(probs[r : r + 1], num_samples=1, generator=g) for r, g in enumerate(generators)]
    ).view(-1)


def _one_generator_per_row(probs, generators) -> None:
    if len(generators) != probs.shape[0]:
        raise ValueError(f"{probs.shape[0]} rows of probabilities but {len(generators)} generators")


def exponential_race(probs, generators):
    """The same draws as `multinomial_per_row`, batched: for one sample torch.multinomial is
    argmax(p / q) with q ~ Exp(1) drawn from the generator, so each row draws its q from its
    own generator and one division and one argmax serve the whole batch (no per-row checks,
    no host sync on CUDA). torch.multinomial refuses non-finite probabilities; the token loop
    checks them once at its end instead."""
    import torch

    _one_generator_per_row(probs, generators)
    q = torch.empty_like(probs)
    for row, generator in zip(q, generators, strict=True):
        row.exponential_(generator=generator)
    return (probs / q).argmax(-1)


@functools.cache
def _race_matches_multinomial(device: str, dtype: str = "float32", codes: int = 1000) -> bool:
    """Whether `exponential_race` reproduces torch.multinomial's draws on this device and dtype
    over this many codes (checked once each)."""
    import torch

    logits = torch.linspace(-3.0, 3.0, 3 * codes, device=device).view(3, codes).sin() * 4
    probs = torch.softmax(logits, dim=-1).to(getattr(torch, dtype))
    seeds = (1, 2, 3)
    per_row = [torch.Generator(device=device).manual_seed(s) for s in seeds]
    race = [torch.Generator(device=device).manual_seed(s) for s in seeds]
    return all(
        torch.equal(multinomial_per_row(probs, per_row), exponential_race(probs, race)) for _ in range(8)
    )


def sample_rows(probs, generators):
    """The default row sampler: `exponential_race` where it reproduces torch.multinomial, else that."""
    if _race_matches_multinomial(str(probs.device), str(probs.dtype).removeprefix("torch."), probs.shape[-1]):
        return exponential_race(probs, generators)
    return multinomial_per_row(probs, generators)


WIDTH_BUCKET = 64  # static loop: prompt widths are padded up to a multiple


def sample_image_tokens(
    model,
    prompts: Sequence[Sequence[int]],
    generators: Sequence[object],
    *,
    cfg: float = 5.0,
    temperature: float = 1.0,
    pad_token_id: int,
    num_image_tokens: int | None = None,
    row_sampler: RowSampler = sample_rows,
    static: bool = False,
):
    """Image tokens [len(prompts), N] for prompt token ids (each BOS ... <begin_of_image>).

    The KV cache lives in buffers allocated once. By default it grows like
    transformers' DynamicCache (attention over the filled part only, the official
    loop's numbers) without copying itself at every step. `static=True` uses a
    StaticCache and feeds every step tensors of fixed shapes instead, so the
    per-token step can be compiled into CUDA graphs (`compile_step`). In float32
    both give the same tokens; in bfloat16 the kernels' rounding follows the
    tensor shapes, so they can differ.

    `generators[i]` drives image i's draws. Rows are left padded to the longest
    prompt; padding is masked out and positions count real tokens only, so a
    row computes what it would compute alone.
    """
    import torch

    if len(prompts) != len(generators):
        raise ValueError(f"{len(prompts)} prompts but {len(generators)} generators")
    if any(len(p) < 2 for p in prompts):
        raise ValueError("a generation prompt needs at least BOS and <begin_of_image>")
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0 (got {temperature})")
    n_tokens = num_image_tokens or model.config.vision_config.num_image_tokens
    width = max(len(p) for p in prompts)
    if static:
        width += -width % WIDTH_BUCKET  # one step shape (one compiled graph) for most batches

    # Rows 2i (conditional) and 2i+1 (unconditional), as in the official loop.
    rows = 2 * len(prompts)
    tokens = torch.full((rows, width), pad_token_id, dtype=torch.long)
    mask = torch.zeros((rows, width), dtype=torch.long)
    for i, ids in enumerate(prompts):
        n = len(ids)
        row = torch.tensor(list(ids), dtype=torch.long)
        tokens[2 * i, width - n :] = row
        uncond = row.clone()
        uncond[1:-1] = pad_token_id
        tokens[2 * i + 1, width - n :] = uncond
        mask[2 * i : 2 * i + 2, width - n :] = 1
    tokens, mask = tokens.to(model.device), mask.to(model.device)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    next_position = mask.sum(-1, keepdim=True)
    # Generated positions are all real tokens; causality hides the ones not yet written.
    full_mask = torch.cat([mask, mask.new_ones((rows, n_tokens))], dim=1)

    with torch.inference_mode():
        if static:
            cache = _static_cache(model, rows, width + n_tokens)  # reset in place: inside inference mode
            step = _step_function(model)
            prefill = _eager_step(model)  # compiled graphs are for the one-token step only
            hidden = prefill(model.get_input_embeddings()(tokens), full_mask, positions, cache)

            def decode(embeds, i):
                return step(embeds, full_mask, next_position + i, cache)

        else:
            cache = _growing_cache(model, width + n_tokens)
            step = _eager_step(model)
            # Without padding, call the model exactly as the official loop does (no mask, default
            # positions), so the same attention kernels run.
            padded = any(len(p) != width for p in prompts)
            hidden = step(model.get_input_embeddings()(tokens), mask if padded else None,
                          positions if padded else None, cache)  # fmt: skip
            if padded:
                # Decode steps take a view of one additive 4D mask (0 attend, -inf padding): what
                # SDPA makes of transformers' boolean mask, built once instead of at every step.
                additive = torch.zeros((rows, 1, 1, full_mask.shape[1]), dtype=model.dtype, device=model.device)
                additive.masked_fill_(full_mask[:, None, None, :] == 0, float("-inf"))

                def decode(embeds, i):
                    return step(embeds, additive[..., : width + i + 1], next_position + i, cache)

            else:

                def decode(embeds, i):
                    return step(embeds, None, None, cache)

        return _token_loop(model, hidden, decode, generators, cfg, temperature, n_tokens, row_sampler)


def _token_loop(model, hidden, decode, generators, cfg, temperature, n_tokens, row_sampler):
    """The official per-token loop from the prompt's last hidden states: CFG-mixed logits,
    one draw per image, its generation embedding fed to both of the image's rows."""
    import torch

    head = model.model.generation_head
    generated = torch.zeros((hidden.shape[0] // 2, n_tokens), dtype=torch.long, device=hidden.device)
    finite = torch.ones((), dtype=torch.bool, device=hidden.device)  # read once at the end: no sync per step
    for i in range(n_tokens):
        logits = head(hidden)
        logit_cond = logits[0::2, :]
        logit_uncond = logits[1::2, :]
        logits = logit_uncond + cfg * (logit_cond - logit_uncond)
        probs = torch.softmax(logits / temperature, dim=-1)
        finite &= torch.isfinite(probs).all()
        next_token = row_sampler(probs, generators).view(-1)
        generated[:, i] = next_token
        if i + 1 < n_tokens:
            both_rows = next_token.repeat_interleave(2)
            hidden = decode(model.prepare_embeddings_for_image_generation(both_rows).unsqueeze(1), i)
    if not bool(finite):
        raise ValueError("the image token probabilities were not finite (inf or nan logits); try --dtype float32")
    return generated


def _growing_cache(model, length: int):
    """A KV cache that grows like transformers' DynamicCache inside buffers allocated once.

    Attention sees exactly the filled part (as with DynamicCache, so the official loop's
    kernels and numbers), but a step writes one position instead of copying the whole
    cache into a longer tensor."""
    from transformers import Cache

    config = model.model.language_model.config
    layer = _growing_layer_class()
    return Cache(layers=[layer(length) for _ in range(config.num_hidden_layers)])


@functools.cache
def _growing_layer_class():
    """transformers is imported lazily in this module, so the layer class is made on first use."""
    from transformers.cache_utils import DynamicLayer

    class GrowingLayer(DynamicLayer):
        is_croppable = False

        def __init__(self, max_length: int):
            super().__init__()
            self.max_length = max_length

        def lazy_initialization(self, key_states, value_states) -> None:
            rows, heads, _, dim = key_states.shape
            shape = (rows, heads, self.max_length, dim)
            self.device = key_states.device
            self._keys = key_states.new_empty(shape)  # only written positions are ever viewed
            self._values = value_states.new_empty((rows, heads, self.max_length, value_states.shape[-1]))
            self.keys, self.values = self._keys[:, :, :0], self._values[:, :, :0]
            self.is_initialized = True

        def update(self, key_states, value_states, *args, **kwargs):
            if not self.is_initialized:
                self.lazy_initialization(key_states, value_states)
            start = self.keys.shape[-2]
            end = start + key_states.shape[-2]
            if end > self.max_length:
                raise ValueError(f"KV cache holds {self.max_length} positions; step needs {end}")
            self._keys[:, :, start:end] = key_states
            self._values[:, :, start:end] = value_states
            self.keys, self.values = self._keys[:, :, :end], self._values[:, :, :end]
            return self.keys, self.values

    return GrowingLayer


_COMPILED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # model -> its compiled step
_CACHES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # model -> {(rows, length): StaticCache}


def _static_cache(model, rows: int, length: int):
    """A StaticCache for `model` of this shape, reused (reset) from batch to batch."""
    from transformers import StaticCache

    caches = _CACHES.setdefault(model, {})
    cache = caches.get((rows, length))
    if cache is None:
        cache = caches[(rows, length)] = StaticCache(config=model.model.language_model.config, max_cache_len=length)
    else:
        cache.reset()
    return cache


def compile_step(model) -> None:
    """Compile the one-token step of `model` (torch.compile, CUDA graphs on GPU) for static loops."""
    import torch

    _COMPILED[model] = torch.compile(_eager_step(model), mode="reduce-overhead", fullgraph=False)


def is_compiled(model) -> bool:
    return model in _COMPILED


def _eager_step(model):
    language_model = model.model.language_model
    cache_kw = _cache_keyword(language_model)

    def step(embeds, mask, position_ids, cache):
        out = language_model(inputs_embeds=embeds, attention_mask=mask, position_ids=position_ids,
                             use_cache=True, **{cache_kw: cache})  # fmt: skip
        return out.last_hidden_state[:, -1, :]

    return step


def _step_function(model):
    return _COMPILED.get(model) or _eager_step(model)


def _cache_keyword(language_model) -> str:
    """transformers renamed `past_key_values` to `cache` (5.2x); accept both."""
    import inspect

    return "cache" if "cache" in inspect.signature(language_model.forward).parameters else "past_key_values"


def decode_images(model, image_tokens) -> list[Image.Image]:
    """VQ-decode image tokens [B, N] to RGB PIL images, scaled as the official code."""
    import torch

    with torch.no_grad():
        pixels = model.decode_image_tokens(image_tokens.to(model.device).long())
    arr = pixels.to(torch.float32).cpu().numpy()
    arr = np.clip((arr + 1) / 2 * 255, 0, 255).astype(np.uint8)
    return [Image.fromarray(a, "RGB") for a in arr]


@dataclass(frozen=True)
class _Job:
    draw: int
    index: int
    ids: tuple[int, ...]
    seed: int
    cfg: float
    temperature: float


def _jobs(tokenizer, draws: Sequence[Draw], roles: tuple[str, str]) -> list[_Job]:
    jobs = []
    for d, req in enumerate(draws):
        if len(req.seeds) != req.n_images:
            raise ValueError(f"draw {d}: {req.n_images} images but {len(req.seeds)} seeds")
        ids = tuple(prompt_token_ids(tokenizer, generation_prompt(req.prompt, roles, req.system_prompt)))
        for k, seed in enumerate(req.seeds):
            jobs.append(_Job(d, k, ids, int(seed), float(req.cfg), float(req.temperature)))
    return jobs


def draw_tokens(
    model,
    processor,
    draws: Sequence[Draw],
    batch_size: int,
    *,
    roles: tuple[str, str] = PRO_ROLES,
    row_sampler: RowSampler = sample_rows,
    static: bool = False,
) -> list:
    """Image tokens for each Draw: a LongTensor [n_images, N] on the CPU, image k from `seeds[k]`.

    `batch_size` counts images. Images with the same (cfg, temperature) share
    batches; the result is in the order of `draws` and their seeds whatever the
    batching.
    """
    import torch

    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1 (got {batch_size})")
    tokenizer = processor.tokenizer
    pad = pad_token_id(tokenizer)  # the official loop's `vl_chat_processor.pad_id`
    jobs = _jobs(tokenizer, draws, roles)
    groups: dict[tuple[float, float], list[_Job]] = {}
    for job in jobs:
        groups.setdefault((job.cfg, job.temperature), []).append(job)
    n_tokens = model.config.vision_config.num_image_tokens
    out = [torch.zeros((d.n_images, n_tokens), dtype=torch.long) for d in draws]
    device = model.device
    for (cfg, temperature), group in groups.items():
        for start in range(0, len(group), batch_size):
            chunk = group[start : start + batch_size]
            gens = [torch.Generator(device=device).manual_seed(j.seed) for j in chunk]
            tokens = sample_image_tokens(
                model,
                [j.ids for j in chunk],
                gens,
                cfg=cfg,
                temperature=temperature,
                pad_token_id=pad,
                row_sampler=row_sampler,
                static=static,
            ).cpu()
            for job, row in zip(chunk, tokens):
                out[job.draw][job.index] = row
    return out


def draw(
    model,
    processor,
    draws: Sequence[Draw],
    batch_size: int,
    *,
    roles: tuple[str, str] = PRO_ROLES,
    static: bool = False,
) -> list[list[Image.Image]]:
    """PIL images for each Draw (`n_images` each), sampled `batch_size` images a batch.

    A Draw's images are decoded together, apart from the sampling batches, so
    decoding does not depend on the batch size either.
    """
    return [
        decode_images(model, tokens)
        for tokens in draw_tokens(model, processor, draws, batch_size, roles=roles, static=static)
    ]
