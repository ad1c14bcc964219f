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
the batch's other images or on their order.
"""

from __future__ import annotations

import hashlib
import json
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from .base import Draw

PRO_ROLES = ("<|User|>", "<|Assistant|>")
BOI_TOKEN = "<begin_of_image>"


def image_seed(run_seed: int, task: str, prompt_id: str, index: int) -> int:
    """A stable 63-bit seed for one image (sha256; independent of Python's hash salt)."""
    blob = json.dumps([int(run_seed), str(task), str(prompt_id), int(index)], ensure_ascii=True)
    return int.from_bytes(hashlib.sha256(blob.encode()).digest()[:8], "big") & ((1 << 63) - 1)


def generation_prompt(prompt: str, roles: tuple[str, str] = PRO_ROLES, system_prompt: str = "") -> str:
    """The official sft template for generation plus the image start tag.

    With the empty system prompt of the official example this is
    `<|User|>: {prompt}\\n\\n<|Assistant|>:<begin_of_image>`.
    """
    user, assistant = roles
    system = f"{system_prompt}\n\n" if system_prompt else ""
    return f"{system}{user}: {prompt}\n\n{assistant}:{BOI_TOKEN}"


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

    return torch.cat(
        [torch.multinomial(probs[r : r + 1], num_samples=1, generator=g) for r, g in enumerate(generators)]
    ).view(-1)


def sample_image_tokens(
    model,
    prompts: Sequence[Sequence[int]],
    generators: Sequence[object],
    *,
    cfg: float = 5.0,
    temperature: float = 1.0,
    pad_token_id: int,
    num_image_tokens: int | None = None,
    row_sampler: RowSampler = multinomial_per_row,
    static: bool = False,
):
    """Image tokens [len(prompts), N] for prompt token ids (each BOS ... <begin_of_image>).

    `static=True` keeps the KV cache in a preallocated StaticCache and feeds every
    step tensors of fixed shapes, so the per-token step can be compiled into CUDA
    graphs (`compile_step`); the same tokens either way.

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
    device = model.device
    batch = len(prompts)
    width = max(len(p) for p in prompts)

    # Rows 2i (conditional) and 2i+1 (unconditional), as in the official loop.
    tokens = torch.full((2 * batch, width), pad_token_id, dtype=torch.long)
    mask = torch.zeros((2 * batch, width), dtype=torch.long)
    for i, ids in enumerate(prompts):
        n = len(ids)
        row = torch.tensor(list(ids), dtype=torch.long)
        tokens[2 * i, width - n :] = row
        uncond = row.clone()
        uncond[1:-1] = pad_token_id
        tokens[2 * i + 1, width - n :] = uncond
        mask[2 * i : 2 * i + 2, width - n :] = 1
    tokens, mask = tokens.to(device), mask.to(device)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    next_position = mask.sum(-1, keepdim=True)
    # Without padding, call the model exactly as the official loop does (no mask, default
    # positions), so the same attention kernels run.
    padded = any(len(p) != width for p in prompts)

    language_model = model.model.language_model
    if static:
        return _static_loop(model, tokens, mask, positions, next_position, generators, cfg, temperature,
                            n_tokens, row_sampler, pad_token_id)  # fmt: skip
    cache_kw = _cache_keyword(language_model)
    head = model.model.generation_head
    generated = torch.zeros((batch, n_tokens), dtype=torch.long, device=device)
    with torch.inference_mode():
        inputs_embeds = model.get_input_embeddings()(tokens)
        cache = None
        for step in range(n_tokens):
            out = language_model(
                inputs_embeds=inputs_embeds,
                attention_mask=mask if padded else None,
                position_ids=positions if padded else None,
                use_cache=True,
                **{cache_kw: cache},
            )
            cache = getattr(out, cache_kw)
            logits = head(out.last_hidden_state[:, -1, :])
            logit_cond = logits[0::2, :]
            logit_uncond = logits[1::2, :]
            logits = logit_uncond + cfg * (logit_cond - logit_uncond)
            probs = torch.softmax(logits / temperature, dim=-1)
            next_token = row_sampler(probs, generators).view(-1)
            generated[:, step] = next_token
            both = next_token.repeat_interleave(2)
            inputs_embeds = model.prepare_embeddings_for_image_generation(both).unsqueeze(1)
            if padded:
                mask = torch.cat([mask, mask.new_ones((2 * batch, 1))], dim=1)
                positions = next_position + step
    return generated


WIDTH_BUCKET = 64  # prompt widths are padded up to a multiple: one step shape for most batches


def _static_loop(
    model, tokens, mask, positions, next_position, generators, cfg, temperature, n_tokens, row_sampler, pad_token_id
):
    """The decode loop over a preallocated KV cache with fixed-shape step inputs.

    The prompt width is padded (masked) up to a multiple of WIDTH_BUCKET and the cache
    is reused for every batch of the same shape, so a compiled step is captured once
    per shape rather than per batch."""
    import torch

    extra = -tokens.shape[1] % WIDTH_BUCKET
    if extra:
        tokens = torch.cat([tokens.new_full((tokens.shape[0], extra), pad_token_id), tokens], dim=1)
        mask = torch.cat([mask.new_zeros((mask.shape[0], extra)), mask], dim=1)
        positions = torch.cat([positions.new_zeros((positions.shape[0], extra)), positions], dim=1)
    language_model = model.model.language_model
    rows, width = tokens.shape
    # Generated positions are all real tokens; causality hides the ones not yet written.
    full_mask = torch.cat([mask, mask.new_ones((rows, n_tokens))], dim=1)
    step = _step_function(model)
    generated = torch.zeros((rows // 2, n_tokens), dtype=torch.long, device=tokens.device)
    with torch.inference_mode():
        cache = _static_cache(model, rows, width + n_tokens)  # reset in place: inside inference mode
        out = language_model(
            inputs_embeds=model.get_input_embeddings()(tokens), attention_mask=full_mask,
            position_ids=positions, cache=cache, use_cache=True,
        )  # fmt: skip
        hidden = out.last_hidden_state[:, -1, :]
        for i in range(n_tokens):
            logits = model.model.generation_head(hidden)
            logits = logits[1::2, :] + cfg * (logits[0::2, :] - logits[1::2, :])
            probs = torch.softmax(logits / temperature, dim=-1)
            next_token = row_sampler(probs, generators).view(-1)
            generated[:, i] = next_token
            if i + 1 < n_tokens:
                embeds = model.prepare_embeddings_for_image_generation(next_token.repeat_interleave(2)).unsqueeze(1)
                hidden = step(embeds, full_mask, next_position + i, cache)
    return generated


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

    def step(embeds, mask, position_ids, cache):
        out = language_model(inputs_embeds=embeds, attention_mask=mask, position_ids=position_ids, cache=cache,
                             use_cache=True)  # fmt: skip
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
    row_sampler: RowSampler = multinomial_per_row,
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
    pad = tokenizer.pad_token_id
    if pad is None:
        raise ValueError("the tokenizer has no pad token; the unconditional rows need one")
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
