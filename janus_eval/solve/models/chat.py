"""DeepSeek's chat format for Janus: the "deepseek" conversation template.

As `janus/utils/conversation.py` writes a one-turn conversation: the system
prompt and `\\n\\n` when there is one, `{User}: {content}\\n\\n`, then `{Assistant}:`
for the turn to come; each message is stripped before it goes in and the whole
prompt after (`apply_sft_template_for_multi_turn_prompt`, `get_prompt().strip()`).
"""

from __future__ import annotations

PRO_ROLES = ("<|User|>", "<|Assistant|>")  # Janus-Pro
JANUS_ROLES = ("User", "Assistant")  # Janus-1.3B
TURN_SEPARATORS = ("\n\n", "<｜end▁of▁sentence｜>")  # the template's sep and sep2, alternating
PAD_TOKEN = "<｜▁pad▁｜>"  # the official processor's pad tag


def chat_text(system_prompt: str, content: str, roles: tuple[str, str]) -> str:
    """The template's prompt for one user message and the assistant's turn to come."""
    messages = [(roles[0], content.strip()), (roles[1], "")]
    text = f"{system_prompt}\n\n" if system_prompt else ""
    for i, (role, message) in enumerate(messages):
        text += f"{role}: {message}{TURN_SEPARATORS[i % 2]}" if message else f"{role}:"
    return text.strip()


def pad_token_id(tokenizer) -> int:
    """The official pad id: the vocabulary's `<｜▁pad▁｜>` (VLChatProcessor's `pad_id`, which
    transformers' converter also writes as `generation_config.pad_token_id`); the tokenizer's
    own pad token only for a vocabulary without it."""
    vocab = tokenizer.get_vocab()
    if PAD_TOKEN in vocab:
        return int(vocab[PAD_TOKEN])
    if tokenizer.pad_token_id is not None:
        return int(tokenizer.pad_token_id)
    raise ValueError(f"the tokenizer has neither {PAD_TOKEN} nor a pad token; Janus pads with it")
