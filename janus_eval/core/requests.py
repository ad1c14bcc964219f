"""The requests a model is asked: the contract between the task stage and the model adapters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PIL import Image


@dataclass
class Ask:
    """An understanding request: images and the user's text.

    The images go in front of the text, one image placeholder each, in order (as
    the Janus authors' evaluation sends them); `roles` names the chat roles when
    the protocol fixes them (None: the checkpoint's own).
    """

    images: list[Image.Image]
    prompt: str
    max_new_tokens: int = 64
    system_prompt: str = ""
    roles: tuple[str, str] | None = None


@dataclass
class Draw:
    """A text-to-image request: `n_images` images of `prompt`, each seeded from `seeds[i]`."""

    prompt: str
    n_images: int
    seeds: list[int] = field(default_factory=list)
    cfg: float = 5.0
    temperature: float = 1.0
    system_prompt: str = ""  # the official text-to-image example uses none


@dataclass
class Prepared:
    """A batch of Asks ready for the model (what an adapter's preparer makes, off the critical
    path): the model's inputs, each Ask's token budget, and each Ask's whole prompt as the
    model reads it (system prompt and roles included, each image as one placeholder), which
    its record keeps."""

    inputs: Any
    max_new_tokens: list[int]
    prompts: list[str]
