"""Evaluation protocols: whose prompts, system prompts and chat roles a run sends.

The Janus authors published their evaluation as VLMEvalKit's Janus wrapper
(`vlmeval/vlm/janus.py`, pull request 541, "to reproduce the results in paper").
Each task's YAML holds that wrapper's prompt and system prompt. The protocols
differ in the chat roles, and a task's YAML may override its fields for one
protocol under `protocols: {<name>: {...}}`:

- `janus-pro` (default): the wrapper's prompts with each checkpoint's own roles,
  `<|User|>` / `<|Assistant|>` for the Pro models (their README and processor).
- `vlmevalkit`: the wrapper exactly, whose `User` / `Assistant` roles are the
  Janus-1.3B format, sent to every model, Pro included: the numbers VLMEvalKit
  prints for Janus-Pro, and one reason they are lower than the report's.

The protocol is part of every task's config (and so of its config hash): runs
made under different protocols are never resumed into one another or compared.
"""

from __future__ import annotations

from dataclasses import dataclass

from janus_eval.core.errors import UsageError


@dataclass(frozen=True)
class Protocol:
    name: str
    summary: str
    roles: tuple[str, str] | None  # None: the checkpoint's own chat roles


PROTOCOLS: dict[str, Protocol] = {
    p.name: p
    for p in (
        Protocol(
            "janus-pro",
            "the Janus authors' evaluation prompts (VLMEvalKit's Janus wrapper) in each checkpoint's own chat "
            "format: <|User|> / <|Assistant|> for Janus-Pro",
            None,
        ),
        Protocol(
            "vlmevalkit",
            "VLMEvalKit's Janus wrapper exactly: the same prompts with its User / Assistant roles for every "
            "model, Janus-Pro included",
            ("User", "Assistant"),
        ),
    )
}
DEFAULT_PROTOCOL = "janus-pro"


def get_protocol(name: str) -> Protocol:
    if name not in PROTOCOLS:
        raise UsageError(f"unknown --protocol '{name}'; use one of {', '.join(PROTOCOLS)}")
    return PROTOCOLS[name]
