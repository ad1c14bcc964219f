"""A straight port of the official Janus-Pro text-to-image example (janus-pro-article.txt,
"文生图示例"), the reference the sampler is tested against (tests and benchmarks/)."""

from __future__ import annotations

import numpy as np
import torch

from janus_eval.solve.models.janus_image import _cache_keyword


class OfficialProcessor:
    """What the official loop reads of `VLChatProcessor`: the tokenizer, and `pad_id`, which the
    official processor defines as `self.tokenizer.vocab.get(self.pad_tag)` with pad_tag
    `<｜▁pad▁｜>`."""

    def __init__(self, processor):
        self.tokenizer = processor.tokenizer

    @property
    def pad_id(self):
        return self.tokenizer.vocab.get("<\uff5c\u2581pad\u2581\uff5c>")


# --- a straight port of the official example (janus-pro-article.txt, "文生图示例") ----------
# Module names mapped to transformers' native Janus: language_model.get_input_embeddings ->
# get_input_embeddings, language_model.model -> model.language_model (past_key_values is
# `cache` in this transformers), gen_head -> model.generation_head, prepare_gen_img_embeds ->
# prepare_embeddings_for_image_generation, gen_vision_model.decode_code -> decode_image_tokens
# (which already returns NHWC); `vl_chat_processor` is an OfficialProcessor below (its `pad_id`
# is the official property: the vocabulary's id of `<｜▁pad▁｜>`, not the tokenizer's pad token). `multinomial` defaults to torch.multinomial; tests may pass a
# function drawing each row from its own generator ("the same random draws"). Also takes
# token ids instead of a prompt string (benchmarks on random-weight models have no tokenizer).
@torch.inference_mode()
def official_generate(
    mmgpt,
    vl_chat_processor,
    prompt: str,
    temperature: float = 1,
    parallel_size: int = 16,
    cfg_weight: float = 5,
    image_token_num_per_image: int = 576,
    img_size: int = 384,
    patch_size: int = 16,
    multinomial=torch.multinomial,
    decode: bool = True,
):
    if not isinstance(vl_chat_processor, OfficialProcessor):
        vl_chat_processor = OfficialProcessor(vl_chat_processor)
    input_ids = vl_chat_processor.tokenizer.encode(prompt) if isinstance(prompt, str) else list(prompt)
    input_ids = torch.LongTensor(input_ids)
    CACHE = _cache_keyword(mmgpt.model.language_model)

    tokens = torch.zeros((parallel_size * 2, len(input_ids)), dtype=torch.int).to(mmgpt.device)
    for i in range(parallel_size * 2):
        tokens[i, :] = input_ids
        if i % 2 != 0:
            tokens[i, 1:-1] = vl_chat_processor.pad_id

    inputs_embeds = mmgpt.get_input_embeddings()(tokens)

    generated_tokens = torch.zeros((parallel_size, image_token_num_per_image), dtype=torch.int).to(
        mmgpt.device
    )

    for i in range(image_token_num_per_image):
        outputs = mmgpt.model.language_model(
            inputs_embeds=inputs_embeds,
            use_cache=True,
            **{CACHE: getattr(outputs, CACHE) if i != 0 else None},  # noqa: F821 (as the official code)
        )
        hidden_states = outputs.last_hidden_state

        logits = mmgpt.model.generation_head(hidden_states[:, -1, :])
        logit_cond = logits[0::2, :]
        logit_uncond = logits[1::2, :]

        logits = logit_uncond + cfg_weight * (logit_cond - logit_uncond)
        probs = torch.softmax(logits / temperature, dim=-1)

        next_token = multinomial(probs, num_samples=1)
        generated_tokens[:, i] = next_token.squeeze(dim=-1)

        next_token = torch.cat([next_token.unsqueeze(dim=1), next_token.unsqueeze(dim=1)], dim=1).view(-1)
        img_embeds = mmgpt.prepare_embeddings_for_image_generation(next_token)
        inputs_embeds = img_embeds.unsqueeze(dim=1)

    if not decode:  # benchmarks time the token loop and VQ decoding apart
        return generated_tokens.long(), None
    with torch.no_grad():
        dec = mmgpt.decode_image_tokens(generated_tokens.to(dtype=torch.long))
    dec = dec.to(torch.float32).cpu().numpy()

    dec = np.clip((dec + 1) / 2 * 255, 0, 255)

    visual_img = np.zeros((parallel_size, img_size, img_size, 3), dtype=np.uint8)
    visual_img[:, :, :] = dec
    return generated_tokens.long(), visual_img


def per_row_generators(seeds, device="cpu"):
    gens = [torch.Generator(device=device).manual_seed(s) for s in seeds]

    def multinomial(probs, num_samples=1):
        return torch.cat(
            [torch.multinomial(probs[r : r + 1], num_samples, generator=g) for r, g in enumerate(gens)]
        )

    return multinomial
