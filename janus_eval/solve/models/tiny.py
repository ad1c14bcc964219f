"""`janus-tiny`: a tiny random Janus model with a locally trained tokenizer.

Built deterministically and offline so the quick start and the tests need no
download. Same classes as the real checkpoints (JanusForConditionalGeneration +
JanusProcessor), only small: text hidden 32, 2 layers, 32 px images (4 image
tokens), a 5-level VQ decoder that upsamples 16x.

Saved as transformers' `convert_janus_weights_to_hf.py` saves the
`deepseek-community/*` checkpoints, so the tests meet what users meet: the
processor with a chat template and `use_default_system_prompt=True`, the image
processor with only the settings the converter copies (size, mean, std,
min_size, rescale factor), the tokenizer's own pad token (here EOS) apart from
the vocabulary's `<｜▁pad▁｜>`, which the generation config names as its pad id.
"""

from __future__ import annotations

import os
from pathlib import Path

from janus_eval.core.paths import cache_root

TINY_NAME = "janus-tiny"
TINY_IMAGE_SIZE = 32
TINY_VERSION = "2"
# It never stops on its own (random weights): the adapter caps its answers at this many tokens.
TINY_MAX_NEW_TOKENS = 16

SPECIAL_TOKENS = {
    "bos_token": "<｜begin▁of▁sentence｜>",
    "eos_token": "<｜end▁of▁sentence｜>",
    "pad_token": "<｜▁pad▁｜>",
    "image_token": "<image_placeholder>",
    "boi_token": "<begin_of_image>",
    "eoi_token": "<end_of_image>",
}
ROLE_TOKENS = ["<|User|>", "<|Assistant|>"]
# A chat template of the converter's shape (never used by janus-eval, which writes the
# official template itself; saved so the processor is what the converter writes).
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'user' %}<|User|>: {% else %}<|Assistant|>: {% endif %}"
    "{% for content in message['content'] %}"
    "{% if content['type'] == 'image' %}<image_placeholder>\n{% else %}{{ content['text'] | trim }}{% endif %}"
    "{% endfor %}"
    "{% if message['role'] == 'user' %}\n\n{% else %}<｜end▁of▁sentence｜>{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|Assistant|>:{% endif %}"
)

# A small fixed corpus: the words the benchmarks' prompts and answers use, so the
# BPE merges are stable and the tokenizer is identical on every machine.
_CORPUS = """
Is there a person in the image? Please answer yes or no. Yes No yes no
Answer the question using a single word or phrase. What color is the car?
Answer with the option's letter from the given choices directly. A B C D
The image shows a red circle, a blue square and a green triangle on a white background.
You are a helpful language and vision assistant. You are able to understand the visual
content that the user provides, and assist the user with a variety of tasks using natural language.
a photo of a dog, a cat, two cups, three apples, left of, right of, above, below.
How many objects are there? one two three four five six seven eight nine ten
"""


def tiny_cache_dir() -> Path:
    return cache_root() / f"janus-tiny-v{TINY_VERSION}"


def _train_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token=None, byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    specials = [SPECIAL_TOKENS[k] for k in ("bos_token", "eos_token", "pad_token")]
    specials += [SPECIAL_TOKENS[k] for k in ("image_token", "boi_token", "eoi_token")] + ROLE_TOKENS
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator([line for line in _CORPUS.splitlines() if line], trainer=trainer)
    bos = SPECIAL_TOKENS["bos_token"]
    from tokenizers import processors

    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A", pair=f"{bos} $A $B", special_tokens=[(bos, tok.token_to_id(bos))]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=SPECIAL_TOKENS["bos_token"],
        eos_token=SPECIAL_TOKENS["eos_token"],
        pad_token=SPECIAL_TOKENS["eos_token"],  # not <｜▁pad▁｜>: code that trusts it pads wrongly
        extra_special_tokens={k: SPECIAL_TOKENS[k] for k in ("image_token", "boi_token", "eoi_token")},
        padding_side="left",
    )
    fast.add_special_tokens({"additional_special_tokens": ROLE_TOKENS})
    return fast


def build_tiny(path: Path) -> Path:
    """Write the tiny model and processor to `path` (deterministic: seed 0)."""
    import torch
    from transformers import (
        JanusConfig,
        JanusForConditionalGeneration,
        JanusImageProcessor,
        JanusProcessor,
        JanusVisionConfig,
        JanusVQVAEConfig,
        LlamaConfig,
    )

    tokenizer = _train_tokenizer()
    hidden = 32
    n_image_tokens = (TINY_IMAGE_SIZE // 16) ** 2
    text = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=2048,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        initializer_range=0.5,
    )
    vision = JanusVisionConfig(
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        image_size=TINY_IMAGE_SIZE,
        patch_size=16,
        projection_dim=hidden,
        depth=2,
        num_image_tokens=n_image_tokens,
        initializer_range=0.5,
    )
    vq = JanusVQVAEConfig(
        embed_dim=8,
        num_embeddings=64,
        latent_channels=32,
        base_channels=32,
        channel_multiplier=[1, 1, 1, 1, 1],
        num_res_blocks=1,
        projection_dim=hidden,
        image_token_embed_dim=hidden,
    )
    config = JanusConfig(
        text_config=text,
        vision_config=vision,
        vq_config=vq,
        image_token_id=tokenizer.convert_tokens_to_ids(SPECIAL_TOKENS["image_token"]),
    )
    torch.manual_seed(0)
    model = JanusForConditionalGeneration(config).eval()
    vocab = tokenizer.get_vocab()
    gen = model.generation_config  # as the converter writes it
    gen._from_model_config = False
    gen.bos_token_id = tokenizer.bos_token_id
    gen.eos_token_id = tokenizer.eos_token_id
    gen.temperature = 1
    gen.guidance_scale = 5
    gen.pad_token_id = vocab[SPECIAL_TOKENS["pad_token"]]
    gen.generation_kwargs = {"boi_token_id": vocab[SPECIAL_TOKENS["boi_token"]]}
    image_processor = JanusImageProcessor(  # the keys the converter copies from preprocessor_config.json
        size={"height": TINY_IMAGE_SIZE, "width": TINY_IMAGE_SIZE},
        image_mean=[0.5, 0.5, 0.5],
        image_std=[0.5, 0.5, 0.5],
        min_size=14,
        rescale_factor=1 / 255,
        do_normalize=True,
    )
    processor = JanusProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        chat_template=CHAT_TEMPLATE,
        use_default_system_prompt=True,
        num_image_tokens=n_image_tokens,
    )
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return path


def tiny_path() -> Path:
    """The tiny model's folder, built on first use."""
    path = tiny_cache_dir()
    if not (path / "config.json").exists() or not (path / "model.safetensors").exists():
        tmp = path.with_name(path.name + f".tmp{os.getpid()}")
        build_tiny(tmp)
        if path.exists():
            import shutil

            shutil.rmtree(path)
        tmp.rename(path)
    return path
